// Regenerates the committed report data (site/data) from experiments/default.json.
//
// `edgecap experiment` never writes over an existing run, so a second run cannot append to the
// first by accident. This script runs the experiment into a fresh sibling folder and swaps it in
// only when the run succeeds, so a failed or interrupted run leaves the old site/data in place.
import { spawnSync } from "node:child_process";
import { existsSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "site", "data");
const next = join(root, "site", "data.next");
const previous = join(root, "site", "data.previous");
const config = process.argv[2] ?? "experiments/default.json";

// A folder left by an interrupted refresh would make the experiment reject the output folder.
rmSync(next, { recursive: true, force: true });
rmSync(previous, { recursive: true, force: true });

const run = spawnSync(
  process.execPath,
  [join(root, "cli", "edgecap.mjs"), "experiment", "--config", config, "--out", next],
  { cwd: root, stdio: "inherit" },
);
if (run.status !== 0) {
  console.error(
    `edgecap experiment failed (exit ${run.status ?? run.signal}); site/data is unchanged and the partial run is in ${next}`,
  );
  process.exit(run.status ?? 1);
}

if (existsSync(target)) renameSync(target, previous);
renameSync(next, target);
rmSync(previous, { recursive: true, force: true });
console.log(`site/data now contains the run of ${config}`);
