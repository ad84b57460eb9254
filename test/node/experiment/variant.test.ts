import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LoadedConfig } from "../../../cli/experiment/config.ts";
import { readVariantMetadata } from "../../../cli/experiment/variant.ts";
import { trainingRunSchema } from "../../../shared/report/schema.ts";
import { workFolder } from "./doubles.ts";

const dir = workFolder("variant");
const loaded = { baseDir: dir } as LoadedConfig;
const metricsPath = join(dir, "metrics.json");
const malformedPath = join(dir, "malformed.json");

// The fields models/edgecap_models/train_captioner.py records for one run, scored on the test split.
const TEST_SCORES = {
  batch_images: 16,
  test_images: 300,
  decoding: "greedy",
  kind_words: 600,
  hallucinated_kind_words: 450,
};

// The shape that models/edgecap_models/train_demo.py and release.py write: one run with a field of
// the wrong type, one continued run that the release script re-measured as exported, and one run
// from an older script that did not record init_from and batch_images.
writeFileSync(
  metricsPath,
  JSON.stringify({
    command: "train",
    captioner: {
      r16_a32: {
        ...TEST_SCORES,
        variant: "r16_a32",
        rank: 16,
        alpha: 32.0,
        projection: "mlp",
        trainable_params: 1234567,
        steps: 280,
        epochs: "0.75",
        final_train_loss: 1.25,
        init_from: null,
        cider_d: 0.59,
        grounding: 0.17,
      },
      r16_a32_long: {
        ...TEST_SCORES,
        variant: "r16_a32_long",
        rank: 16,
        alpha: 32.0,
        projection: "mlp",
        trainable_params: 1234567,
        steps: 560,
        epochs: 1.5,
        final_train_loss: 0.91,
        init_from: "models/work/captioner_r16_a32.pt",
        cider_d: 1.05,
        grounding: 0.13,
      },
      r64_a16: {
        variant: "r64_a16",
        rank: 64,
        alpha: 16.0,
        projection: "mlp",
        trainable_params: 3913408,
        steps: 280,
        epochs: 0.75,
        final_train_loss: 1.16,
        test_images: 300,
        decoding: "greedy",
        cider_d: 0.58,
        grounding: 0.16,
        kind_words: 622,
        hallucinated_kind_words: 459,
      },
    },
    exported: {
      command: "release",
      captioner: {
        r16_a32: { variant: "r16_a32", measured: "trained weights, before rounding" },
        r16_a32_long: {
          variant: "r16_a32_long",
          measured: "exported weights (LoRA merged, int8 / fp16 rounded)",
          cider_d: 1.04,
          grounding: 0.12,
        },
      },
    },
  }),
);

// Entries that cannot all be read: a run that is no object, a run with more hallucinated kind words
// than kind words, an exported grounding outside [0, 1] and an exported entry without a run.
writeFileSync(
  malformedPath,
  JSON.stringify({
    captioner: {
      broken: "r16_a32",
      r8_a16: {
        ...TEST_SCORES,
        rank: 8,
        alpha: 16,
        projection: "mlp",
        trainable_params: 600000,
        steps: 100,
        epochs: 0.27,
        final_train_loss: 1.3,
        init_from: null,
        cider_d: 0.4,
        grounding: 0.1,
        kind_words: 10,
        hallucinated_kind_words: 12,
      },
    },
    exported: {
      captioner: {
        r8_a16: { measured: "exported weights", cider_d: 0.39, grounding: 1.5 },
        r4_a8: { measured: "exported weights", cider_d: 0.2 },
      },
    },
  }),
);
writeFileSync(
  join(dir, "unfinished.json"),
  JSON.stringify({ command: "train", decoder: { steps: 200 } }),
);

