// `npm start`: serves edgecap offline with `wrangler dev` on loopback (port from PORT, default 8787).
// wrangler is started in its own process group because killing only its PID leaves node, workerd
// and esbuild children running; on SIGINT/SIGTERM the whole group is ended.
import { spawn } from "node:child_process";

const port = process.env.PORT ?? "8787";
const args = ["dev", "--ip", "127.0.0.1", "--port", port, "--log-level", process.env.WRANGLER_LOG ?? "info"];

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
