// Starts `npm start` (wrangler dev on loopback) on ephemeral ports in its own process group, waits
// for /healthz, and stops the whole group again. Used by the Node-side edge tests and benchmarks.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.ts";

export interface EdgeServer {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** Everything the server printed so far (wrangler's and the Worker's log lines). */
  output(): string;
  stop(): Promise<void>;
}

export interface EdgeServerOptions {
  /** Worker variables passed as `--var NAME:VALUE`; values must not contain spaces. */
  vars?: Record<string, string>;
  /** Local state folder (KV store, rate-limit counters); a fresh temporary one by default. */
  persistDir?: string;
}

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function stopGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Starts the server and resolves once /healthz returns 200; rejects with the output if it exits first. */
export async function startEdgeServer(options: EdgeServerOptions = {}): Promise<EdgeServer> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), "edgecap-state-"));
  const vars = Object.entries(options.vars ?? {}).map(([name, value]) => `${name}:${value}`);

  const child = spawn("npm", ["start"], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: String(port),
      INSPECTOR_PORT: String(inspectorPort),
      WRANGLER_PERSIST: persistDir,
      EDGECAP_DEV_VARS: vars.join(" "),
    },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );

  const baseUrl = `http://127.0.0.1:${port}`;
  let running = true;
  void exited.then(() => {
    running = false;
  });
  // Polls until wrangler is ready; the first start bundles the Worker, which takes seconds.
  for (;;) {
    if (!running) throw new Error(`npm start exited before it served requests:\n${output}`);
    try {
      const response = await fetch(`${baseUrl}/healthz`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  return {
    baseUrl,
    output: () => output,
    async stop() {
      if (!running) return;
      stopGroup(child, "SIGTERM");
      const timer = setTimeout(() => stopGroup(child, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);

      // npm exits at once, while scripts/dev.mjs ends wrangler's own group: wait until the port closes.
      for (let attempt = 0; attempt < 80; attempt++) {
        try {
          await fetch(`${baseUrl}/healthz`);
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
  };
}
