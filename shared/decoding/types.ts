// Public types of the decoding module: the step function that wraps a decoder, and the results.

/** Input of one decoder step for a batch of rows (beams or sampled sequences). */
export interface StepInput {
  /** The last token of each row: the begin token at step 0, then the token chosen at the previous step. */
  tokenIds: Int32Array;
  /**
   * For each row, the row of the previous step that it continues, so the model can gather its KV
   * cache on the batch axis before running. The row count may differ from the previous step:
   * step 0 always has one row, beams or sampled sequences fan out from it at step 1, and finished
   * rows leave the batch. `null` at step 0 (fresh cache) and when row i continues row i for every i.
   */
  beamIndices: Int32Array | null;
  /** Number of tokens generated before this step (0 for the step that reads the begin token). */
  stepIndex: number;
}

/** Output of one decoder step. */
export interface StepOutput {
  /** Next-token logits, row-major: rows x vocabSize. */
  logits: Float32Array;
  /**
   * Optional attention of each row's query at this step over the positions the caller cares about
   * (usually the image prefix), row-major: rows x width. The row belongs to the token chosen from
   * this step's logits. Either every step returns it or none does.
   */
  attention?: Float32Array;
}

/** A decoder wrapped as one batched call per generated token. */
export interface StepModel {
  vocabSize: number;
  step(input: StepInput): Promise<StepOutput>;
}

export type FinishReason = "eos" | "length";

/** One returned sequence. Arrays indexed by token are aligned with `tokenIds`. */
export interface GeneratedSequence {
  /** Generated tokens, without the begin token and without the end token. */
  tokenIds: Int32Array;
  /** "eos" when an end token stopped the sequence, "length" when max_new_tokens did. */
  finishReason: FinishReason;
  /** The end token that stopped the sequence, or null for finishReason "length". */
  endTokenId: number | null;
  /**
   * Ranking score. Beam search: sum of the token scores, end token included, divided by
   * length ** length_penalty, where length counts the end token; with beam groups the sum also
   * contains the diversity penalties. Greedy and sampling: sum of tokenLogprobs plus endLogprob.
   */
  score: number;
  /**
   * Log-probability of each token under the step's logits after the logits processors
   * (repetition penalty, n-gram ban, min_new_tokens mask) and before the sampling warpers
   * (temperature, top_k, top_p). Excludes the diversity penalty.
   */
  tokenLogprobs: Float64Array;
  /** Log-probability of the end token on the same terms, or null for finishReason "length". */
  endLogprob: number | null;
  /** The attention row of each token along this sequence's own path, or null when the model returns none. */
  attention: Float32Array[] | null;
}

export type DecodingStrategy = "greedy" | "sampling" | "beam_search" | "diverse_beam_search";

export interface GenerationResult {
  strategy: DecodingStrategy;
  /** Beam search: best score first. Greedy and sampling: in the order the sequences were drawn. */
  sequences: GeneratedSequence[];
  /** Number of `StepModel.step` calls made. */
  steps: number;
  /** The seed the sampling PRNG used (drawn at random when none was given), or null without sampling. */
  seed: number | null;
}

/** A token streamed by greedy decoding or sampling as soon as it is chosen. End tokens are not streamed. */
export interface TokenEvent {
  sequenceIndex: number;
  tokenId: number;
  logprob: number;
  stepIndex: number;
}

export interface GenerateHooks {
  /** Called for every generated token except end tokens. Rejected for beam search, where tokens are not final. */
  onToken?: (event: TokenEvent) => void;
  /** Stops generation between steps; `generate` then rejects with the signal's reason. */
  signal?: AbortSignal;
}
