// Correctly rounded natural logarithm of a count, for CIDEr-D's idf weights (log N - log df).
//
// Math.log is not correctly rounded, and engines differ. On the integers 1 to 5999, Node 24.21's
// Math.log is 1 ulp off glibc's log for 84 of them (log 3 among them), and workerd's for none.
// With Math.log, the CLI and the edge service would score some images 1 ulp apart.
// pycocoevalcap takes np.log. numpy's and glibc's log agreed with this function on every integer
// compared (1 to 5999 and 20,000 random ones below 2^31), and Node's Math.log missed 142 of the
// random ones.
//
// Method: log n = k ln 2 + 2 atanh(z), z = (n - 2^k) / (n + 2^k) with 2^k nearest to n, so
// |z| < 0.172, evaluated in 160-bit fixed point with BigInt. Number(bigint) then rounds to the
// nearest double. The truncation error is below 2^-150, far below the 2^-53 spacing of doubles
// near the result, so only a value within 2^-150 of a rounding boundary could round wrongly.

const FRACTION_BITS = 160n;
const ONE = 1n << FRACTION_BITS;
const SCALE = 2 ** Number(FRACTION_BITS);

/** 2 atanh(z) = 2 (z + z^3/3 + z^5/5 + ...) for a fixed-point z with 0 <= z <= 1/3. */
function twiceAtanh(z: bigint): bigint {
  const zSquared = (z * z) >> FRACTION_BITS;
  let power = z;
  let sum = 0n;
  for (let denominator = 1n; power !== 0n; denominator += 2n) {
    sum += power / denominator;
    power = (power * zSquared) >> FRACTION_BITS;
  }
  return 2n * sum;
}

// ln 2 = 2 atanh(1/3).
const LN2 = twiceAtanh(ONE / 3n);

function fixedPointLog(n: bigint): bigint {
  let k = BigInt(n.toString(2).length - 1);
  // Use the next power of two when n / 2^k > sqrt 2, that is n^2 > 2^(2k+1).
  if (n * n > 1n << (2n * k + 1n)) k += 1n;
  const power = 1n << k;
  const difference = n - power;
  const magnitude = ((difference < 0n ? -difference : difference) << FRACTION_BITS) / (n + power);
  const tail = twiceAtanh(magnitude);
  return k * LN2 + (difference < 0n ? -tail : tail);
}

// Counts up to this bound are cached: document frequencies repeat across thousands of n-grams.
const CACHED_COUNTS = 1 << 16;
const cache = new Float64Array(CACHED_COUNTS).fill(Number.NaN);

/**
 * Returns ln(n), rounded to the nearest double, for a safe integer n >= 0 (-Infinity for 0, as
 * Math.log and np.log return). Throws a RangeError for anything else.
 */
export function logOfCount(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`logOfCount needs a safe integer >= 0, got ${n}`);
  }
  if (n === 0) return Number.NEGATIVE_INFINITY;
  if (n < CACHED_COUNTS) {
    const cached = cache[n] as number;
    if (!Number.isNaN(cached)) return cached;
  }
  const value = Number(fixedPointLog(BigInt(n))) / SCALE;
  if (n < CACHED_COUNTS) cache[n] = value;
  return value;
}
