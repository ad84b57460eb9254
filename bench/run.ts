// Runs every bench/*.bench.ts in its own Node process, one after another, so that one benchmark's
// JIT state and garbage do not affect the next. Exits with status 1 when any benchmark fails.
// Usage: npx node bench/run.ts [NAME_FILTER]

import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const filter = process.argv[2] ?? "";
const files = readdirSync(benchDir)
  .filter((file) => file.endsWith(".bench.ts") && file.includes(filter))
  .sort();

if (files.length === 0) {
  console.error(`no bench/*.bench.ts file matches "${filter}"`);
  process.exit(2);
}

const failed: string[] = [];
for (const file of files) {
  console.log(`\n## ${file}\n`);
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url))], {
    stdio: "inherit",
  });
  if (result.status !== 0) failed.push(`${file} (exit status ${result.status ?? result.signal})`);
}

if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(", ")}`);
  process.exitCode = 1;
}
