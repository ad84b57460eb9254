// Builds the static-asset folder that wrangler serves through the ASSETS binding (`[assets]` in
// wrangler.toml), so model files never enter the Worker bundle:
//   .edgecap/assets/models/<package>/...   every package of models/packages/ and test/fixtures/packages/
//   .edgecap/assets/models/index.json      the package list the Worker reads to resolve model ids
//   .edgecap/assets/report/...             site/dist, once the report site is built
//   .edgecap/widget/edgecap-widget.js.txt  widget/dist/edgecap-widget.js (or a placeholder), which
//                                          functions/routes/widget.ts imports as text
// The folder contains its own .gitignore, so git ignores the generated files.
// Usage: node scripts/build-assets.mjs [--production]
// npm runs it before `start`, `test` and `bench`. --production leaves out the test fixture
// packages, for `wrangler deploy`.
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const OUT = join(ROOT, ".edgecap");
const ASSETS = join(OUT, "assets");

// Cloudflare rejects static assets above 25 MiB per file (Workers static assets limits, 2026).
const MAX_ASSET_BYTES = 25 * 1024 * 1024;

// Packages of the trained models come first, so a model id present in both folders resolves to them.
const PRODUCTION = process.argv.includes("--production");
const PACKAGE_ROOTS = PRODUCTION
  ? ["models/packages"]
  : ["models/packages", "test/fixtures/packages"];

function sha256File(path) {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function listPackages() {
  const packages = [];
  const seen = new Set();
  for (const root of PACKAGE_ROOTS) {
    const dir = join(ROOT, root);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const manifestPath = join(dir, name, "manifest.json");
      if (!existsSync(manifestPath)) continue;
      if (seen.has(name)) {
        console.warn(
          `build-assets: skipping ${root}/${name}: a package named ${name} was already added`,
        );
        continue;
      }
      seen.add(name);
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
      packages.push({
        name,
        id: manifest.id,
        kind: manifest.kind,
        source: root,
        manifest_sha256: sha256File(manifestPath),
        dir: join(dir, name),
      });
    }
  }
  return packages;
}

function copyPackage(pkg) {
  const target = join(ASSETS, "models", pkg.name);
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(pkg.dir)) {
    const from = join(pkg.dir, file);
    if (!statSync(from).isFile()) continue;
    const bytes = statSync(from).size;
    if (bytes > MAX_ASSET_BYTES) {
      console.warn(
        `build-assets: ${pkg.source}/${pkg.name}/${file} is ${bytes} bytes, above Cloudflare's 25 MiB limit per static asset; wrangler deploy will reject it`,
      );
    }
    cpSync(from, join(target, file));
  }
}

const WIDGET_SOURCE = join(ROOT, "widget/dist/edgecap-widget.js");
// functions/routes/widget.ts returns 503 while the widget text starts with this marker.
const WIDGET_PLACEHOLDER =
  '/* edgecap-widget: not built */\nconsole.warn("edgecap: the widget is not built yet; build widget/ and restart the server");\n';

function buildWidget() {
  const target = join(OUT, "widget");
  mkdirSync(target, { recursive: true });
  const text = existsSync(WIDGET_SOURCE) ? readFileSync(WIDGET_SOURCE, "utf8") : WIDGET_PLACEHOLDER;
  writeFileSync(join(target, "edgecap-widget.js.txt"), text);
  return existsSync(WIDGET_SOURCE);
}

rmSync(ASSETS, { recursive: true, force: true });
mkdirSync(join(ASSETS, "models"), { recursive: true });
writeFileSync(join(OUT, ".gitignore"), "*\n");

const packages = listPackages();
for (const pkg of packages) copyPackage(pkg);
const index = {
  schema: "edgecap.model-index/v1",
  packages: packages.map(({ name, id, kind, source, manifest_sha256 }) => ({
    name,
    id,
    kind,
    source,
    manifest_sha256,
  })),
};
writeFileSync(join(ASSETS, "models", "index.json"), `${JSON.stringify(index, null, 2)}\n`);

const siteDist = join(ROOT, "site/dist");
const hasReport = existsSync(siteDist);
if (hasReport) cpSync(siteDist, join(ASSETS, "report"), { recursive: true });
const hasWidget = buildWidget();

console.log(
  `build-assets: ${packages.length} model packages (${packages.map((pkg) => pkg.name).join(", ")}), ` +
    `report ${hasReport ? "copied" : "absent (site/dist not built)"}, widget ${hasWidget ? "copied" : "placeholder"} -> .edgecap/`,
);
