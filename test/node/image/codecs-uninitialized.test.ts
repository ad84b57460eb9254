// Runs in its own module graph (vitest isolates test files), where initImageCodecs was never called.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { imageCodecsReady } from "../../../shared/image/codecs.ts";
import { decodeImage } from "../../../shared/image/decode.ts";
import { REPO_ROOT } from "../../helpers/paths.ts";

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(REPO_ROOT, "test/fixtures/images", name)));
}

it("JPEG without codecs is rejected with the fix", async () => {
  expect(imageCodecsReady()).toEqual({ jpeg: false, webp: false });
  await expect(decodeImage(fixture("sub420.jpg"))).rejects.toMatchObject({
    code: "codec_not_initialized",
    message: expect.stringMatching(/initImageCodecs/),
  });
});

it("WebP without codecs is rejected", async () => {
  await expect(decodeImage(fixture("orient6.webp"))).rejects.toMatchObject({
    code: "codec_not_initialized",
  });
});

it("PNG decodes without wasm codecs", async () => {
  const image = await decodeImage(fixture("gray_alpha8.png"));
  expect([image.width, image.height]).toEqual([64, 48]);
});
