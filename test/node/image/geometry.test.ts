import { describe, expect, it } from "vitest";
import { centerCrop, roundHalfEven, shorterSideSize } from "../../../shared/image/geometry.ts";
import { applyExifOrientation } from "../../../shared/image/orientation.ts";
import { resizeRgb } from "../../../shared/image/resample.ts";
import type { RgbImage } from "../../../shared/image/types.ts";

function numbered(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.fill(i + 1, i * 3, i * 3 + 3);
  return { width, height, data };
}

function firstChannel(image: RgbImage): number[] {
  return Array.from({ length: image.width * image.height }, (_, i) => image.data[i * 3] as number);
}

describe("roundHalfEven", () => {
  it.each([
    [54.5, 54],
    [254.5, 254],
    [55.5, 56],
    [11.5, 12],
    [77.5, 78],
    [0.5, 0],
    [-0.5, 0],
    [-1.5, -2],
    [2.4, 2],
    [2.6, 3],
  ])("rounds %d to %d", (value, expected) => {
    expect(roundHalfEven(value)).toBe(expected);
  });
});

describe("shorterSideSize", () => {
  it.each([
    [640, 426, 224, 336, 224],
    [500, 169, 248, 733, 248],
    [378, 640, 224, 224, 379],
    [4000, 50, 224, 17920, 224],
    [1, 1, 224, 224, 224],
  ])("%dx%d to %d gives %dx%d", (width, height, size, expectedWidth, expectedHeight) => {
    expect(shorterSideSize(width, height, size)).toEqual({
      width: expectedWidth,
      height: expectedHeight,
    });
  });
});

describe("centerCrop", () => {
  it("uses half-to-even offsets", () => {
    const crop = centerCrop(numbered(5, 1), 2, 1);
    // (5 - 2) / 2 = 1.5 rounds to 2.
    expect(crop.left).toBe(2);
    expect(firstChannel(crop.image)).toEqual([3, 4]);
  });

  it("pads a smaller image with zeros", () => {
    const crop = centerCrop(numbered(2, 1), 5, 3);
    // torchvision pads (5 - 2) // 2 = 1 column before and 2 after, 1 row above and below.
    expect([crop.left, crop.top]).toEqual([-1, -1]);
    expect(firstChannel(crop.image)).toEqual([0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe("applyExifOrientation", () => {
  // 3x2 image with values 1 2 3 / 4 5 6.
  it.each([
    [1, 3, [1, 2, 3, 4, 5, 6]],
    [2, 3, [3, 2, 1, 6, 5, 4]],
    [3, 3, [6, 5, 4, 3, 2, 1]],
    [4, 3, [4, 5, 6, 1, 2, 3]],
    [5, 2, [1, 4, 2, 5, 3, 6]],
    [6, 2, [4, 1, 5, 2, 6, 3]],
    [7, 2, [6, 3, 5, 2, 4, 1]],
    [8, 2, [3, 6, 2, 5, 1, 4]],
    [9, 3, [1, 2, 3, 4, 5, 6]],
  ])("orientation %d", (orientation, width, expected) => {
    const out = applyExifOrientation(numbered(3, 2), orientation);
    expect(out.width).toBe(width);
    expect(firstChannel(out)).toEqual(expected);
  });
});

describe("resizeRgb", () => {
  it("returns a copy for the same size", () => {
    const image = numbered(4, 3);
    const out = resizeRgb(image, 4, 3, "bicubic");
    expect(out.data).toEqual(image.data);
    expect(out.data).not.toBe(image.data);
  });

  it("keeps a flat image flat", () => {
    const image = { width: 7, height: 5, data: new Uint8Array(7 * 5 * 3).fill(200) };
    for (const filter of ["bilinear", "bicubic"] as const) {
      expect(resizeRgb(image, 3, 11, filter).data.every((v) => v === 200)).toBe(true);
    }
  });

  it("clips bicubic overshoot to 0-255", () => {
    const data = new Uint8Array(8 * 3);
    data.fill(255, 12);
    const out = resizeRgb({ width: 8, height: 1, data }, 20, 1, "bicubic");
    expect(Math.min(...out.data)).toBe(0);
    expect(Math.max(...out.data)).toBe(255);
  });
});
