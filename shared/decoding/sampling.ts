// Greedy decoding and multinomial sampling: every sequence is its own row, tokens are final as soon
// as they are chosen, and finished sequences leave the batch.
import { applyLogitsProcessors, type LogitsProcessor } from "./logits-processors.ts";
import type { ResolvedGenerationOptions } from "./options.ts";
import type { Xoshiro128StarStar } from "./prng.ts";
import { processRows } from "./process-rows.ts";
import { RowHistories } from "./row-histories.ts";
import type { StepRunner } from "./step-runner.ts";
import type { GeneratedSequence, TokenEvent } from "./types.ts";

export interface TokenChooser {
  /** Returns the token to continue with from one processed row of logits. */
  choose(processedLogits: Float32Array): number;
}

/** Picks the highest logit; on ties the lowest token id, like torch.argmax. */
export class GreedyChooser implements TokenChooser {
  choose(processedLogits: Float32Array): number {
    let best = -1;
    let bestLogit = Number.NEGATIVE_INFINITY;
    for (let token = 0; token < processedLogits.length; token++) {
      const logit = processedLogits[token] as number;
      if (logit > bestLogit) {
        bestLogit = logit;
        best = token;
      }
    }
    return best;
  }
}

/** Applies the sampling warpers to a copy of the row and draws one token from the softmax of the result. */
export class SamplingChooser implements TokenChooser {
  readonly warpers: readonly LogitsProcessor[];
  readonly random: Xoshiro128StarStar;
  private readonly warped: Float32Array;
  private readonly weights: Float64Array;

  constructor(vocabSize: number, warpers: readonly LogitsProcessor[], random: Xoshiro128StarStar) {
    this.warpers = warpers;
    this.random = random;
    this.warped = new Float32Array(vocabSize);
    this.weights = new Float64Array(vocabSize);
  }

  choose(processedLogits: Float32Array): number {
    const warped = this.warped;
    warped.set(processedLogits);
    // Warpers ignore the history argument, so an empty one is passed.
    applyLogitsProcessors(this.warpers, warped, EMPTY_HISTORY);
    return drawFromLogits(warped, this.weights, this.random.nextDouble());
  }
}

const EMPTY_HISTORY = new Int32Array(0);

/**
 * Draws a token with probability softmax(logits): walks the cumulative weights in token order until
 * they pass `uniform` x total. Returns -1 when every logit is -Infinity. `weights` is scratch space.
 */
export function drawFromLogits(
  logits: Float32Array,
  weights: Float64Array,
  uniform: number,
): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let token = 0; token < logits.length; token++) {
    const logit = logits[token] as number;
    if (logit > max) max = logit;
  }
  if (max === Number.NEGATIVE_INFINITY) return -1;

  let total = 0;
  let lastPossible = -1;
  for (let token = 0; token < logits.length; token++) {
    const weight = Math.exp((logits[token] as number) - max);
    weights[token] = weight;
    total += weight;
    if (weight > 0) lastPossible = token;
  }

  const target = uniform * total;
  let cumulative = 0;
  for (let token = 0; token < logits.length; token++) {
    cumulative += weights[token] as number;
    if (cumulative > target && (weights[token] as number) > 0) return token;
  }
  // Rounding can leave the cumulative sum a hair under the target for uniform close to 1.
  return lastPossible;
}

interface RunningSequence {
  sequenceIndex: number;
  row: number;
}

export async function runGreedyOrSampling(
  runner: StepRunner,
  options: ResolvedGenerationOptions,
  processors: readonly LogitsProcessor[],
  chooser: TokenChooser,
  onToken: ((event: TokenEvent) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<GeneratedSequence[]> {
  const { vocabSize, maxNewTokens, numReturnSequences } = options;
  const isEos = new Uint8Array(vocabSize);
  for (const token of options.eosTokenIds) isEos[token] = 1;

  const results: (GeneratedSequence | undefined)[] = new Array(numReturnSequences);
  const histories = new RowHistories(maxNewTokens);
  // Step 0 runs the begin token once; all sequences draw their first token from that row.
  let running: RunningSequence[] = Array.from(
    { length: numReturnSequences },
    (_, sequenceIndex) => ({
      sequenceIndex,
      row: 0,
    }),
  );
  let tokenIds = Int32Array.of(options.bosTokenId);
  let beamIndices: Int32Array | null = null;

  for (let stepIndex = 0; stepIndex < maxNewTokens; stepIndex++) {
    signal?.throwIfAborted();
    const { logits, attentionRows } = await runner.run(tokenIds, beamIndices, stepIndex);
    const withAttention = attentionRows !== null;

    const normalizers = processRows(logits, vocabSize, processors, histories, stepIndex);

    const continuing: RunningSequence[] = [];
    const parents: number[] = [];
    const tokens: number[] = [];
    const logprobs: number[] = [];
    for (const sequence of running) {
      const rowLogits = logits.subarray(sequence.row * vocabSize, (sequence.row + 1) * vocabSize);
      const token = chooser.choose(rowLogits);
      if (token < 0) {
        throw new Error(
          `every token is masked for sequence ${sequence.sequenceIndex} at step ${stepIndex}: lower no_repeat_ngram_size or min_new_tokens, or check the model's logits.`,
        );
      }
      const logprob = (rowLogits[token] as number) - (normalizers[sequence.row] as number);

      if (isEos[token] === 1) {
        const path = histories.snapshot(sequence.row, withAttention);
        results[sequence.sequenceIndex] = {
          tokenIds: path.tokenIds,
          finishReason: "eos",
          endTokenId: token,
          score: histories.logprobSum(sequence.row) + logprob,
          tokenLogprobs: path.tokenLogprobs,
          endLogprob: logprob,
          attention: path.attention,
        };
        continue;
      }

      continuing.push({ sequenceIndex: sequence.sequenceIndex, row: parents.length });
      parents.push(sequence.row);
      tokens.push(token);
      logprobs.push(logprob);
      onToken?.({ sequenceIndex: sequence.sequenceIndex, tokenId: token, logprob, stepIndex });
    }
    if (continuing.length === 0) break;

    const parentAttention =
      attentionRows === null ? null : parents.map((row) => attentionRows[row] as Float32Array);
    histories.advance(parents, tokens, logprobs, parentAttention);
    beamIndices = isIdentity(parents, tokenIds.length) ? null : Int32Array.from(parents);
    running = continuing;
    tokenIds = Int32Array.from(tokens);

    if (stepIndex + 1 === maxNewTokens) {
      for (const sequence of running) {
        const path = histories.snapshot(sequence.row, withAttention);
        results[sequence.sequenceIndex] = {
          tokenIds: path.tokenIds,
          finishReason: "length",
          endTokenId: null,
          score: histories.logprobSum(sequence.row),
          tokenLogprobs: path.tokenLogprobs,
          endLogprob: null,
          attention: path.attention,
        };
      }
    }
  }

  return results.filter((sequence): sequence is GeneratedSequence => sequence !== undefined);
}

/** True when row i continues row i of the previous step for every i, so the KV cache needs no gather. */
function isIdentity(parents: readonly number[], previousRowCount: number): boolean {
  return parents.length === previousRowCount && parents.every((parent, row) => parent === row);
}
