// Decoding and the three preset pipelines against the Pillow 9.4 + numpy goldens of the product
// owner's corpus. The JPEG and WebP decoders are libjpeg-turbo and libwebp builds, so every
// decoded value and every tensor value is expected to match exactly.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeImage, probeImage } from "../../../shared/image/decode.ts";
import { ImageDecodeError } from "../../../shared/image/errors.ts";
import { sha256Hex } from "../../../shared/image/hash.ts";
import { PIPELINES, type PipelineName, preprocessRgb } from "../../../shared/image/pipelines.ts";
import { initNodeImageCodecs } from "../../helpers/image-codecs.ts";
import { parseNpy } from "../../helpers/npy.ts";
import { OWNER_DATA_DIR } from "../../helpers/paths.ts";

const GOLDEN_DIR = join(OWNER_DATA_DIR, "golden/preprocess");

interface PipelineOutput {
  npy: string;
  resize_to_wh: [number, number];
  crop_left_top: [number, number] | null;
}

interface ManifestFile {
  name: string;
  path: string;
  expected:
    | { decodes: true; width: number; height: number; sha256_rgb: string }
    | { decodes: false; error_class: string };
  outputs: ({ decoded_rgb: { npy: string } } & Record<PipelineName, PipelineOutput>) | null;
}

const manifest = JSON.parse(readFileSync(join(GOLDEN_DIR, "manifest.json"), "utf8")) as {
  files: ManifestFile[];
};
const decodable = manifest.files.filter((file) => file.expected.decodes);
const PIPELINE_NAMES = Object.keys(PIPELINES) as PipelineName[];

function readBytes(relativePath: string): Uint8Array {
  return new Uint8Array(readFileSync(join(GOLDEN_DIR, relativePath)));
}

function maxAbsDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < expected.length; i++) {
    max = Math.max(max, Math.abs((actual[i] as number) - (expected[i] as number)));
  }
  return max;
}

beforeAll(async () => {
  await initNodeImageCodecs();
});

it("manifest lists the corpus", () => {
  expect(manifest.files.length).toBe(24);
  expect(decodable.length).toBe(20);
});

describe.each(decodable)("golden $name", (file) => {
  it("decodes to the Pillow RGB pixels", async () => {
    const expected = file.expected as { width: number; height: number; sha256_rgb: string };
    const image = await decodeImage(readBytes(file.path));
    const golden = parseNpy(readBytes(file.outputs?.decoded_rgb.npy as string));

    expect([image.width, image.height]).toEqual([expected.width, expected.height]);
    expect(golden.shape).toEqual([image.height, image.width, 3]);
    expect(maxAbsDifference(image.data, golden.data)).toBe(0);
    expect(await sha256Hex(image.data)).toBe(expected.sha256_rgb);
  });

  it.each(PIPELINE_NAMES)("matches the %s tensor", async (name) => {
    const output = file.outputs?.[name] as PipelineOutput;
    const image = await decodeImage(readBytes(file.path));
    const tensor = preprocessRgb(image, PIPELINES[name]);
    const golden = parseNpy(readBytes(output.npy));

    expect([tensor.resizedWidth, tensor.resizedHeight]).toEqual(output.resize_to_wh);
    expect([tensor.cropLeft, tensor.cropTop]).toEqual(output.crop_left_top ?? [0, 0]);
    expect(tensor.shape).toEqual(golden.shape);
    expect(maxAbsDifference(tensor.data, golden.data)).toBe(0);
  });
});

describe("golden files that Pillow rejects", () => {
  const cases: Array<[string, string]> = [
    ["empty.jpg", "empty"],
    ["html_as.jpg", "unsupported_type"],
    ["bomb_30000x30000.png", "too_many_pixels"],
    ["truncated.jpg", "truncated"],
  ];

  it.each(cases)("%s is rejected with code %s", async (name, code) => {
    const failure = decodeImage(readBytes(`files/${name}`));
    await expect(failure).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(failure).rejects.toMatchObject({ code });
  });

  it("bomb size comes from the header alone", () => {
    const header = probeImage(readBytes("files/bomb_30000x30000.png"));
    expect(header).toEqual({ type: "png", width: 30000, height: 30000 });
  });

  it("bomb is rejected before a pixel buffer exists", async () => {
    // A 30000x30000 RGB buffer alone would be 2.7 GB; the rejection must cost almost nothing.
    const before = process.memoryUsage().arrayBuffers;
    await expect(decodeImage(readBytes("files/bomb_30000x30000.png"))).rejects.toMatchObject({
      code: "too_many_pixels",
    });
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(16 * 1024 * 1024);
  });

  it("bomb message names the size, the limit and the fix", async () => {
    await expect(decodeImage(readBytes("files/bomb_30000x30000.png"))).rejects.toThrow(
      /30000x30000 = 900000000 pixels, above the limit of 89478485.*raise maxPixels/,
    );
  });

  it("truncated JPEG message names the byte count", async () => {
    await expect(decodeImage(readBytes("files/truncated.jpg"))).rejects.toThrow(
      /after 75844 bytes/,
    );
  });
});
