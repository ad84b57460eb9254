import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeImage } from "../../../shared/image/decode.ts";
import { PreprocessConfigError } from "../../../shared/image/errors.ts";
import { pipelineFromModelFields } from "../../../shared/image/model-config.ts";
import { PIPELINES, preprocessImage, preprocessRgb } from "../../../shared/image/pipelines.ts";
import { initNodeImageCodecs } from "../../helpers/image-codecs.ts";
import { OWNER_DATA_DIR } from "../../helpers/paths.ts";

const photo = new Uint8Array(
  readFileSync(join(OWNER_DATA_DIR, "golden/preprocess/files/orig_000000000139.jpg")),
);

beforeAll(async () => {
  await initNodeImageCodecs();
});

describe("pipelineFromModelFields", () => {
  it("rebuilds the CLIP preset", async () => {
    const pipeline = pipelineFromModelFields("clip_from_fields", {
      size: 224,
      resample: "bicubic",
      crop: 224,
      mean: [0.48145466, 0.4578275, 0.40821073],
      std: [0.26862954, 0.26130258, 0.27577711],
    });
    const image = await decodeImage(photo);
    expect(preprocessRgb(image, pipeline).data).toEqual(
      preprocessRgb(image, PIPELINES.clip_vit_b32).data,
    );
  });

  it("rebuilds the HF preset", async () => {
    const pipeline = pipelineFromModelFields("hf_from_fields", {
      size: { width: 224, height: 224 },
      resample: "bilinear",
      crop: null,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      rescale: "multiply_reciprocal",
    });
    expect(pipeline).toEqual({ ...PIPELINES.hf_vit_base_patch16_224, name: "hf_from_fields" });
  });

  it.each([
    [{ size: 0 }, /size is 0/],
    [{ size: { width: 224 } }, /size.height is undefined/],
    [{ resample: "lanczos" }, /resample is "lanczos". Use "bilinear" or "bicubic"/],
    [{ crop: 22.5 }, /crop is 22.5/],
    [{ mean: [0.5, 0.5] }, /mean is \[0.5,0.5\]/],
    [{ std: [0.5, 0, 0.5] }, /std .*three positive numbers/],
  ])("rejects %j", (change, message) => {
    const fields = {
      size: 224,
      resample: "bicubic",
      crop: 224,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      ...change,
    };
    expect(() => pipelineFromModelFields("bad", fields as never)).toThrow(PreprocessConfigError);
    expect(() => pipelineFromModelFields("bad", fields as never)).toThrow(message);
  });
});

describe("preprocessImage", () => {
  it("returns the crop box in decoded pixels", async () => {
    // 640x426 -> 336x224, crop left 56: in the source that is 56 * 640 / 336 = 106.67 pixels.
    const result = await preprocessImage(photo, "clip_vit_b32");
    expect(result.cropBox.left).toBeCloseTo((56 * 640) / 336, 10);
    expect(result.cropBox.top).toBe(0);
    expect(result.cropBox.width).toBeCloseTo((224 * 640) / 336, 10);
    expect(result.cropBox.height).toBe(426);
  });

  it("covers the whole image without a crop", async () => {
    const result = await preprocessImage(photo, "hf_vit_base_patch16_224");
    expect(result.cropBox).toEqual({ left: 0, top: 0, width: 640, height: 426 });
  });

  it("rejects an unknown preset name", async () => {
    await expect(preprocessImage(photo, "resnet50" as never)).rejects.toThrow(
      /Unknown preprocessing pipeline "resnet50"/,
    );
  });
});
