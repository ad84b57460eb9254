// Public surface of the decoding module: generate() over a StepModel, the options and their errors,
// and the building blocks for callers that compose their own search.
export { BeamHypotheses } from "./beam-hypotheses.ts";
export { generate } from "./generate.ts";
export { HammingDiversity } from "./hamming-diversity.ts";
export { logSoftmax, logSumExp } from "./log-softmax.ts";
export {
  applyLogitsProcessors,
  buildLogitsProcessors,
  type LogitsProcessor,
  MinNewTokensProcessor,
  NoRepeatNgramProcessor,
  RepetitionPenaltyProcessor,
} from "./logits-processors.ts";
export { findBannedNgramTokens } from "./ngram-bans.ts";
export {
  GENERATION_DEFAULTS,
  type GenerationOptions,
  GenerationOptionsError,
  type ResolvedGenerationOptions,
  resolveGenerationOptions,
} from "./options.ts";
export { drawRandomSeed, Xoshiro128StarStar } from "./prng.ts";
export { drawFromLogits } from "./sampling.ts";
export {
  buildSamplingWarpers,
  TemperatureWarper,
  TopKWarper,
  TopPWarper,
} from "./sampling-warpers.ts";
export type {
  DecodingStrategy,
  FinishReason,
  GeneratedSequence,
  GenerateHooks,
  GenerationResult,
  StepInput,
  StepModel,
  StepOutput,
  TokenEvent,
} from "./types.ts";
