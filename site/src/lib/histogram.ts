// Fixed-width histogram bins over plain number arrays, for the score distributions. Each bin keeps
// the indices of its values, so a page can link a bar to the examples that fall in it.

export interface HistogramBin {
  /** Inclusive lower edge. */
  x0: number;
  /** Exclusive upper edge, except for the last bin, which also contains values equal to x1. */
  x1: number;
  /** Indices into the input array of the values in [x0, x1). */
  indices: number[];
}

export interface HistogramOptions {
  /** Number of bins (a positive integer). */
  binCount: number;
  /** [min, max] covered by the bins; defaults to the extent of the finite values. */
  domain?: readonly [number, number];
}

/**
 * Splits `values` into `binCount` bins of equal width over `domain`. Non-finite values and values
 * outside the domain go into no bin. A domain of zero width becomes one bin of width 1 starting at
 * that value, so a set of equal scores still draws one bar. Returns an empty list for no values.
 */
export function binValues(values: readonly number[], options: HistogramOptions): HistogramBin[] {
  const { binCount } = options;
  if (!Number.isInteger(binCount) || binCount < 1) {
    throw new RangeError(`binCount must be a positive integer, got ${binCount}`);
  }

  const domain = options.domain ?? finiteExtent(values);
  if (domain === undefined) return [];
  let [min, max] = domain;
  if (!(Number.isFinite(min) && Number.isFinite(max)) || max < min) {
    throw new RangeError(`domain must be finite with min <= max, got [${min}, ${max}]`);
  }
  if (max === min) max = min + 1;

  const width = (max - min) / binCount;
  const bins: HistogramBin[] = [];
  for (let b = 0; b < binCount; b++) {
    // The last edge is `max` itself, so rounding in min + width * count cannot drop the top value.
    bins.push({
      x0: min + width * b,
      x1: b === binCount - 1 ? max : min + width * (b + 1),
      indices: [],
    });
  }

  values.forEach((value, index) => {
    if (!Number.isFinite(value) || value < min || value > max) return;
    const b = Math.min(binCount - 1, Math.floor((value - min) / width));
    bins[b]?.indices.push(index);
  });
  return bins;
}

/** Returns [min, max] of the finite values, or undefined when there are none. */
export function finiteExtent(values: readonly number[]): [number, number] | undefined {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (!Number.isFinite(value)) continue;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return min <= max ? [min, max] : undefined;
}
