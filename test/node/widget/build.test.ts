// The committed widget bundle: it must equal a fresh build of widget/src (the Worker serves the
// committed file, and CI runs from a clean clone without building it), and stay within its budget.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../helpers/paths.ts";

const COMMITTED = join(REPO_ROOT, "widget/dist/edgecap-widget.js");
// 15 KB budget for the gzipped script, counted as 15,000 bytes at gzip level 9.
const MAX_GZIPPED_BYTES = 15_000;

let workDir: string;
let fresh: string;
let committed: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "edgecap-widget-build-"));
  const outfile = join(workDir, "edgecap-widget.js");
  await promisify(execFile)(process.execPath, ["widget/build.mjs", "--outfile", outfile], {
    cwd: REPO_ROOT,
  });
  [fresh, committed] = await Promise.all([readFile(outfile, "utf8"), readFile(COMMITTED, "utf8")]);
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe("widget bundle", () => {
  it("committed file equals a fresh build", () => {
    // On failure: run `npx node widget/build.mjs` and commit widget/dist/edgecap-widget.js.
    expect(committed === fresh).toBe(true);
  });

  it("gzipped size is within budget", () => {
    const gzipped = gzipSync(Buffer.from(committed), { level: 9 }).byteLength;
    expect(gzipped).toBeLessThanOrEqual(MAX_GZIPPED_BYTES);
  });

  it("never assigns HTML strings", () => {
    expect(committed).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it("registers the custom element", () => {
    expect(committed).toContain('"edgecap-caption"');
  });
});
