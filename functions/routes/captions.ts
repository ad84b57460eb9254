// POST /v1/captions: caption one image with an ONNX captioner package or LLaVA.

import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { captionWithLlava } from "../captions/llava.ts";
import { captionWithOnnx } from "../captions/onnx.ts";
import { captionOptionsSchema, parseCaptionOptions } from "../captions/options-schema.ts";
import { readImageUpload } from "../captions/request-body.ts";
import type { AppEnv } from "../env.ts";
import type { LlavaBackendFactory } from "../llava/backend.ts";
import { COMMON_ERRORS, problemResponse } from "../openapi-schemas.ts";

const tokenSchema = z.object({ id: z.number().int(), text: z.string(), logprob: z.number() });

export const captionResponseSchema = z
  .object({
    model: z.object({
      id: z.string(),
      sha256: z.string().nullable(),
      kind: z.enum(["onnx", "llava"]),
      backend: z.string().optional(),
      name: z.string().optional(),
    }),
    image: z.object({ sha256: z.string(), width: z.number().int(), height: z.number().int() }),
    strategy: z.enum(["greedy", "sampling", "beam_search", "diverse_beam_search"]),
    seed: z.number().int().nullable(),
    captions: z.array(
      z.object({
        text: z.string(),
        score: z.number().nullable(),
        finish_reason: z.string().nullable(),
        tokens: z.array(tokenSchema),
      }),
    ),
    attention: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: "An edgecap.attention/v1 document when attention was requested." }),
    cache: z.enum(["hit", "miss", "off"]),
    timings: z.record(z.string(), z.number()),
    usage: z
      .object({ prompt_tokens: z.number(), completion_tokens: z.number() })
      .nullable()
      .optional(),
    warnings: z.array(z.object({ code: z.string(), message: z.string() })).optional(),
  })
  .openapi("CaptionResponse");

const jsonBodySchema = captionOptionsSchema
  .extend({ image_base64: z.string().openapi({ description: "The image file, base64." }) })
  .openapi("CaptionJsonRequest");

const multipartBodySchema = z
  .object({ image: z.string().openapi({ type: "string", format: "binary" }) })
  .catchall(z.string())
  .openapi("CaptionMultipartRequest", {
    description: "Field image is the file; every caption option may be sent as a further field.",
  });

export function registerCaptionRoutes(
  app: OpenAPIHono<AppEnv>,
  createLlavaBackend: LlavaBackendFactory,
): void {
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/v1/captions",
    summary: "Caption an image",
    description:
      "Send the image as multipart field `image`, as the raw body with its image type (options as query parameters), or base64 in JSON `image_base64`. Images are never fetched from URLs; `image_url` is rejected. With `stream: true` the response is text/event-stream: `token` events, then one `result` event (or an `error` event with a problem document).",
    request: {
      body: {
        content: {
          "application/json": { schema: jsonBodySchema },
          "multipart/form-data": { schema: multipartBodySchema },
          "image/jpeg": { schema: z.string().openapi({ type: "string", format: "binary" }) },
          "image/png": { schema: z.string().openapi({ type: "string", format: "binary" }) },
          "image/webp": { schema: z.string().openapi({ type: "string", format: "binary" }) },
        },
      },
    },
    responses: {
      200: {
        description: "Captions, or a server-sent event stream when stream is true.",
        content: {
          "application/json": { schema: captionResponseSchema },
          "text/event-stream": { schema: z.string() },
        },
      },
      ...COMMON_ERRORS,
      422: problemResponse("The image header or data is invalid (truncated, corrupt)."),
      502: problemResponse("The LLaVA backend failed or is not configured."),
      503: problemResponse("The model package failed to load; the next request retries."),
      504: problemResponse("The LLaVA backend timed out."),
    },
  });

  app.post("/v1/captions", async (c) => {
    const upload = await readImageUpload(c.req.raw);
    const options = parseCaptionOptions(upload.options);
    if (options.model === "llava") {
      return captionWithLlava(c, upload.image, options, createLlavaBackend);
    }
    return captionWithOnnx(c, upload.image, options);
  });
}
