// `wrangler deploy --dry-run` bundles the Worker without uploading it. The bundle must stay within
// the Workers Paid plan's script size limit (10 MB after gzip compression, Cloudflare's Workers
// limits page, checked 2026-12), and no model file may be inside it: models are static assets.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/paths.ts";

const PAID_PLAN_LIMIT_GZIP_BYTES = 10_000_000;

let outdir: string;
let output: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "edgecap-bundle-"));
  spawnSync("node", ["scripts/build-assets.mjs"], { cwd: REPO_ROOT, encoding: "utf8" });
  const result = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
  });
  output = `${result.stdout}\n${result.stderr}`;
  expect(result.status, output).toBe(0);
});

describe("wrangler deploy --dry-run", () => {
  it("bundle fits the paid plan after gzip", () => {
    const modules = readdirSync(outdir).filter(
      (name) => !name.endsWith(".map") && name !== "README.md",
    );
    const gzipBytes = modules.reduce(
      (total, name) => total + gzipSync(readFileSync(join(outdir, name))).length,
      0,
    );

    expect(modules).toContain("index.js");
    expect(gzipBytes).toBeGreaterThan(0);
    expect(gzipBytes).toBeLessThan(PAID_PLAN_LIMIT_GZIP_BYTES);
  });

  it("keeps model files out of the bundle", () => {
    const files = readdirSync(outdir);
    expect(files.filter((name) => name.endsWith(".onnx"))).toEqual([]);
    expect(files.some((name) => name.includes("tokenizer"))).toBe(false);
    expect(output).toContain("assets directory");
  });
});
