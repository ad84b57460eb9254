// `npm start`: serves edgecap offline with `wrangler dev` on loopback. PORT sets the port (default
// 8787), INSPECTOR_PORT the devtools port (default 9229), WRANGLER_LOG wrangler's log level
// (default "log", the lowest level that still prints the Worker's console.log request lines),
// WRANGLER_PERSIST the local state folder
// (default .wrangler/state, where the local KV store of the embedding cache lives), and
// EDGECAP_DEV_VARS extra `--var NAME:VALUE` pairs separated by spaces (tests point LLAVA_BASE_URL
// at a fake server this way). npm runs scripts/build-assets.mjs first (prestart).
// wrangler is started in its own process group, because killing only its PID leaves node, workerd
// and esbuild children running. On SIGINT or SIGTERM the whole group is ended.
import { spawn } from "node:child_process";

const port = process.env.PORT ?? "8787";
const args = [
  "dev",
  "--local",
  "--ip",
  "127.0.0.1",
  "--port",
  port,
  "--inspector-port",
  process.env.INSPECTOR_PORT ?? "9229",
  "--log-level",
  process.env.WRANGLER_LOG ?? "log",
  "--show-interactive-dev-session=false",
];
if (process.env.WRANGLER_PERSIST) args.push("--persist-to", process.env.WRANGLER_PERSIST);
for (const pair of (process.env.EDGECAP_DEV_VARS ?? "").split(" ").filter(Boolean)) {
  args.push("--var", pair);
}

const child = spawn("wrangler", args, {
  stdio: "inherit",
  detached: true,
  env: {
    ...process.env,
    // Offline: without these wrangler fetches a cf.json at start and sends usage metrics.
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
  },
});

function stopGroup(signal) {
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if (error.code !== "ESRCH") throw error;
  }
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => stopGroup(signal));
}

child.on("exit", (code, signal) => {
  stopGroup("SIGTERM");
  process.exit(code ?? (signal === null ? 0 : 1));
});
