import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LoadedConfig } from "../../../cli/experiment/config.ts";
import { readVariantMetadata } from "../../../cli/experiment/variant.ts";
import { workFolder } from "./doubles.ts";

const dir = workFolder("variant");
const loaded = { baseDir: dir } as LoadedConfig;

// The shape models/edgecap_models/train_demo.py writes, with one field of the wrong type.
writeFileSync(
  join(dir, "metrics.json"),
  JSON.stringify({
    command: "train",
    captioner: {
      r16_a32: {
        variant: "r16_a32",
        rank: 16,
        alpha: 32.0,
        projection: "mlp",
        trainable_params: 1234567,
        steps: 280,
        epochs: "0.75",
        final_train_loss: 1.25,
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
    expect(variant).toEqual({
      source: "metrics.json",
      name: "r16_a32",
      rank: 16,
      alpha: 32,
      trainableParams: 1234567,
      steps: 280,
      projection: "mlp",
      finalTrainLoss: 1.25,
    });
    expect(warnings).toEqual([
      'model "demo": ignored invalid "epochs" "0.75" in the variant metrics',
    ]);
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
    expect(warnings[0]).toContain('has no "captioner" object yet');
  });

  it("warns about an unknown variant name", async () => {
    const { warnings } = await readVariantMetadata(loaded, "demo", {
      metrics: "metrics.json",
      name: "r64_a16",
    });
    expect(warnings[0]).toContain('has no captioner variant "r64_a16" (it has r16_a32)');
  });

  it("returns null without a variant", async () => {
    expect(await readVariantMetadata(loaded, "demo", undefined)).toEqual({
      variant: null,
      warnings: [],
    });
  });
});
