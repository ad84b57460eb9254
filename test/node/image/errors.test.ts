import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertPixelLimit, decodeImage, probeImage } from "../../../shared/image/decode.ts";
import { ImageDecodeError } from "../../../shared/image/errors.ts";
import { sha256Hex } from "../../../shared/image/hash.ts";
import { initNodeImageCodecs } from "../../helpers/image-codecs.ts";
import { OWNER_DATA_DIR, REPO_ROOT } from "../../helpers/paths.ts";

const jpeg = new Uint8Array(readFileSync(join(REPO_ROOT, "test/fixtures/images/sub420.jpg")));
const png = new Uint8Array(readFileSync(join(REPO_ROOT, "test/fixtures/images/gray_alpha8.png")));

beforeAll(async () => {
  await initNodeImageCodecs();
});

async function decodeError(bytes: Uint8Array, maxPixels?: number): Promise<ImageDecodeError> {
  try {
    await decodeImage(bytes, maxPixels === undefined ? {} : { maxPixels });
  } catch (error) {
    if (error instanceof ImageDecodeError) return error;
    throw error;
  }
  throw new Error("decodeImage resolved but a rejection was expected");
}

describe("type detection", () => {
  it("ignores a misleading extension", async () => {
    // The corpus's html_as.jpg: an HTML 404 page saved with a .jpg name.
    const html = new Uint8Array(
      readFileSync(join(OWNER_DATA_DIR, "golden/preprocess/files/html_as.jpg")),
    );
    const error = await decodeError(html);
    expect(error.code).toBe("unsupported_type");
    expect(error.message).toMatch(/HTML/);
  });

  it("names a known unsupported format", async () => {
    const tiff = new Uint8Array([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0]);
    const error = await decodeError(tiff);
    expect(error.code).toBe("unsupported_type");
    expect(error.message).toMatch(/TIFF.*Send a JPEG, PNG, WebP, GIF or BMP/);
  });

  it("reports the stored size of a JPEG", () => {
    expect(probeImage(jpeg)).toEqual({ type: "jpeg", width: 64, height: 48 });
  });
});

describe("pixel limit", () => {
  it("is configurable", async () => {
    const error = await decodeError(jpeg, 64 * 48 - 1);
    expect(error.code).toBe("too_many_pixels");
    expect(error.message).toMatch(/64x48 = 3072 pixels, above the limit of 3071/);
  });

  it("accepts an image at the limit", async () => {
    const image = await decodeImage(jpeg, { maxPixels: 64 * 48 });
    expect(image.width).toBe(64);
  });

  it("rejects a zero-sized header", () => {
    expect(() => assertPixelLimit({ type: "gif", width: 0, height: 10 })).toThrow(
      expect.objectContaining({ code: "invalid_dimensions" }),
    );
  });
});

describe("damaged files", () => {
  it("cut PNG is truncated", async () => {
    const error = await decodeError(png.subarray(0, png.length - 200));
    expect(error.code).toBe("truncated");
  });

  it("cut JPEG header is truncated", async () => {
    const error = await decodeError(jpeg.subarray(0, 40));
    expect(error.code).toBe("truncated");
  });

  it("JPEG fatal error leaves the decoder usable", async () => {
    // Setting the SOF0 sample precision to 12 bits makes libjpeg stop with a fatal error.
    const damaged = jpeg.slice();
    const sof = damaged.findIndex((value, i) => value === 0xff && damaged[i + 1] === 0xc0);
    damaged[sof + 4] = 12;
    expect((await decodeError(damaged)).code).toBe("corrupt");

    const image = await decodeImage(jpeg);
    expect(image.width).toBe(64);
  });

  it("many JPEG fatal errors in a row leave the decoder usable", async () => {
    const damaged = jpeg.slice();
    const sof = damaged.findIndex((value, i) => value === 0xff && damaged[i + 1] === 0xc0);
    damaged[sof + 4] = 12;
    for (let i = 0; i < 50; i++) {
      expect((await decodeError(damaged)).code).toBe("corrupt");
    }
    expect((await decodeImage(jpeg)).height).toBe(48);
  });

  it("cut WebP is truncated", async () => {
    const webp = new Uint8Array(readFileSync(join(REPO_ROOT, "test/fixtures/images/orient6.webp")));
    const error = await decodeError(webp.subarray(0, webp.length - 50));
    expect(error.code).toBe("truncated");
  });

  it("cut BMP is truncated", async () => {
    const bmp = new Uint8Array(
      readFileSync(join(REPO_ROOT, "test/fixtures/images/bgrx32_bottom_up.bmp")),
    );
    const error = await decodeError(bmp.subarray(0, 5000));
    expect(error.code).toBe("truncated");
  });

  it("cut GIF is rejected", async () => {
    const gif = new Uint8Array(
      readFileSync(join(REPO_ROOT, "test/fixtures/images/transparent_offset_frame.gif")),
    );
    const error = await decodeError(gif.subarray(0, 1200));
    expect(["truncated", "corrupt"]).toContain(error.code);
  });
});

describe("sha256Hex", () => {
  it("hashes abc to the FIPS 180-2 test vector", async () => {
    expect(await sha256Hex(new TextEncoder().encode("abc"))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("hashes empty input", async () => {
    expect(await sha256Hex(new Uint8Array(0))).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });
});
