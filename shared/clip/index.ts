// CLIPScore math and the embedder interface that the ONNX runtime implements.
export { cosineSimilarity } from "./cosine.ts";
export type { ClipEmbedder } from "./embedder.ts";
export { type CaptionScoreOptions, type CaptionScoreRequest, scoreCaptions } from "./pipeline.ts";
export {
  CLIP_SCORE_PAPER_PREFIX,
  CLIP_SCORE_WEIGHT,
  type ClipScoreInput,
  type ClipScoreResult,
  clipScore,
  type PairScore,
  refClipScore,
  referenceSimilarity,
  scoreEmbeddings,
} from "./score.ts";
