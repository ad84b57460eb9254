// The JSON shape of a caption response: snake_case fields, the same for ONNX models and LLaVA.
import type { AttentionDocument } from "../../shared/attention/schema.ts";
import type { CaptionResult } from "../../shared/runtime/captioner.ts";

export interface CaptionResponse {
  model: {
    id: string;
    sha256: string | null;
    kind: "onnx" | "llava";
    backend?: string;
    name?: string;
  };
  image: { sha256: string; width: number; height: number };
  strategy: string;
  seed: number | null;
  captions: {
    text: string;
    /** Sequence score (log-probability based); null for LLaVA, whose backends report none. */
    score: number | null;
    finish_reason: string | null;
    tokens: { id: number; text: string; logprob: number }[];
  }[];
  attention: AttentionDocument | null;
  cache: "hit" | "miss" | "off";
  timings: Record<string, number>;
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  warnings?: { code: string; message: string }[];
}

/** Maps the runtime's result; `totalMs` is the route's own measurement. */
export function onnxCaptionResponse(result: CaptionResult, totalMs: number): CaptionResponse {
  return {
    model: { id: result.model.id, sha256: result.model.sha256, kind: "onnx" },
    image: result.image,
    strategy: result.strategy,
    seed: result.seed,
    captions: result.captions.map((caption) => ({
      text: caption.text,
      score: caption.score,
      finish_reason: caption.finishReason,
      tokens: caption.tokens,
    })),
    attention: result.attention,
    cache: result.cache,
    timings: {
      preprocess_ms: result.timings.preprocessMs,
      encode_ms: result.timings.encodeMs,
      generate_ms: result.timings.generateMs,
      steps: result.timings.steps,
      total_ms: totalMs,
    },
  };
}
