import { expect, it } from "vitest";
import { numpyMean, numpyPairwiseSum } from "../../../shared/metrics/numpy-mean.ts";

// values(n)[i] = ((i * 7919) % 1000) / 7 + i / 3; the expected means were printed by numpy 1.24.2
// (`np.mean(np.array(values))`, float64) with Python's repr.
function values(n: number): number[] {
  return Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 7 + i / 3);
}

const NUMPY_MEANS: [number, number][] = [
  [5, 91.80952380952381],
  [9, 82.03174603174602],
  [130, 92.72527472527472],
  [1000, 237.85714285714283],
  [4999, 904.3691023919071],
];

// For 130 and 4999 values a left-to-right sum differs from numpy in the last digits
// (92.72527472527469 and 904.3691023919087).
it.each(NUMPY_MEANS)("np.mean of %i values matches numpy bit for bit", (n, expected) => {
  expect(numpyMean(values(n))).toBe(expected);
});

it("sums fewer than 8 values in order", () => {
  const small = [0.1, 0.2, 0.3, 1e16, -1e16];
  expect(numpyPairwiseSum(small)).toBe(0.1 + 0.2 + 0.3 + 1e16 - 1e16);
});

it("returns NaN for no values, as np.mean does", () => {
  expect(numpyMean([])).toBeNaN();
});
