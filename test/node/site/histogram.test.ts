import { describe, expect, it } from "vitest";
import { binValues, finiteExtent } from "../../../site/src/lib/histogram.ts";

describe("binValues", () => {
  it("splits the domain into equal bins", () => {
    const bins = binValues([0, 0.1, 0.5, 0.99, 1], { binCount: 4, domain: [0, 1] });
    expect(bins.map((bin) => [bin.x0, bin.x1])).toEqual([
      [0, 0.25],
      [0.25, 0.5],
      [0.5, 0.75],
      [0.75, 1],
    ]);
    expect(bins.map((bin) => bin.indices)).toEqual([[0, 1], [], [2], [3, 4]]);
  });

  it("puts the maximum into the last bin", () => {
    const bins = binValues([0.3, 0.7, 2.1], { binCount: 3 });
    expect(bins[0]?.x0).toBe(0.3);
    expect(bins[2]?.x1).toBe(2.1);
    expect(bins[2]?.indices).toEqual([2]);
  });

  it("skips non-finite and out-of-domain values", () => {
    const bins = binValues([Number.NaN, -1, 0.5, Number.POSITIVE_INFINITY, 3], {
      binCount: 2,
      domain: [0, 1],
    });
    expect(bins.flatMap((bin) => bin.indices)).toEqual([2]);
  });

  it("draws equal values as one wide bin", () => {
    const bins = binValues([2, 2, 2], { binCount: 1 });
    expect(bins).toEqual([{ x0: 2, x1: 3, indices: [0, 1, 2] }]);
  });

  it("returns no bins for no values", () => {
    expect(binValues([], { binCount: 5 })).toEqual([]);
  });

  it("rejects an invalid bin count", () => {
    expect(() => binValues([1], { binCount: 0 })).toThrow(/binCount must be a positive integer/);
    expect(() => binValues([1], { binCount: 1.5 })).toThrow(/got 1.5/);
  });

  it("rejects a reversed domain", () => {
    expect(() => binValues([1], { binCount: 2, domain: [1, 0] })).toThrow(/min <= max/);
  });
});

describe("finiteExtent", () => {
  it("ignores non-finite values", () => {
    expect(finiteExtent([3, Number.NaN, -2, Number.NEGATIVE_INFINITY])).toEqual([-2, 3]);
  });

  it("returns undefined without finite values", () => {
    expect(finiteExtent([Number.NaN])).toBeUndefined();
  });
});