describe("variant metadata", () => {
  it("reads a metrics file entry", async () => {
    const { variant, warnings } = await readVariantMetadata(loaded, "demo", {
      metrics: "metrics.json",
      name: "r16_a32",
    });
    expect(variant).toMatchObject({
      source: "metrics.json",
      name: "r16_a32",
      rank: 16,
      alpha: 32,
      trainableParams: 1234567,
      steps: 280,
      projection: "mlp",
      finalTrainLoss: 1.25,
    });
    expect(variant).not.toHaveProperty("epochs");
    expect(warnings).toContain(
      `model "demo": ignored invalid "epochs" "0.75" of captioner run "r16_a32" in "${metricsPath}"; fix or remove it in the metrics file`,
    );
  });

  it("lets config fields override the file", async () => {
    const { variant } = await readVariantMetadata(loaded, "demo", {
      metrics: "metrics.json",
      name: "r16_a32",
      epochs: 2,
    });
    expect(variant?.epochs).toBe(2);
    expect(variant?.rank).toBe(16);
  });

  it("warns about a missing file", async () => {
    const { variant, warnings } = await readVariantMetadata(loaded, "demo", {
      metrics: "absent.json",
      name: "r16_a32",
      rank: 8,
    });
    expect(variant).toEqual({ source: "config", name: "r16_a32", rank: 8 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("not found");
  });

  it("warns about a file without captioners", async () => {
    const { variant, warnings } = await readVariantMetadata(loaded, "demo", {
      metrics: "unfinished.json",
      name: "r16_a32",
    });
    expect(variant).toEqual({ source: "config", name: "r16_a32" });
    expect(variant).not.toHaveProperty("trainingRuns");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('has no "captioner" object yet');
  });

  it("warns about an unknown variant name", async () => {
    const { variant, warnings } = await readVariantMetadata(loaded, "demo", {
      metrics: "metrics.json",
      name: "r4_a8",
    });
    expect(warnings[0]).toContain(
      'has no captioner variant "r4_a8" (it has r16_a32, r16_a32_long, r64_a16)',
    );
    expect(variant?.source).toBe("config");
    expect(variant?.rank).toBeUndefined();
  });

  it("returns null without a variant", async () => {
    expect(await readVariantMetadata(loaded, "demo", undefined)).toEqual({
      variant: null,
      warnings: [],
    });
  });
});

describe("training runs", () => {
  it("lists every captioner run", async () => {
    const { variant } = await readVariantMetadata(loaded, "demo", {
      metrics: "metrics.json",
      name: "r16_a32_long",
    });
    const recorded = variant?.trainingRuns;
    expect(recorded?.metrics).toBe("metrics.json");
    expect(recorded?.runs.map((run) => run.name)).toEqual(["r16_a32", "r16_a32_long", "r64_a16"]);
    expect(recorded?.runs.map((run) => run.isModelVariant)).toEqual([false, true, false]);
    expect(recorded?.runs[1]).toEqual({
      name: "r16_a32_long",
      isModelVariant: true,
      rank: 16,
      alpha: 32,
      projection: "mlp",
      trainableParams: 1234567,
      steps: 560,
      epochs: 1.5,
      finalTrainLoss: 0.91,
      initFrom: "models/work/captioner_r16_a32.pt",
      batchImages: 16,
      ciderD: 1.05,
      grounding: 0.13,
      kindWords: 600,
      hallucinatedKindWords: 450,
      testImages: 300,
      decoding: "greedy",
      exported: {
        ciderD: 1.04,
        grounding: 0.12,
        measured: "exported weights (LoRA merged, int8 / fp16 rounded)",
      },
    });
  });

  it("matches the report schema", async () => {
    const { variant } = await readVariantMetadata(loaded, "demo", {
      metrics: "metrics.json",
      name: "r16_a32",
    });
    for (const run of variant?.trainingRuns?.runs ?? []) {
      expect(trainingRunSchema.safeParse(run).success, run.name).toBe(true);
    }
  });

  it("keeps a fresh run's null init_from", async () => {
    const { variant } = await readVariantMetadata(loaded, "demo", {
      metrics: "metrics.json",
      name: "r16_a32",
    });
    const run = variant?.trainingRuns?.runs[0];
    expect(run?.initFrom).toBeNull();
    expect(run?.exported).toEqual({ measured: "trained weights, before rounding" });
  });

  it("drops an invalid field with a warning", async () => {
    const { variant, warnings } = await readVariantMetadata(loaded, "demo", {
      metrics: "metrics.json",
      name: "r16_a32_long",
    });
    const run = variant?.trainingRuns?.runs[0];
    expect(run?.name).toBe("r16_a32");
    expect(run).not.toHaveProperty("epochs");
    expect(run?.steps).toBe(280);
    expect(warnings).toContain(
      `model "demo": ignored invalid "epochs" "0.75" of captioner run "r16_a32" in "${metricsPath}"; fix or remove it in the metrics file`,
    );
  });

  it("warns about missing fields", async () => {
    const { variant, warnings } = await readVariantMetadata(loaded, "demo", {
      metrics: "metrics.json",
      name: "r16_a32_long",
    });
    const run = variant?.trainingRuns?.runs[2];
    expect(run?.name).toBe("r64_a16");
    expect(run).not.toHaveProperty("initFrom");
    expect(run).not.toHaveProperty("batchImages");
    expect(run).not.toHaveProperty("exported");
    expect(run?.ciderD).toBe(0.58);
    expect(warnings).toContain(
      `model "demo": captioner run "r64_a16" in "${metricsPath}" lacks init_from, batch_images; the report shows them as unknown`,
    );
    expect(warnings).toHaveLength(2);
  });

  it("lists runs without a variant name", async () => {
    const { variant, warnings } = await readVariantMetadata(loaded, "demo", {
      metrics: "metrics.json",
    });
    expect(variant?.source).toBe("config");
    expect(variant?.trainingRuns?.runs).toHaveLength(3);
    expect(variant?.trainingRuns?.runs.some((run) => run.isModelVariant)).toBe(false);
    expect(warnings[0]).toBe(
      `model "demo": set variant.name to one of r16_a32, r16_a32_long, r64_a16 to read the variant's facts from "${metricsPath}"`,
    );
  });

  it("leaves out malformed entries", async () => {
    const { variant, warnings } = await readVariantMetadata(loaded, "demo", {
      metrics: "malformed.json",
      name: "r8_a16",
    });
    const runs = variant?.trainingRuns?.runs ?? [];
    expect(runs.map((run) => run.name)).toEqual(["r8_a16"]);
    expect(runs[0]?.kindWords).toBe(10);
    expect(runs[0]).not.toHaveProperty("hallucinatedKindWords");
    expect(runs[0]?.exported).toEqual({ ciderD: 0.39, measured: "exported weights" });
    expect(warnings).toEqual([
      `model "demo": captioner run "broken" in "${malformedPath}" is "r16_a32", not an object; it is left out of the training runs`,
      `model "demo": captioner run "r8_a16" in "${malformedPath}" has hallucinated_kind_words 12 above kind_words 10; ignored hallucinated_kind_words`,
      `model "demo": ignored invalid "grounding" 1.5 of exported captioner "r8_a16" in "${malformedPath}"; fix or remove it in the metrics file`,
      `model "demo": exported captioner "r4_a8" in "${malformedPath}" has no captioner run of that name; its exported scores are left out`,
    ]);
  });
});
