// The float64 mean as numpy computes it (`np.mean`), so that corpus scores agree with pycocoevalcap
// to the last bit whenever the per-image scores do. numpy sums float64 arrays pairwise
// (numpy/_core/src/umath/loops_utils.h.src, `pairwise_sum`). Fewer than 8 values are added in
// order. Up to 128 values go to 8 interleaved accumulators, which are combined as a tree. Longer
// runs are split in two at a multiple of 8 and summed recursively.

const BLOCK_SIZE = 128;

/** Sums values[start .. start+length-1] in numpy's pairwise order. */
export function numpyPairwiseSum(
  values: ArrayLike<number>,
  start = 0,
  length = values.length,
): number {
  if (length < 8) {
    let sum = 0;
    for (let i = 0; i < length; i++) sum += values[start + i] as number;
    return sum;
  }

  if (length <= BLOCK_SIZE) {
    let r0 = values[start] as number;
    let r1 = values[start + 1] as number;
    let r2 = values[start + 2] as number;
    let r3 = values[start + 3] as number;
    let r4 = values[start + 4] as number;
    let r5 = values[start + 5] as number;
    let r6 = values[start + 6] as number;
    let r7 = values[start + 7] as number;
    const blockEnd = length - (length % 8);
    let i = 8;
    for (; i < blockEnd; i += 8) {
      const at = start + i;
      r0 += values[at] as number;
      r1 += values[at + 1] as number;
      r2 += values[at + 2] as number;
      r3 += values[at + 3] as number;
      r4 += values[at + 4] as number;
      r5 += values[at + 5] as number;
      r6 += values[at + 6] as number;
      r7 += values[at + 7] as number;
    }
    let sum = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < length; i++) sum += values[start + i] as number;
    return sum;
  }

  let half = Math.floor(length / 2);
  half -= half % 8;
  return (
    numpyPairwiseSum(values, start, half) + numpyPairwiseSum(values, start + half, length - half)
  );
}

/** Returns `np.mean(values)`: the pairwise sum divided by the count (NaN for no values). */
export function numpyMean(values: ArrayLike<number>): number {
  return numpyPairwiseSum(values) / values.length;
}
