// POST /v1/clipscore: CLIPScore of captions for one image, and RefCLIPScore when reference
// captions are given, with the CLIP package (the image embedding is cached like caption prefixes).
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { CLIP_SCORE_PAPER_PREFIX } from "../../shared/clip/score.ts";
import { checkImageHeader, DEFAULT_MAX_IMAGE_PIXELS } from "../captions/onnx.ts";
import { zodProblems } from "../captions/options-schema.ts";
import { readImageUpload } from "../captions/request-body.ts";
import { type AppEnv, readLimit } from "../env.ts";
import { resolvePackage } from "../models/registry.ts";
import { loadClip } from "../models/sessions.ts";
import { COMMON_ERRORS, problemResponse } from "../openapi-schemas.ts";
import { ProblemError } from "../problem.ts";

/** Captions and references per request; each is one row of the CLIP text graph's batch. */
export const MAX_CLIP_TEXTS = 32;

const clipOptionsSchema = z
  .object({
    captions: z
      .array(z.string())
      .min(1)
      .max(MAX_CLIP_TEXTS, `at most ${MAX_CLIP_TEXTS} captions per request`),
    references: z
      .array(z.string())
      .min(1)
      .max(MAX_CLIP_TEXTS, `at most ${MAX_CLIP_TEXTS} references per request`)
      .optional(),
    model: z.string().min(1).optional(),
    prefix: z
      .string()
      .max(200)
      .optional()
      .openapi({
        description: `Text put before every caption and reference; default "" (none). "${CLIP_SCORE_PAPER_PREFIX}" gives the protocol of Hessel et al. (2021).`,
      }),
  })
  .strict();

const clipJsonSchema = clipOptionsSchema
  .extend({ image_base64: z.string() })
  .openapi("ClipScoreRequest");

const clipResponseSchema = z
  .object({
    model: z.object({ id: z.string(), sha256: z.string() }),
    image: z.object({ sha256: z.string() }),
    cache: z.enum(["hit", "miss", "off"]),
    prefix: z.string(),
    clip_score: z.number(),
    ref_clip_score: z.number().optional(),
    pairs: z.array(
      z.object({
        caption: z.string(),
        clip_score: z.number(),
        ref_clip_score: z.number().optional(),
      }),
    ),
  })
  .openapi("ClipScoreResponse");

export function registerClipScoreRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/v1/clipscore",
    summary: "CLIPScore of captions for one image",
    description:
      'JSON with image_base64, or multipart with field image and the other fields as JSON text (captions=["..."]).',
    request: {
      body: {
        content: {
          "application/json": { schema: clipJsonSchema },
          "multipart/form-data": {
            schema: z.object({
              image: z.string().openapi({ format: "binary" }),
              captions: z.string(),
            }),
          },
        },
      },
    },
    responses: {
      200: {
        description: "CLIP-S per caption and the mean.",
        content: { "application/json": { schema: clipResponseSchema } },
      },
      ...COMMON_ERRORS,
      422: problemResponse("The image is invalid."),
    },
  });

  app.post("/v1/clipscore", async (c) => {
    const upload = await readImageUpload(c.req.raw);
    const parsed = clipOptionsSchema.safeParse(upload.options);
    if (!parsed.success) {
      const errors = zodProblems(parsed.error, "", "a CLIPScore option");
      throw new ProblemError(
        400,
        "validation-failed",
        "Invalid CLIPScore request",
        `${errors[0]?.path.slice(1) ?? "request"}: ${errors[0]?.message ?? "invalid"}.`,
        errors,
      );
    }
    const options = parsed.data;
    const maxPixels = readLimit(c.env.EDGECAP_MAX_IMAGE_PIXELS, DEFAULT_MAX_IMAGE_PIXELS);
    checkImageHeader(upload.image, maxPixels);

    const entry = await resolvePackage(c.env, "clip", options.model);
    c.set("model", entry.id);
    const clip = await loadClip(c.env, entry);
    const embedded = await clip.embedImageBytes(upload.image, maxPixels);
    c.set("cache", embedded.cache);
    c.header("x-edgecap-cache", embedded.cache);

    const prefix = options.prefix ?? "";
    const images = options.captions.map(() => embedded.embedding);
    const references = options.references;
    const result = await clip.score(images, options.captions, {
      prefix,
      ...(references === undefined ? {} : { references: options.captions.map(() => references) }),
    });

    return c.json({
      model: { id: clip.id, sha256: clip.sha256 },
      image: { sha256: embedded.imageSha256 },
      cache: embedded.cache,
      prefix,
      clip_score: result.clipScore,
      ...(result.refClipScore === undefined ? {} : { ref_clip_score: result.refClipScore }),
      pairs: result.pairs.map((pair, index) => ({
        caption: options.captions[index] as string,
        clip_score: pair.clipScore,
        ...(pair.refClipScore === undefined ? {} : { ref_clip_score: pair.refClipScore }),
      })),
    });
  });
}
