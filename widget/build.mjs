// Bundles and minifies widget/src into widget/dist/edgecap-widget.js, the file the Worker serves at
// GET /widget.js. The output is committed, so a clean clone serves it without building, and
// test/node/widget/build.test.ts checks that it equals a fresh build.
//
//   node widget/build.mjs                  write widget/dist/edgecap-widget.js
//   node widget/build.mjs --outfile PATH   write the bundle to PATH instead
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const ENTRY = fileURLToPath(new URL("./src/index.ts", import.meta.url));
export const DEFAULT_OUTFILE = fileURLToPath(new URL("./dist/edgecap-widget.js", import.meta.url));

/**
 * Bundles the widget and returns the minified text. Equal sources and esbuild versions give equal
 * bytes.
 */
export async function bundleWidget() {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    minify: true,
    // A classic script, so that document.currentScript is set while it runs.
    format: "iife",
    // Private and static class fields need ES2022, which current Chrome, Firefox and Safari
    // support.
    target: ["es2022"],
    platform: "browser",
    charset: "utf8",
    legalComments: "none",
    write: false,
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (output === undefined)
    throw new Error("esbuild returned no output file for widget/src/index.ts.");
  return output.text;
}

async function main() {
  const { values } = parseArgs({ options: { outfile: { type: "string" } } });
  const outfile = values.outfile ?? DEFAULT_OUTFILE;
  const bundle = await bundleWidget();
  await mkdir(dirname(outfile), { recursive: true });
  await writeFile(outfile, bundle);
  console.log(`Wrote ${outfile} (${Buffer.byteLength(bundle)} bytes).`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
