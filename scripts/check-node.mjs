// Guards npm scripts against running on the machine's Node 20. The pinned `node` devDependency
// puts a Node 24 binary in node_modules/.bin, but `npm ci --ignore-scripts` skips installing it and
// npm then silently falls back to the system Node, where wrangler, vitest and astro fail obscurely.
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(
    `edgecap needs Node.js 22 or newer, but this script runs on Node ${process.versions.node}.\n` +
      "Run `npm ci` (without --ignore-scripts) so the pinned Node 24 lands in node_modules/.bin,\n" +
      "then start scripts through `npm run` or `npx`, which put that binary first on PATH.",
  );
  process.exit(1);
}
