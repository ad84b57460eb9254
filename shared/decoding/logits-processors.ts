// Logits processors: each one changes one row of next-token logits in place and does one job.
// The search strategies run them in list order before the log-softmax.
import { findBannedNgramTokens } from "./ngram-bans.ts";
import type { ResolvedGenerationOptions } from "./options.ts";

export interface LogitsProcessor {
  /** Changes `logits` (one row, vocabSize entries) in place. `generated` is this row's generated tokens so far. */
  process(logits: Float32Array, generated: Int32Array): void;
}

/**
 * CTRL repetition penalty (Keskar et al., 2019, as in transformers' RepetitionPenaltyLogitsProcessor):
 * each distinct generated token has a positive logit divided by the penalty and a negative one
 * multiplied by it, so a penalty above 1 makes repeats less likely either way.
 */
export class RepetitionPenaltyProcessor implements LogitsProcessor {
  readonly penalty: number;

  constructor(penalty: number) {
    this.penalty = penalty;
  }

  process(logits: Float32Array, generated: Int32Array): void {
    for (let i = 0; i < generated.length; i++) {
      const token = generated[i] as number;
      // Penalise each token once, at its first occurrence (histories are short, so the scan is cheap).
      if (generated.subarray(0, i).includes(token)) continue;

      const logit = logits[token] as number;
      logits[token] = logit < 0 ? logit * this.penalty : logit / this.penalty;
    }
  }
}

/** Bans every token that would repeat an n-gram of the generated tokens. */
export class NoRepeatNgramProcessor implements LogitsProcessor {
  readonly ngramSize: number;

  constructor(ngramSize: number) {
    this.ngramSize = ngramSize;
  }

  process(logits: Float32Array, generated: Int32Array): void {
    for (const token of findBannedNgramTokens(generated, this.ngramSize)) {
      logits[token] = Number.NEGATIVE_INFINITY;
    }
  }
}

/** Masks the end tokens until `minNewTokens` tokens have been generated. */
export class MinNewTokensProcessor implements LogitsProcessor {
  readonly minNewTokens: number;
  readonly eosTokenIds: Int32Array;

  constructor(minNewTokens: number, eosTokenIds: Int32Array) {
    this.minNewTokens = minNewTokens;
    this.eosTokenIds = eosTokenIds;
  }

  process(logits: Float32Array, generated: Int32Array): void {
    if (generated.length >= this.minNewTokens) return;
    for (const token of this.eosTokenIds) logits[token] = Number.NEGATIVE_INFINITY;
  }
}

/** Builds the processors the options ask for, in transformers' order: repetition, n-gram, min length. */
export function buildLogitsProcessors(options: ResolvedGenerationOptions): LogitsProcessor[] {
  const processors: LogitsProcessor[] = [];
  if (options.repetitionPenalty !== 1) {
    processors.push(new RepetitionPenaltyProcessor(options.repetitionPenalty));
  }
  if (options.noRepeatNgramSize > 0) {
    processors.push(new NoRepeatNgramProcessor(options.noRepeatNgramSize));
  }
  if (options.minNewTokens > 0 && options.eosTokenIds.length > 0) {
    processors.push(new MinNewTokensProcessor(options.minNewTokens, options.eosTokenIds));
  }
  return processors;
}

export function applyLogitsProcessors(
  processors: readonly LogitsProcessor[],
  logits: Float32Array,
  generated: Int32Array,
): void {
  for (const processor of processors) processor.process(logits, generated);
}
