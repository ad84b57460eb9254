// The model interfaces that the experiment runner calls. The ONNX runtime, the LLaVA backends and
// the tests' doubles implement them, so the runner never depends on how a model runs.
import type { AttentionDocument } from "../../shared/attention/schema.ts";
import { detectImageType } from "../../shared/image/sniff.ts";
import type { CaptionBackend, CaptionGeneration } from "../../shared/llava/types.ts";

export type ModelFamily = "prefix-gpt2" | "llava";

export interface CaptionRequest {
  /** Generation options with transformers' GenerationConfig names, as the experiment config gives them. */
  decoding: Record<string, unknown>;
  /** LLaVA's prompt; absent for models without instructions. */
  instruction?: string;
  /** Return per-token attention maps (`edgecap.attention/v1`) for this image. */
  attention: boolean;
  /** Id that the attention document gives the image: its file name without extension. */
  imageId: string;
}

export interface CaptionOutput {
  /** Best first; the first one is scored. */
  captions: string[];
  /** Present when the request asked for attention and the model can produce it. */
  attention: AttentionDocument | null;
  /** Milliseconds per stage, named by the model (preprocess_ms, encode_ms, generate_ms, ...). */
  timings: Record<string, number>;
}

export interface CaptionModel {
  id: string;
  /** Content hash of the model files; null where the weights are not hashed (LLaVA). */
  sha256: string | null;
  family: ModelFamily;
  /** Captions one encoded image file (JPEG, PNG, ...). */
  caption(image: Uint8Array, request: CaptionRequest): Promise<CaptionOutput>;
}

export interface ClipModel {
  id: string;
  sha256: string | null;
  /** Embeds one encoded image file; the model does its own decoding and preprocessing. */
  embedImage(image: Uint8Array): Promise<Float32Array>;
  /** Embeds texts as given; the runner has already put the CLIPScore prefix in front. */
  embedTexts(texts: string[]): Promise<Float32Array[]>;
}

/** Constructors of the models a config names; tests pass doubles. */
export interface ModelFactories {
  /** Loads the captioner package in `packageDir` (an absolute path). */
  captioner(packageDir: string): Promise<CaptionModel>;
  /** Loads the CLIP package in `packageDir` (an absolute path). */
  clip(packageDir: string): Promise<ClipModel>;
  /** Builds a LLaVA caption backend from the model's `backend` object in the config. */
  llavaBackend(backend: { kind: string } & Record<string, unknown>): Promise<CaptionBackend>;
}

/** Defaults of the LLaVA backend options that the experiment config may leave out. */
const LLAVA_GENERATION_DEFAULTS = {
  max_new_tokens: 30,
  temperature: 1,
  top_p: 1,
  do_sample: false,
};

/**
 * Adapts a LLaVA caption backend to CaptionModel. Backends return text only, so `attention` is
 * always null and `sha256` too (the weights sit on the server).
 */
export function backendCaptionModel(id: string, backend: CaptionBackend): CaptionModel {
  return {
    id,
    sha256: null,
    family: "llava",
    async caption(image, request) {
      const generation = { ...LLAVA_GENERATION_DEFAULTS, ...request.decoding } as CaptionGeneration;
      const result = await backend.caption({
        image,
        mediaType: `image/${detectImageType(image)}`,
        instruction: request.instruction ?? "",
        generation,
      });
      const timings: Record<string, number> = {};
      if (result.latencyMs !== undefined) timings.backend_ms = result.latencyMs;
      return { captions: result.captions.map((caption) => caption.text), attention: null, timings };
    },
  };
}
