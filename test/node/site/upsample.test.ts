import { describe, expect, it } from "vitest";
import { overlaySize, placeCropBox, upsampleBilinear } from "../../../site/src/lib/upsample.ts";

describe("upsampleBilinear", () => {
  it("keeps a grid at its own size", () => {
    const grid = [1, 2, 3, 4];
    expect(Array.from(upsampleBilinear(grid, { rows: 2, cols: 2 }, 2, 2))).toEqual(grid);
  });

  it("interpolates between cell centres", () => {
    // A 1 x 2 grid [0, 1] at 4 pixels: pixel centres sit at source x = -0.25, 0.25, 0.75, 1.25,
    // so the outer pixels clamp to the cells and the inner ones blend a quarter and three quarters.
    const row = upsampleBilinear([0, 1], { rows: 1, cols: 2 }, 4, 1);
    expect(Array.from(row)).toEqual([0, 0.25, 0.75, 1]);
  });

  it("interpolates rows like columns", () => {
    const column = upsampleBilinear([0, 1], { rows: 2, cols: 1 }, 1, 4);
    expect(Array.from(column)).toEqual([0, 0.25, 0.75, 1]);
  });

  it("keeps the mean of a uniform grid", () => {
    const grid = new Array(14 * 14).fill(1 / 196);
    const out = upsampleBilinear(grid, { rows: 14, cols: 14 }, 112, 75);
    for (const value of out) expect(value).toBeCloseTo(1 / 196, 7);
  });

  it("places a single hot cell in its quadrant", () => {
    const out = upsampleBilinear([0, 0, 0, 1], { rows: 2, cols: 2 }, 8, 8);
    expect(out[7 * 8 + 7]).toBe(1);
    expect(out[0]).toBe(0);
  });

  it("rejects a grid of the wrong length", () => {
    expect(() => upsampleBilinear([1, 2, 3], { rows: 2, cols: 2 }, 4, 4)).toThrow(
      /3 values; expected rows \* cols = 4/,
    );
  });

  it("rejects a zero output size", () => {
    expect(() => upsampleBilinear([1], { rows: 1, cols: 1 }, 0, 4)).toThrow(/width must be/);
  });
});

describe("overlaySize", () => {
  it("keeps the crop's aspect ratio", () => {
    expect(overlaySize({ left: 0, top: 0, width: 640, height: 426 }, 128)).toEqual({
      width: 128,
      height: 85,
    });
    expect(overlaySize({ left: 80, top: 0, width: 480, height: 480 }, 96)).toEqual({
      width: 96,
      height: 96,
    });
  });
});

describe("placeCropBox", () => {
  it("converts a centre crop to percentages", () => {
    const placement = placeCropBox(
      { left: 80, top: 0, width: 480, height: 480 },
      { width: 640, height: 480 },
    );
    expect(placement).toEqual({ left: 12.5, top: 0, width: 75, height: 100 });
  });

  it("rejects a box outside the image", () => {
    expect(() =>
      placeCropBox({ left: 200, top: 0, width: 480, height: 480 }, { width: 640, height: 480 }),
    ).toThrow(/does not fit in a 640 x 480 image/);
  });
});
