// Caption results of the community captioner in OnnxCaptioner's shape: hypotheses with per-token
// log-probabilities, and the edgecap.attention/v1 document built from the cross-attention rows.
import {
  ATTENTION_SCHEMA,
  type AttentionDocument,
  normalizeAttentionRow,
} from "../../attention/schema.ts";
import type { GeneratedSequence, GenerationResult } from "../../decoding/types.ts";
import type { CaptionTokenizer } from "../../tokenizers/tokenizer.ts";
import type { CaptionHypothesis, CaptionRequest, CaptionResult } from "../captioner.ts";

export function captionHypothesis(
  tokenizer: CaptionTokenizer,
  sequence: GeneratedSequence,
): CaptionHypothesis {
  const ids = Array.from(sequence.tokenIds);
  const display = tokenizer.displayTokens(ids);
  return {
    text: tokenizer.decode(ids).trim(),
    score: sequence.score,
    finishReason: sequence.finishReason,
    tokens: ids.map((id, i) => ({
      id,
      text: display[i] ?? "",
      logprob: sequence.tokenLogprobs[i] ?? 0,
    })),
  };
}

export interface AttentionDocumentParts {
  model: { id: string; sha256: string };
  request: CaptionRequest;
  result: GenerationResult;
  captions: CaptionHypothesis[];
  crop: { left: number; top: number; width: number; height: number };
  image: CaptionResult["image"];
  grid: { rows: number; cols: number };
  numLayers: number;
}

/** Builds the attention document; each token's row comes from its own hypothesis's beam path. */
export function crossAttentionDocument(parts: AttentionDocumentParts): AttentionDocument {
  const { grid, image, crop, request, result, captions } = parts;
  return {
    schema: ATTENTION_SCHEMA,
    model: {
      ...parts.model,
      family: "vision-encoder-decoder",
      attention: "cross-attention over the encoder's patch tokens, heads and layers averaged",
    },
    image: {
      id: request.imageId ?? image.sha256.slice(0, 16),
      width: image.width,
      height: image.height,
      sha256: image.sha256,
    },
    config: { strategy: result.strategy, ...(request.generation ?? {}) },
    grid: { rows: grid.rows, cols: grid.cols },
    crop: { left: crop.left, top: crop.top, width: crop.width, height: crop.height },
    layers: Array.from({ length: parts.numLayers }, (_, i) => i),
    sink_removed: false,
    hypotheses: result.sequences.map((sequence, rank) => {
      const caption = captions[rank] as CaptionHypothesis;
      return {
        rank,
        caption: caption.text,
        score: sequence.score,
        tokens: caption.tokens.map((token, index) => {
          const row = sequence.attention?.[index];
          const { attention, imageMass } = normalizeAttentionRow(
            row ?? new Float32Array(grid.rows * grid.cols),
          );
          return { index, id: token.id, text: token.text, image_mass: imageMass, attention };
        }),
      };
    }),
  };
}
