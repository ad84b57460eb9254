// The onnx path with real ONNX Runtime sessions: the tiny random captioner and CLIP packages in
// test/fixtures/packages on three COCO photos. Their captions are noise; the test checks the wiring.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runExperimentCommand } from "../../../cli/commands/experiment.ts";
import {
  attentionDocumentSchema,
  predictionRowSchema,
  reportSchema,
} from "../../../shared/report/schema.ts";
import { REPO_ROOT } from "../../helpers/paths.ts";
import { COCO_CAPTIONS, COCO_IMAGES, captureStream, workFolder, writeConfig } from "./doubles.ts";

const PACKAGES = join(REPO_ROOT, "test", "fixtures", "packages");

describe("experiment with ONNX packages", () => {
  it("captions, dumps attention and scores CLIPScore", async () => {
    const dir = workFolder("onnx");
    const configPath = writeConfig(dir, "tiny.json", {
      schema: "edgecap.experiment/v1",
      id: "tiny-random",
      datasets: [{ id: "coco", captions: COCO_CAPTIONS, images: COCO_IMAGES, limit: 3 }],
      models: [{ id: "tiny", kind: "onnx", package: join(PACKAGES, "tiny-random") }],
      decoding: [
        { id: "greedy", options: { max_new_tokens: 6 } },
        { id: "beam2", options: { num_beams: 2, num_return_sequences: 2, max_new_tokens: 6 } },
      ],
      clip: { package: join(PACKAGES, "tiny-random-clip") },
      attention: { first: 1 },
    });
    const outDir = join(dir, "out");
    const stderr = captureStream();

    const status = await runExperimentCommand(["--config", configPath, "--out", outDir], {
      stderr,
      stdout: captureStream(),
    });
    expect(stderr.text()).not.toContain("edgecap experiment:");
    expect(status).toBe(0);

    const rows = readFileSync(join(outDir, "predictions", "coco", "tiny.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => predictionRowSchema.parse(JSON.parse(line)));
    expect(rows).toHaveLength(6);
    expect(rows.find((row) => row.config === "beam2")?.captions).toHaveLength(2);
    expect(Object.keys(rows[0]?.timings ?? {})).toEqual([
      "preprocess_ms",
      "encode_ms",
      "generate_ms",
      "wall_ms",
    ]);

    const dumps = rows.filter((row) => row.attention !== null);
    expect(dumps.map((row) => row.image)).toEqual(["000000397133", "000000397133"]);
    for (const row of dumps) {
      const document = attentionDocumentSchema.parse(
        JSON.parse(readFileSync(join(outDir, row.attention as string), "utf8")),
      );
      expect(document.image.id).toBe("000000397133");
      expect(document.hypotheses[0]?.caption).toBe(row.captions[0]);
    }

    const report = reportSchema.parse(
      JSON.parse(readFileSync(join(outDir, "report.json"), "utf8")),
    );
    expect(report.models[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const result of report.results) {
      expect(result.imageCount).toBe(3);
      expect(result.metrics.clip_score).not.toBeNull();
      expect(result.metrics.ref_clip_score).not.toBeNull();
      expect(result.metrics.cider_d).not.toBeNull();
    }
  });
});
