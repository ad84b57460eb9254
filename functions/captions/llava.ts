// Captions with LLaVA-1.5 through the configured backend. The image bytes go to the backend
// unchanged, with the media type detected from their magic bytes. Options that only the ONNX
// runtime has (attention grids, streaming, n-gram bans, beam groups) fail with 400 here. Options a
// backend cannot honour fail with 400 from the adapter, timeouts with 504 and failures with 502.
import type { Context } from "hono";
import { sha256Hex } from "../../shared/image/hash.ts";
import type { CaptionGeneration } from "../../shared/llava/types.ts";
import { type AppEnv, readLimit } from "../env.ts";
import type { LlavaBackendFactory } from "../llava/backend.ts";
import { ProblemError, type ProblemField } from "../problem.ts";
import { checkImageHeader, DEFAULT_MAX_IMAGE_PIXELS } from "./onnx.ts";
import type { CaptionOptions } from "./options-schema.ts";
import type { CaptionResponse } from "./response.ts";

/** The instruction LLaVA-1.5 gets when the request sends none. */
export const DEFAULT_LLAVA_INSTRUCTION = "Describe this image using one or more simple sentences.";

const ONNX_ONLY_OPTIONS = [
  ["attention", "attention grids come only from the ONNX captioners"],
  ["stream", "the LLaVA backends return whole captions"],
  ["num_beam_groups", "the LLaVA backends have no diverse beam search"],
  ["diversity_penalty", "the LLaVA backends have no diverse beam search"],
  ["no_repeat_ngram_size", "the LLaVA backends have no n-gram ban"],
  ["early_stopping", "the LLaVA backends do not take early_stopping"],
  ["image_id", "image_id names the image in attention documents, which LLaVA does not return"],
] as const;

function rejectOnnxOnlyOptions(options: CaptionOptions): void {
  const errors: ProblemField[] = [];
  for (const [name, reason] of ONNX_ONLY_OPTIONS) {
    const value = options[name];
    if (value === undefined || value === false) continue;
    errors.push({ path: `/${name}`, message: `not available for model llava: ${reason}` });
  }
  if (errors.length > 0) {
    throw new ProblemError(
      400,
      "validation-failed",
      "Options not available for LLaVA",
      `${errors.map((error) => error.path.slice(1)).join(", ")} cannot be used with model llava. Remove them or choose an ONNX model.`,
      errors,
    );
  }
}

function llavaGeneration(options: CaptionOptions): CaptionGeneration {
  const generation: CaptionGeneration = {
    max_new_tokens: options.max_new_tokens ?? 30,
    temperature: options.temperature ?? 1,
    top_p: options.top_p ?? 1,
    do_sample: options.do_sample ?? false,
  };
  if (options.top_k !== undefined) generation.top_k = options.top_k;
  if (options.num_beams !== undefined) generation.num_beams = options.num_beams;
  if (options.num_return_sequences !== undefined) {
    generation.num_return_sequences = options.num_return_sequences;
  }
  if (options.seed !== undefined) generation.seed = options.seed;
  if (options.repetition_penalty !== undefined) {
    generation.repetition_penalty = options.repetition_penalty;
  }
  if (options.min_new_tokens !== undefined) generation.min_new_tokens = options.min_new_tokens;
  if (options.length_penalty !== undefined) generation.length_penalty = options.length_penalty;
  return generation;
}

function strategyOf(generation: CaptionGeneration): string {
  if (generation.do_sample) return "sampling";
  return (generation.num_beams ?? 1) > 1 ? "beam_search" : "greedy";
}

export async function captionWithLlava(
  c: Context<AppEnv>,
  image: Uint8Array,
  options: CaptionOptions,
  createBackend: LlavaBackendFactory,
): Promise<Response> {
  const started = Date.now();
  c.set("model", "llava");
  c.set("cache", "off");
  rejectOnnxOnlyOptions(options);
  const maxPixels = readLimit(c.env.EDGECAP_MAX_IMAGE_PIXELS, DEFAULT_MAX_IMAGE_PIXELS);
  const header = checkImageHeader(image, maxPixels);

  const backend = createBackend(c.env);
  const generation = llavaGeneration(options);
  const result = await backend.caption({
    image,
    mediaType: `image/${header.type}`,
    instruction: options.instruction ?? DEFAULT_LLAVA_INSTRUCTION,
    generation,
    signal: c.req.raw.signal,
  });

  const response: CaptionResponse = {
    model: {
      id: "llava",
      sha256: null,
      kind: "llava",
      backend: result.backend,
      name: result.model,
    },
    image: { sha256: await sha256Hex(image), width: header.width, height: header.height },
    strategy: strategyOf(generation),
    seed: generation.seed ?? null,
    captions: result.captions.map((caption) => ({
      text: caption.text,
      score: null,
      finish_reason: caption.finishReason,
      tokens: [],
    })),
    attention: null,
    cache: "off",
    timings: {
      ...(result.latencyMs === undefined ? {} : { backend_ms: result.latencyMs }),
      total_ms: Date.now() - started,
    },
    usage:
      result.usage === null
        ? null
        : {
            prompt_tokens: result.usage.promptTokens,
            completion_tokens: result.usage.completionTokens,
          },
    warnings: result.warnings.map((warning) => ({ code: warning.code, message: warning.message })),
  };
  c.header("x-edgecap-cache", "off");
  return c.json(response);
}
