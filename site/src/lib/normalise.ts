// Rescaling of attention maps for display. A map from the attention dump sums to 1 over the grid,
// so its values shrink as the grid grows. Dividing by the map's maximum puts the most attended
// patch at the top of the colour scale for every grid size.

/**
 * Divides every value by the maximum, giving values in [0, 1]. Returns zeros when the maximum is
 * not positive (a token that did not look at the image has an all-zero map).
 * Throws on a non-finite value, because the attention schema promises finite numbers.
 */
export function normaliseToMax(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (!Number.isFinite(value)) {
      throw new RangeError(`attention value at index ${i} is ${value}; expected a finite number`);
    }
    if (value > max) max = value;
  }
  if (max <= 0) return out;

  for (let i = 0; i < values.length; i++) {
    out[i] = Math.max(0, (values[i] as number) / max);
  }
  return out;
}

/** Returns the maximum of the values, or 0 for an empty list. */
export function maxValue(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (i === 0 || value > max) max = value;
  }
  return max;
}
