// Loopback servers of the widget browser tests: the edgecap service through `npm start` (wrangler
// dev) and plain node:http host pages on other ports, so the widget runs cross-origin as it does
// when another site embeds it.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OWNER_DATA_DIR, REPO_ROOT } from "../../helpers/paths.ts";

export const HOST_PAGE = join(REPO_ROOT, "test/fixtures/widget/host.html");
export const PHOTO = join(OWNER_DATA_DIR, "data/coco-mini/val2017/000000000139.jpg");

export interface RunningServer {
  origin: string;
  close(): Promise<void>;
}

/**
 * Returns a port that the OS reported free a moment ago, because wrangler needs a number up front.
 */
export async function findFreePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("No TCP port was assigned.");
  return address.port;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string")
        throw new Error("No TCP port was assigned.");
      resolve(`http://127.0.0.1:${address.port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Serves the host page with `EDGE_ORIGIN` filled in at /host.html, and the photo at /photo.jpg
 * without CORS headers, so only pages of this same origin can read its bytes.
 */
export async function startHostServer(edgeOrigin: () => string): Promise<RunningServer> {
  const [page, photo] = await Promise.all([readFile(HOST_PAGE, "utf8"), readFile(PHOTO)]);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://host").pathname;
    if (path === "/host.html") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      response.end(page.replaceAll("EDGE_ORIGIN", edgeOrigin()));
    } else if (path === "/photo.jpg") {
      response.writeHead(200, { "content-type": "image/jpeg" });
      response.end(photo);
    } else {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end(`Not found: ${path}`);
    }
  });
  const origin = await listen(server);
  return { origin, close: () => closeServer(server) };
}

function stopGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

export interface EdgeService extends RunningServer {
  /** Resolves once GET /healthz responds with 200, and rejects when `npm start` exits first. */
  ready: Promise<void>;
  /** stdout and stderr of `npm start` so far, for failure messages. */
  output(): string;
}

/**
 * Starts `npm start` in its own process group on a free port, with ALLOWED_ORIGINS set. The caller
 * awaits `ready`, and calls `close` even when `ready` rejects: it ends the whole group, wrangler's
 * workerd children included.
 */
export async function startEdgeService(allowedOrigins: readonly string[]): Promise<EdgeService> {
  const [port, inspectorPort] = [await findFreePort(), await findFreePort()];
  const origin = `http://127.0.0.1:${port}`;
  // A state folder of its own, so that this server shares no KV entries with other runs.
  const persistDir = await mkdtemp(join(tmpdir(), "edgecap-widget-wrangler-"));
  let output = "";

  const child = spawn("npm", ["start"], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: String(port),
      INSPECTOR_PORT: String(inspectorPort),
      WRANGLER_PERSIST: persistDir,
      // scripts/dev.mjs passes each NAME:VALUE pair to `wrangler dev --var`, which overrides
      // [vars].
      EDGECAP_DEV_VARS: `ALLOWED_ORIGINS:${allowedOrigins.join(",")}`,
      WRANGLER_LOG: "warn",
    },
  });
  const append = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );

  const close = async (): Promise<void> => {
    if (!exited) {
      stopGroup(child, "SIGTERM");
      await exit;
    }
    await rm(persistDir, { recursive: true, force: true });
  };

  // wrangler dev bundles the Worker and starts workerd before it responds, so poll until it does.
  const ready = (async () => {
    for (;;) {
      if (exited) throw new Error(`npm start exited before serving ${origin}. Output:\n${output}`);
      try {
        const response = await fetch(`${origin}/healthz`);
        if (response.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();

  return { origin, ready, close, output: () => output };
}
