import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { normalizationTable, type RescaleMode } from "../../../shared/image/normalize.ts";
import { PIPELINES } from "../../../shared/image/pipelines.ts";
import { OWNER_DATA_DIR } from "../../helpers/paths.ts";

// Exact float32 outputs of ToTensor + Normalize for every level and channel, computed with numpy.
const lut = JSON.parse(
  readFileSync(join(OWNER_DATA_DIR, "golden/preprocess/normalize_lut.json"), "utf8"),
) as {
  clip: number[][];
  mean_std_half: number[][];
};

describe.each<RescaleMode>(["divide", "multiply_reciprocal"])(
  "normalization with rescale %s",
  (rescale) => {
    it("equals the numpy table for CLIP", () => {
      const { mean, std } = PIPELINES.clip_vit_b32;
      const tables = normalizationTable(mean, std, rescale);
      for (let channel = 0; channel < 3; channel++) {
        expect(Array.from(tables[channel] as Float32Array)).toEqual(lut.clip[channel]);
      }
    });

    it("equals the numpy table for mean = std = 0.5", () => {
      const { mean, std } = PIPELINES.timm_vit_base_patch16_224;
      const tables = normalizationTable(mean, std, rescale);
      for (let channel = 0; channel < 3; channel++) {
        expect(Array.from(tables[channel] as Float32Array)).toEqual(lut.mean_std_half[channel]);
      }
    });
  },
);

it("normalization differs from one-step float64", () => {
  // Guards the reason for float32 steps: rounding once at the end gives other values.
  const { mean, std } = PIPELINES.clip_vit_b32;
  const table = normalizationTable(mean, std, "divide")[0] as Float32Array;
  let differing = 0;
  for (let level = 0; level < 256; level++) {
    const oneStep = Math.fround((level / 255 - Math.fround(mean[0])) / Math.fround(std[0]));
    if (oneStep !== table[level]) differing++;
  }
  expect(differing).toBeGreaterThan(0);
});
