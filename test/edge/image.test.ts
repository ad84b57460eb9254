import { expect, it } from "vitest";
import { initBundledImageCodecs } from "../../shared/image/codecs-bundled.ts";
import { decodeImage } from "../../shared/image/decode.ts";
import { sha256Hex } from "../../shared/image/hash.ts";
import { preprocessImage } from "../../shared/image/pipelines.ts";
import { EDGE_FIXTURES } from "../fixtures/images/edge-fixtures.ts";

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

for (const fixture of EDGE_FIXTURES) {
  it(`decodes ${fixture.name} in workerd as Pillow does`, async () => {
    await initBundledImageCodecs();
    const image = await decodeImage(fromBase64(fixture.base64));

    expect(image.width).toBe(fixture.expected.width);
    expect(image.height).toBe(fixture.expected.height);
    expect(await sha256Hex(image.data)).toBe(fixture.expected.sha256_rgb);
  });

  it(`preprocesses ${fixture.name} in workerd for CLIP`, async () => {
    await initBundledImageCodecs();
    const tensor = await preprocessImage(fromBase64(fixture.base64), "clip_vit_b32");

    expect(tensor.shape).toEqual([3, 224, 224]);
    expect(await sha256Hex(new Uint8Array(tensor.data.buffer))).toBe(
      fixture.expected.sha256_clip_vit_b32,
    );
  });
}
