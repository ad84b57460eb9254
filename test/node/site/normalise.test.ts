import { describe, expect, it } from "vitest";
import { maxValue, normaliseToMax } from "../../../site/src/lib/normalise.ts";

describe("normaliseToMax", () => {
  it("scales the peak to 1", () => {
    expect(Array.from(normaliseToMax([0.1, 0.4, 0.2]))).toEqual([
      Math.fround(0.25),
      1,
      Math.fround(0.5),
    ]);
  });

  it("keeps an all-zero map at zero", () => {
    expect(Array.from(normaliseToMax([0, 0, 0]))).toEqual([0, 0, 0]);
  });

  it("clamps negative values to zero", () => {
    expect(Array.from(normaliseToMax([-0.5, 1]))).toEqual([0, 1]);
  });

  it("rejects a non-finite value", () => {
    expect(() => normaliseToMax([0.5, Number.NaN])).toThrow(/index 1 is NaN/);
  });
});

describe("maxValue", () => {
  it("finds the maximum of negative values", () => {
    expect(maxValue([-3, -1, -2])).toBe(-1);
  });

  it("returns 0 for an empty list", () => {
    expect(maxValue([])).toBe(0);
  });
});
