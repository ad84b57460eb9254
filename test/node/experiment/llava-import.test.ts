// The llava-import path end to end: the real `edgecap experiment` process on the sample output of
// models/llava/caption_attention.py in test/fixtures/llava (synthetic tensors, not a LLaVA result).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  attentionDocumentSchema,
  predictionRowSchema,
  reportSchema,
  runMetadataSchema,
} from "../../../shared/report/schema.ts";
import { REPO_ROOT } from "../../helpers/paths.ts";
import { workFolder, writeConfig } from "./doubles.ts";

const EDGECAP = join(REPO_ROOT, "cli", "edgecap.mjs");
const FIXTURE = join(REPO_ROOT, "test", "fixtures", "llava");
const dir = workFolder("llava");

function edgecap(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [EDGECAP, ...args], {
    encoding: "utf8",
    cwd: REPO_ROOT,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Reference captions written for this test, so the scorers have something to compare with.
const references = {
  images: [
    { id: 1, file_name: "synthetic-000001.png" },
    { id: 2, file_name: "synthetic-000002.png" },
  ],
  annotations: [
    { image_id: 1, caption: "a red kite flying over a sandy beach" },
    { image_id: 1, caption: "a kite in the sky above the beach" },
    { image_id: 2, caption: "a dog lying on a red sofa" },
    { image_id: 2, caption: "a brown dog on a couch" },
  ],
};

function config(datasets: unknown[]): unknown {
  return {
    schema: "edgecap.experiment/v1",
    id: "llava-sample",
    title: "LLaVA import sample",
    datasets,
    models: [{ id: "llava-sample", kind: "llava-import", folder: FIXTURE }],
    attention: { first: 1 },
  };
}

describe("experiment llava-import", () => {
  it("imports, scores and reports the fixture runs", () => {
    const captionsPath = writeConfig(dir, "references.json", references);
    const configPath = writeConfig(
      dir,
      "with-references.json",
      config([{ id: "sample", synthetic: true, captions: captionsPath }]),
    );
    const outDir = join(dir, "with-references");

    const result = edgecap("experiment", "--config", configPath, "--out", outDir);
    expect(result.stderr).not.toContain("edgecap experiment:");
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(join(outDir, "report.json"));

    const rows = readFileSync(join(outDir, "predictions", "sample", "llava-sample.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => predictionRowSchema.parse(JSON.parse(line)));
    expect(rows.map((row) => [row.config, row.image, row.captions[0]])).toEqual([
      ["beam2-i0", "synthetic-000001", "a red kite over the beach"],
      ["beam2-i0", "synthetic-000002", "a dog on a red sofa"],
    ]);
    expect(rows[0]?.attention).toBe("attention/sample/llava-sample/beam2-i0/synthetic-000001.json");
    expect(rows[1]?.attention).toBeNull();

    const dumped = attentionDocumentSchema.parse(
      JSON.parse(readFileSync(join(outDir, rows[0]?.attention as string), "utf8")),
    );
    const fixture = JSON.parse(
      readFileSync(join(FIXTURE, "attention", "beam2-i0.json"), "utf8"),
    )[0];
    expect(dumped).toEqual(fixture);

    const metadata = runMetadataSchema.parse(
      JSON.parse(readFileSync(join(outDir, "run.json"), "utf8")),
    );
    expect(metadata.models).toEqual([
      {
        id: "llava-sample",
        label: "synthetic-llava-fixture",
        kind: "llava-import",
        family: "llava",
        sha256: null,
        synthetic: true,
        source: FIXTURE,
        configs: ["beam2-i0"],
      },
    ]);

    const report = reportSchema.parse(
      JSON.parse(readFileSync(join(outDir, "report.json"), "utf8")),
    );
    expect(report.configs).toEqual([
      {
        id: "beam2-i0",
        label: "beam2-i0",
        decoding: "beam2",
        options: { num_beams: 2, num_return_sequences: 2, max_new_tokens: 30 },
        instruction: "Describe this image using one or more simple sentences.",
      },
    ]);
    expect(report.models[0]?.synthetic).toBe(true);
    expect(report.datasets[0]).toEqual({
      id: "sample",
      label: "sample",
      synthetic: true,
      imageCount: 2,
      hasReferences: true,
      imageRoot: null,
    });

    const [headline] = report.results;
    expect(headline?.imageCount).toBe(2);
    expect(headline?.metrics.cider_d).toBeGreaterThan(0);
    expect(headline?.metrics.bleu_1).toBeGreaterThan(0.5);
    expect(headline?.metrics.length).toBe(6);
    // No image files and no CLIP package: the CLIP metrics are absent, not zero.
    expect(headline?.metrics.clip_score).toBeNull();
    expect(headline?.metrics.ref_clip_score).toBeNull();
    expect(report.clipScoreExtremes).toEqual([]);
    expect(report.images.map((image) => image.file)).toEqual([
      "synthetic-000001.png",
      "synthetic-000002.png",
    ]);
  });

  it("imports without references", () => {
    const configPath = writeConfig(
      dir,
      "ids-only.json",
      config([
        {
          id: "sample",
          synthetic: true,
          imageIds: ["synthetic-000001", "synthetic-000002", "synthetic-000003"],
        },
      ]),
    );
    const outDir = join(dir, "ids-only");
    const result = edgecap("experiment", "--config", configPath, "--out", outDir);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("1 without a caption in the import");

    const report = reportSchema.parse(
      JSON.parse(readFileSync(join(outDir, "report.json"), "utf8")),
    );
    const [headline] = report.results;
    expect(headline?.imageCount).toBe(2);
    expect(headline?.missingImages).toBe(1);
    expect(headline?.metrics.cider_d).toBeNull();
    expect(headline?.metrics.length).toBe(6);
    expect(report.images[2]?.results).toEqual([]);
  });

  it("rejects an import folder without runs.json", () => {
    const configPath = writeConfig(dir, "no-runs.json", {
      ...(config([{ id: "sample", imageIds: ["a"] }]) as object),
      models: [{ id: "llava-sample", kind: "llava-import", folder: dir }],
    });
    const result = edgecap("experiment", "--config", configPath, "--out", join(dir, "no-runs"));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("runs.json: file not found");
  });
});
