// The report site built from a fresh experiment run (real ONNX sessions on COCO photos), not from
// the fixture data: the runner's output must be what the site reads.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runExperimentCommand } from "../../../cli/commands/experiment.ts";
import { REPO_ROOT } from "../../helpers/paths.ts";
import {
  COCO_CAPTIONS,
  COCO_IMAGES,
  captureStream,
  workFolder,
  writeConfig,
} from "../experiment/doubles.ts";
import { buildSite, listPages } from "./site-harness.ts";

const PACKAGES = join(REPO_ROOT, "test", "fixtures", "packages");

describe("site from a fresh experiment run", () => {
  it("builds every page from the runner output", async () => {
    const dir = workFolder("fresh-site");
    const configPath = writeConfig(dir, "fresh.json", {
      schema: "edgecap.experiment/v1",
      id: "fresh-site",
      datasets: [{ id: "coco", captions: COCO_CAPTIONS, images: COCO_IMAGES, limit: 3 }],
      models: [{ id: "tiny", kind: "onnx", package: join(PACKAGES, "tiny-random") }],
      decoding: [
        { id: "greedy", options: { max_new_tokens: 5 } },
        { id: "beam2", options: { num_beams: 2, max_new_tokens: 5 } },
      ],
      clip: { package: join(PACKAGES, "tiny-random-clip") },
      attention: { first: 2 },
    });
    const runDir = join(dir, "run");
    const status = await runExperimentCommand(["--config", configPath, "--out", runDir], {
      stderr: captureStream(),
      stdout: captureStream(),
    });
    expect(status).toBe(0);

    const outDir = buildSite(runDir);
    const pages = listPages(outDir);

    expect(pages).toContain("/report/");
    expect(pages.some((page) => page.startsWith("/report/attention/"))).toBe(true);
    const index = readFileSync(join(outDir, "index.html"), "utf8");
    expect(index).toContain("tiny");
    expect(existsSync(join(outDir, "configs", "index.html"))).toBe(true);
  });
});
