// POST /v1/metrics/caption: BLEU-1..4, ROUGE-L and CIDEr-D of predictions against references, in
// either prediction format of shared/formats (an object keyed by file name, or a COCO results
// list), with corpus and per-image scores. Every problem in the documents is returned at once.
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { readEvaluationInput } from "../../shared/formats/evaluation-input.ts";
import { findDuplicateKeys, parseJsonText } from "../../shared/formats/json-text.ts";
import { METRIC_NAMES, scoreCaptions } from "../../shared/metrics/score.ts";
import { zodProblems } from "../captions/options-schema.ts";
import { type AppEnv, readLimit } from "../env.ts";
import { COMMON_ERRORS } from "../openapi-schemas.ts";
import { ProblemError } from "../problem.ts";

/** Images per request: CIDEr-D of 5000 COCO images takes seconds of CPU, near a Worker's budget. */
export const DEFAULT_MAX_METRIC_IMAGES = 5000;

const metricsRequestSchema = z
  .object({
    predictions: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).openapi({
      description:
        'Either {"<file name without extension>": "caption"} or a COCO results list [{"image_id", "caption"}].',
      example: { "000000000139": "a living room with a television and chairs" },
    }),
    references: z.record(z.string(), z.unknown()).openapi({
      description:
        'A COCO captions document: {"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}.',
    }),
    metrics: z
      .array(z.enum(METRIC_NAMES as [string, ...string[]]))
      .min(1)
      .optional(),
    tokenize: z.boolean().optional().openapi({
      description: "PTB-tokenize captions first (default true), as the COCO evaluation does.",
    }),
  })
  .strict()
  .openapi("MetricsRequest");

const scoresSchema = z.object({
  bleu: z.array(z.number()).optional(),
  rouge_l: z.number().optional(),
  cider_d: z.number().optional(),
});

const metricsResponseSchema = z
  .object({
    format: z.enum(["homework", "coco-results"]),
    image_count: z.number().int(),
    metrics: z.array(z.string()),
    tokenization: z.string(),
    document_frequency: z.record(z.string(), z.unknown()),
    corpus: scoresSchema,
    per_image: z.array(scoresSchema.extend({ image_id: z.string() })),
    warnings: z.array(z.object({ code: z.string(), message: z.string() })),
    input_warnings: z.array(z.object({ path: z.string(), message: z.string() })),
  })
  .openapi("MetricsResponse");

const route = createRoute({
  method: "post",
  path: "/v1/metrics/caption",
  summary: "Score captions against references",
  request: {
    body: { content: { "application/json": { schema: metricsRequestSchema } }, required: true },
  },
  responses: {
    200: {
      description: "Corpus and per-image scores.",
      content: { "application/json": { schema: metricsResponseSchema } },
    },
    ...COMMON_ERRORS,
  },
});

function countReferenceImages(references: Record<string, unknown>): number {
  return Array.isArray(references.images) ? references.images.length : 0;
}

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

type MetricsRequest = z.infer<typeof metricsRequestSchema>;

/**
 * Reads and validates the JSON body from its text, so that a syntax error is reported with its line
 * and column, and repeated keys in `predictions` (which JSON.parse merges) can be found.
 */
async function readMetricsRequest(
  request: Request,
): Promise<{ body: MetricsRequest; duplicatePredictionKeys: string[] }> {
  const contentType = request.headers.get("content-type") ?? "";
  const mediaType = contentType.split(";")[0]?.trim() ?? "";
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new ProblemError(
      415,
      "unsupported-media-type",
      "Unsupported Content-Type",
      `Content-Type ${contentType === "" ? "(none)" : `"${contentType}"`} is not accepted. Send the request as application/json.`,
    );
  }

  const text = await request.text();
  const parsed = parseJsonText(text, "body");
  if (!parsed.ok) {
    throw new ProblemError(
      400,
      "invalid-json",
      "Invalid JSON",
      `The request body is ${parsed.problem.message}.`,
    );
  }

  const result = metricsRequestSchema.safeParse(parsed.value);
  if (!result.success) {
    const errors = zodProblems(result.error, "", "a field of a metrics request");
    const first = errors[0];
    throw new ProblemError(
      400,
      "validation-failed",
      "Invalid request",
      first === undefined ? "The request is invalid." : `${first.path}: ${first.message}`,
      errors,
    );
  }

  const body = result.data;
  const duplicatePredictionKeys = Array.isArray(body.predictions)
    ? []
    : findDuplicateKeys(text, ["predictions"]);
  return { body, duplicatePredictionKeys };
}

export function registerMetricsRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerPath(route);

  app.post(route.path, async (c) => {
    const { body, duplicatePredictionKeys } = await readMetricsRequest(c.req.raw);
    const maxImages = readLimit(c.env.EDGECAP_MAX_METRIC_IMAGES, DEFAULT_MAX_METRIC_IMAGES);
    const imageCount = Math.max(
      countReferenceImages(body.references),
      Array.isArray(body.predictions)
        ? body.predictions.length
        : Object.keys(body.predictions).length,
    );
    if (imageCount > maxImages) {
      throw new ProblemError(
        413,
        "too-many-items",
        "Too many images",
        `The request has ${imageCount} images (or predictions); at most ${maxImages} are scored per request. Split the corpus, or score it offline with edgecap evaluate.`,
      );
    }

    const input = readEvaluationInput(body.predictions, body.references, {
      duplicatePredictionKeys,
    });
    let report: ReturnType<typeof scoreCaptions>;
    try {
      report = scoreCaptions(input.corpus, {
        ...(body.metrics === undefined
          ? {}
          : { metrics: body.metrics as (typeof METRIC_NAMES)[number][] }),
        ...(body.tokenize === undefined ? {} : { tokenize: body.tokenize }),
      });
    } catch (error) {
      // scoreCaptions throws TypeError only for a corpus that the format checks should have caught.
      if (error instanceof TypeError) {
        throw new ProblemError(400, "validation-failed", "Invalid corpus", error.message);
      }
      throw error;
    }

    return c.json(
      {
        format: input.format,
        image_count: report.imageCount,
        metrics: report.metrics,
        tokenization: report.tokenization,
        document_frequency: report.documentFrequency,
        corpus: report.corpus,
        per_image: report.perImage.map(({ imageId, ...scores }) => ({
          image_id: imageId,
          ...scores,
        })),
        warnings: report.warnings,
        input_warnings: input.warnings,
      },
      200,
    );
  });
}
