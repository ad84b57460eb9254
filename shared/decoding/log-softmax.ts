// Log-softmax helpers over Float32Array rows, accumulated in float64 so a 50k-token vocabulary
// does not lose the small probabilities to float32 rounding.

/**
 * Computes log(sum(exp(row))) with the max subtracted first. Returns -Infinity when every entry is
 * -Infinity (a fully masked row). Throws when the row contains NaN or +Infinity, because no
 * distribution can be formed from it.
 */
export function logSumExp(row: Float32Array): number {
  let max = Number.NEGATIVE_INFINITY;
  let hasNaN = false;
  for (let i = 0; i < row.length; i++) {
    const value = row[i] as number;
    if (value > max) max = value;
    else if (Number.isNaN(value)) hasNaN = true;
  }
  if (hasNaN || max === Number.POSITIVE_INFINITY) {
    throw new RangeError(
      "logits contain NaN or +Infinity, so no probability distribution can be formed.",
    );
  }
  if (max === Number.NEGATIVE_INFINITY) return max;

  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    sum += Math.exp((row[i] as number) - max);
  }
  return max + Math.log(sum);
}

/** Writes log-softmax(row) into `out` (float64) and returns `out`. */
export function logSoftmax(
  row: Float32Array,
  out: Float64Array = new Float64Array(row.length),
): Float64Array {
  const normalizer = logSumExp(row);
  for (let i = 0; i < row.length; i++) {
    out[i] = (row[i] as number) - normalizer;
  }
  return out;
}
