// Test harness of the report site: builds it from a data folder into a temporary folder and serves
// the result on loopback under the same base path as the Worker (`/report/`).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, relative, sep } from "node:path";
import { REPO_ROOT } from "../../helpers/paths.ts";

export const SITE_BASE = "/report/";

/** Runs `astro build --root site` with `dataFolder` as EDGECAP_REPORT_DATA; returns the output folder. */
export function buildSite(dataFolder: string): string {
  const outDir = mkdtempSync(join(tmpdir(), "edgecap-site-"));
  const astro = join(REPO_ROOT, "node_modules/astro/bin/astro.mjs");
  const result = spawnSync(
    process.execPath,
    [astro, "build", "--root", "site", "--outDir", outDir],
    {
      cwd: REPO_ROOT,
      env: {
        ...buildEnvironment(),
        EDGECAP_REPORT_DATA: dataFolder,
        ASTRO_TELEMETRY_DISABLED: "1",
      },
      encoding: "utf8",
    },
  );
  if (result.status !== 0) {
    throw new Error(
      `astro build failed with status ${result.status}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return outDir;
}

// Vitest exports Vite's mode variables into process.env (BASE_URL=/, MODE=test, ...), and Vite in
// the child build would read them back as import.meta.env, dropping the site's base path.
const VITE_MODE_VARIABLES = new Set(["BASE_URL", "MODE", "DEV", "PROD", "SSR", "NODE_ENV"]);

function buildEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !VITE_MODE_VARIABLES.has(name) && !name.startsWith("VITEST"),
    ),
  );
}

/** Site paths (under SITE_BASE) of every built HTML page, sorted. */
export function listPages(outDir: string): string[] {
  const pages: string[] = [];
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name === "index.html") {
        const folderPath = relative(outDir, folder).split(sep).join("/");
        pages.push(`${SITE_BASE}${folderPath === "" ? "" : `${folderPath}/`}`);
      }
    }
  };
  walk(outDir);
  return pages.sort();
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".svg": "image/svg+xml",
  ".json": "application/json",
};

export interface StaticServer {
  origin: string;
  close: () => Promise<void>;
}

/** Serves `outDir` at SITE_BASE on 127.0.0.1 with an ephemeral port; a folder serves its index.html. */
export async function serveFolder(outDir: string): Promise<StaticServer> {
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    if (!url.pathname.startsWith(SITE_BASE)) {
      response.writeHead(404).end(`not under ${SITE_BASE}: ${url.pathname}`);
      return;
    }
    const inner = decodeURIComponent(url.pathname.slice(SITE_BASE.length));
    let path = normalize(join(outDir, inner));
    if (!path.startsWith(outDir)) {
      response.writeHead(403).end();
      return;
    }
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, "index.html");
    if (!existsSync(path)) {
      response.writeHead(404).end(`not found: ${url.pathname}`);
      return;
    }
    response.writeHead(200, {
      "Content-Type": CONTENT_TYPES[extname(path)] ?? "application/octet-stream",
    });
    response.end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
