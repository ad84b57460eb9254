// Seeded PRNG for sampling: xoshiro128** 1.1 (Blackman and Vigna, https://prng.di.unimi.it/),
// with its 128-bit state filled from the seed by two SplitMix64 outputs, as the authors advise.
// The same seed gives the same stream on every JavaScript runtime, because only 32-bit integer
// operations (Math.imul, shifts) and BigInt seeding are involved.

const MASK_64 = (1n << 64n) - 1n;

function splitMix64(state: bigint): { state: bigint; output: bigint } {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK_64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
  return { state: next, output: z ^ (z >> 31n) };
}

function rotateLeft(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

export class Xoshiro128StarStar {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed` is a non-negative safe integer. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`seed must be a non-negative safe integer, got ${seed}.`);
    }
    const first = splitMix64(BigInt(seed));
    const second = splitMix64(first.state);
    this.s0 = Number(first.output & 0xffffffffn) | 0;
    this.s1 = Number(first.output >> 32n) | 0;
    this.s2 = Number(second.output & 0xffffffffn) | 0;
    this.s3 = Number(second.output >> 32n) | 0;
  }

  /** Returns the next 32-bit output as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;

    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotateLeft(this.s3, 11);
    return result >>> 0;
  }

  /** Returns a uniform double in [0, 1) built from 53 random bits of two outputs. */
  nextDouble(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }
}

/** Draws a seed from crypto.getRandomValues for runs that did not pass one (53 bits, a safe integer). */
export function drawRandomSeed(): number {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return ((words[0] as number) >>> 11) * 4294967296 + (words[1] as number);
}
