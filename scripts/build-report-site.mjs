// Builds the report site (site/dist) before `npm start`, so the Worker serves it at /report/.
// The data comes from EDGECAP_REPORT_DATA or site/data, which `npm run report` fills with a fresh
// experiment run. Without a report.json there, the start goes on without the report and prints a warning.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const dataDir = process.env.EDGECAP_REPORT_DATA ?? join(ROOT, "site/data");

if (!existsSync(join(dataDir, "report.json"))) {
  console.warn(
    `build-report-site: no report.json in ${dataDir}; /report/ stays empty. Run \`npm run report\` to create it.`,
  );
  process.exit(0);
}

const result = spawnSync("npm", ["run", "--silent", "build:site"], {
  cwd: ROOT,
  stdio: "inherit",
  env: { ...process.env, EDGECAP_REPORT_DATA: dataDir },
});
if (result.status !== 0) {
  console.error(
    `build-report-site: the site build failed (exit ${result.status}); see the output above`,
  );
  process.exit(result.status ?? 1);
}
