// Captions with an ONNX captioner package. Cheap checks run before the model loads: the image type
// and size from the header, and the decoding options. The result is one JSON response, or a
// stream of server-sent events with each token as soon as greedy decoding or sampling fixes it.
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { resolveGenerationOptions } from "../../shared/decoding/options.ts";
import { assertPixelLimit, probeImage } from "../../shared/image/decode.ts";
import type { OnnxCaptioner } from "../../shared/runtime/captioner.ts";
import { type AppEnv, readLimit } from "../env.ts";
import { toProblem } from "../errors/to-problem.ts";
import { logJson } from "../middleware/request-log.ts";
import { resolvePackage } from "../models/registry.ts";
import { loadCaptioner } from "../models/sessions.ts";
import { ProblemError, problemBody } from "../problem.ts";
import { type CaptionOptions, type GenerationFields, generationOf } from "./options-schema.ts";
import { onnxCaptionResponse } from "./response.ts";

/** 4096 x 4096: the decoded RGB buffer (48 MiB) still fits a 128 MiB isolate. */
export const DEFAULT_MAX_IMAGE_PIXELS = 16_777_216;

/** Rejects bad images from the header alone (type, dimensions, pixel count). */
export function checkImageHeader(
  image: Uint8Array,
  maxPixels: number,
): { width: number; height: number; type: string } {
  const header = probeImage(image);
  assertPixelLimit(header, maxPixels);
  return header;
}

/** Runs the runtime's option checks with the package's token ids, so invalid options fail before streaming. */
function checkGeneration(captioner: OnnxCaptioner, generation: GenerationFields): string {
  const { tokenizer, decoder, generation: packageGeneration } = captioner.manifest;
  const resolved = resolveGenerationOptions(
    {
      max_new_tokens: packageGeneration?.max_new_tokens ?? 30,
      ...generation,
      bos_token_id: tokenizer.bos_token_id,
      eos_token_id: tokenizer.eos_token_id,
      pad_token_id: tokenizer.pad_token_id ?? tokenizer.eos_token_id,
    },
    decoder.vocab_size,
  );
  return resolved.strategy;
}

export async function captionWithOnnx(
  c: Context<AppEnv>,
  image: Uint8Array,
  options: CaptionOptions,
): Promise<Response> {
  const started = Date.now();
  const maxPixels = readLimit(c.env.EDGECAP_MAX_IMAGE_PIXELS, DEFAULT_MAX_IMAGE_PIXELS);
  checkImageHeader(image, maxPixels);

  const entry = await resolvePackage(c.env, "captioner", options.model);
  c.set("model", entry.id);
  const captioner = await loadCaptioner(c.env, entry);
  const generation = generationOf(options);
  const strategy = checkGeneration(captioner, generation);

  const request = {
    generation,
    attention: options.attention === true,
    maxPixels,
    ...(options.image_id === undefined ? {} : { imageId: options.image_id }),
    signal: c.req.raw.signal,
  };

  if (options.stream !== true) {
    const result = await captioner.caption(image, request);
    c.set("cache", result.cache);
    c.header("x-edgecap-cache", result.cache);
    return c.json(onnxCaptionResponse(result, Date.now() - started));
  }

  if (strategy !== "greedy" && strategy !== "sampling") {
    throw new ProblemError(
      400,
      "validation-failed",
      "Streaming needs greedy decoding or sampling",
      `stream is not available for ${strategy}: beam search fixes no token until the search ends. Set num_beams to 1, or stream to false.`,
      [{ path: "/stream", message: `not available for ${strategy}` }],
    );
  }

  return streamSSE(c, async (stream) => {
    // onToken is synchronous, so the writes are chained and awaited before the final event.
    let writes: Promise<void> = Promise.resolve();
    try {
      const result = await captioner.caption(image, {
        ...request,
        onToken: (event) => {
          const data = JSON.stringify({
            sequence_index: event.sequenceIndex,
            id: event.tokenId,
            text: event.text,
            logprob: event.logprob,
          });
          writes = writes.then(() => stream.writeSSE({ event: "token", data }));
        },
      });
      await writes;
      c.set("cache", result.cache);
      await stream.writeSSE({
        event: "result",
        data: JSON.stringify(onnxCaptionResponse(result, Date.now() - started)),
      });
    } catch (error) {
      await writes.catch(() => undefined);
      const problem =
        toProblem(error) ??
        new ProblemError(
          500,
          "internal-error",
          "Internal error",
          "Captioning failed. Quote the instance id when reporting it.",
        );
      if (problem.status >= 500) {
        logJson("error", "streamed caption failed", {
          request_id: c.get("requestId"),
          model: entry.id,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
      }
      await stream.writeSSE({
        event: "error",
        data: JSON.stringify(problemBody(c.get("requestId"), problem)),
      });
    }
  });
}
