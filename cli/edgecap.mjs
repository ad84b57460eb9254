#!/usr/bin/env node
// Entry point of the `edgecap` command. Plain JavaScript so that it can refuse an old Node with a
// clear message before Node tries to load the TypeScript sources, which need Node 22.6+ type stripping.
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(
    `edgecap needs Node.js 22 or newer (found ${process.versions.node}). ` +
      "Run it as `npx edgecap ...` from the project folder after `npm ci`, which uses the pinned Node 24.",
  );
  process.exit(2);
}
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
