// Formats and modes that the owner's corpus lacks (EXIF orientations 2-8, 4:2:0 and progressive
// 4:2:2 JPEG, lossless WebP, 1/2/4/16-bit and gray+alpha PNG, palette tRNS, BMP variants, a GIF
// frame smaller than its screen). The expectations in expected.json were computed with Pillow 9.4;
// test/fixtures/images/README.md says how.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeImage } from "../../../shared/image/decode.ts";
import { sha256Hex } from "../../../shared/image/hash.ts";
import { PIPELINES, preprocessRgb } from "../../../shared/image/pipelines.ts";
import { initNodeImageCodecs } from "../../helpers/image-codecs.ts";
import { REPO_ROOT } from "../../helpers/paths.ts";

const FIXTURE_DIR = join(REPO_ROOT, "test/fixtures/images");

interface FixtureExpectation {
  mode: string;
  width: number;
  height: number;
  sha256_rgb: string;
  sha256_clip_vit_b32: string;
}

const expectations = Object.entries(
  JSON.parse(readFileSync(join(FIXTURE_DIR, "expected.json"), "utf8")) as Record<
    string,
    FixtureExpectation
  >,
);

beforeAll(async () => {
  await initNodeImageCodecs();
});

describe.each(expectations)("fixture %s", (name, expected) => {
  const bytes = new Uint8Array(readFileSync(join(FIXTURE_DIR, name)));

  it("decodes to the Pillow RGB pixels", async () => {
    const image = await decodeImage(bytes);

    expect([image.width, image.height]).toEqual([expected.width, expected.height]);
    expect(image.sourceMode).toBe(expected.mode);
    expect(await sha256Hex(image.data)).toBe(expected.sha256_rgb);
  });

  it("gives the Pillow CLIP tensor", async () => {
    const tensor = preprocessRgb(await decodeImage(bytes), PIPELINES.clip_vit_b32);

    expect(await sha256Hex(new Uint8Array(tensor.data.buffer))).toBe(expected.sha256_clip_vit_b32);
  });
});
