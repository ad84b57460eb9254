// Sampling warpers: they reshape the processed logits into the distribution that sampling draws
// from, in transformers' order: temperature, then top-k, then top-p.
import type { LogitsProcessor } from "./logits-processors.ts";
import type { ResolvedGenerationOptions } from "./options.ts";

/** Divides every logit by the temperature (below 1 sharpens the distribution, above 1 flattens it). */
export class TemperatureWarper implements LogitsProcessor {
  readonly temperature: number;

  constructor(temperature: number) {
    this.temperature = temperature;
  }

  process(logits: Float32Array): void {
    for (let i = 0; i < logits.length; i++) logits[i] = (logits[i] as number) / this.temperature;
  }
}

/**
 * Keeps the tokens whose logit is at least the k-th largest logit and sets the rest to -Infinity.
 * Ties with the k-th value are kept, as in transformers' TopKLogitsWarper, so more than k can remain.
 */
export class TopKWarper implements LogitsProcessor {
  readonly topK: number;
  private readonly heap: Float64Array;

  constructor(topK: number) {
    this.topK = topK;
    this.heap = new Float64Array(topK);
  }

  process(logits: Float32Array): void {
    if (this.topK >= logits.length) return;
    const threshold = this.kthLargest(logits);
    for (let i = 0; i < logits.length; i++) {
      if ((logits[i] as number) < threshold) logits[i] = Number.NEGATIVE_INFINITY;
    }
  }

  /** Finds the k-th largest value with a binary min-heap of the k largest values seen. */
  private kthLargest(logits: Float32Array): number {
    const heap = this.heap;
    const k = this.topK;
    for (let i = 0; i < k; i++) heap[i] = logits[i] as number;
    for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(heap, i, k);

    for (let i = k; i < logits.length; i++) {
      const value = logits[i] as number;
      if (value > (heap[0] as number)) {
        heap[0] = value;
        siftDown(heap, 0, k);
      }
    }
    return heap[0] as number;
  }
}

function siftDown(heap: Float64Array, start: number, size: number): void {
  let parent = start;
  for (;;) {
    const left = 2 * parent + 1;
    if (left >= size) return;
    const right = left + 1;
    const smaller = right < size && (heap[right] as number) < (heap[left] as number) ? right : left;
    if ((heap[smaller] as number) >= (heap[parent] as number)) return;

    const swap = heap[parent] as number;
    heap[parent] = heap[smaller] as number;
    heap[smaller] = swap;
    parent = smaller;
  }
}

/**
 * Nucleus sampling (Holtzman et al., 2019): keeps the most probable tokens whose probabilities,
 * summed from the top, first reach `topP`, and sets the rest to -Infinity. A token is kept when the
 * mass of the tokens ranked above it is below topP (transformers' TopPLogitsWarper rule), so the
 * top token is always kept. Equal logits are ranked by token id.
 */
export class TopPWarper implements LogitsProcessor {
  readonly topP: number;

  constructor(topP: number) {
    this.topP = topP;
  }

  process(logits: Float32Array): void {
    if (this.topP >= 1) return;

    let max = Number.NEGATIVE_INFINITY;
    let finiteCount = 0;
    for (let i = 0; i < logits.length; i++) {
      const value = logits[i] as number;
      if (value === Number.NEGATIVE_INFINITY) continue;
      finiteCount++;
      if (value > max) max = value;
    }
    if (finiteCount <= 1) return;

    let total = 0;
    for (let i = 0; i < logits.length; i++) total += Math.exp((logits[i] as number) - max);

    // Sorting 50k tokens per step is slow, and the nucleus is usually small. The tokens with
    // weight exp(logit - max) >= floor contain the whole nucleus as soon as their mass reaches
    // topP, so only those are sorted; the floor drops by 1000x until that holds.
    let candidates: number[] = [];
    for (let floor = 1e-3; ; floor *= 1e-3) {
      candidates = [];
      let mass = 0;
      for (let i = 0; i < logits.length; i++) {
        const weight = Math.exp((logits[i] as number) - max);
        if (weight > 0 && weight >= floor) {
          candidates.push(i);
          mass += weight;
        }
      }
      // The margin keeps float rounding of the two sums from cutting the nucleus short.
      if (mass / total >= this.topP + 1e-9 || candidates.length === finiteCount || floor < 1e-300)
        break;
    }
    candidates.sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b);

    const inNucleus = new Uint8Array(logits.length);
    let massAbove = 0;
    for (const token of candidates) {
      if (massAbove >= this.topP) break;
      massAbove += Math.exp((logits[token] as number) - max) / total;
      inNucleus[token] = 1;
    }
    for (let i = 0; i < logits.length; i++) {
      if (inNucleus[i] === 0) logits[i] = Number.NEGATIVE_INFINITY;
    }
  }
}

/** Builds the warpers the options ask for; temperature 1, top_k 0 and top_p 1 add nothing. */
export function buildSamplingWarpers(options: ResolvedGenerationOptions): LogitsProcessor[] {
  const warpers: LogitsProcessor[] = [];
  if (options.temperature !== 1) warpers.push(new TemperatureWarper(options.temperature));
  if (options.topK > 0) warpers.push(new TopKWarper(options.topK));
  if (options.topP < 1) warpers.push(new TopPWarper(options.topP));
  return warpers;
}
