// The caption request's options, validated with zod. The bounds on the decoding options keep one
// request's work within what a Worker isolate can do: every beam and every returned sequence is a
// row of the decoder batch, and each new token is one decoder run.
import { z } from "@hono/zod-openapi";
import { ProblemError, type ProblemField } from "../problem.ts";

export const CAPTION_LIMITS = {
  max_new_tokens: 64,
  num_beams: 8,
  num_return_sequences: 8,
  no_repeat_ngram_size: 8,
} as const;

const integer = (name: string, min: number, max?: number) => {
  let schema = z
    .number()
    .int(`${name} must be an integer`)
    .min(min, `${name} must be at least ${min}`);
  if (max !== undefined) schema = schema.max(max, `${name} must be at most ${max} on this server`);
  return schema;
};

/** Decoding options: Hugging Face GenerationConfig names, as the runtime takes them. */
export const generationSchema = z.object({
  max_new_tokens: integer("max_new_tokens", 1, CAPTION_LIMITS.max_new_tokens).optional(),
  min_new_tokens: integer("min_new_tokens", 0, CAPTION_LIMITS.max_new_tokens).optional(),
  do_sample: z.boolean().optional(),
  num_beams: integer("num_beams", 1, CAPTION_LIMITS.num_beams).optional(),
  num_beam_groups: integer("num_beam_groups", 1, CAPTION_LIMITS.num_beams).optional(),
  diversity_penalty: z.number().min(0).optional(),
  length_penalty: z.number().optional(),
  early_stopping: z.union([z.boolean(), z.literal("never")]).optional(),
  temperature: z.number().positive().optional(),
  top_k: integer("top_k", 0).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  seed: integer("seed", 0, 2 ** 32 - 1).optional(),
  repetition_penalty: z.number().positive().optional(),
  no_repeat_ngram_size: integer(
    "no_repeat_ngram_size",
    0,
    CAPTION_LIMITS.no_repeat_ngram_size,
  ).optional(),
  num_return_sequences: integer(
    "num_return_sequences",
    1,
    CAPTION_LIMITS.num_return_sequences,
  ).optional(),
});

export const GENERATION_KEYS = Object.keys(generationSchema.shape) as (keyof z.infer<
  typeof generationSchema
>)[];

export const captionOptionsSchema = generationSchema
  .extend({
    model: z
      .string()
      .min(1)
      .optional()
      .openapi({ description: 'A captioner package id or folder name, or "llava".' }),
    attention: z.boolean().optional().openapi({ description: "Return per-token attention grids." }),
    stream: z
      .boolean()
      .optional()
      .openapi({ description: "Send tokens as server-sent events (greedy and sampling only)." }),
    image_id: z
      .string()
      .max(128)
      .optional()
      .openapi({ description: "Image id written into the attention document." }),
    instruction: z
      .string()
      .min(1)
      .max(2000)
      .optional()
      .openapi({ description: "LLaVA only: the instruction sent with the image." }),
  })
  .strict();

export type CaptionOptions = z.infer<typeof captionOptionsSchema>;
export type GenerationFields = z.infer<typeof generationSchema>;

/**
 * Converts zod issues to problem+json fields with JSON Pointers into the options object. `noun`
 * names what an unknown key is not, for example "a CLIPScore option".
 */
export function zodProblems(
  error: z.ZodError,
  prefix = "",
  noun = "a caption option",
): ProblemField[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: `${prefix}/${key}`,
        message: `${key} is not ${noun}; see GET /v1/openapi.json for the accepted fields`,
      }));
    }
    const path = `${prefix}/${issue.path.map(String).join("/")}`;
    return [{ path, message: issue.message }];
  });
}

/** Validates the options, throwing a 400 problem that names every invalid or unknown option. */
export function parseCaptionOptions(raw: Record<string, unknown>): CaptionOptions {
  const result = captionOptionsSchema.safeParse(raw);
  if (result.success) return result.data;
  const errors = zodProblems(result.error);
  const first = errors[0];
  throw new ProblemError(
    400,
    "validation-failed",
    "Invalid caption options",
    first === undefined
      ? "The caption options are invalid."
      : `${first.path.slice(1)}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more problems)` : ""}.`,
    errors,
  );
}

/** Extracts the decoding options of a validated request. */
export function generationOf(options: CaptionOptions): GenerationFields {
  const generation: Record<string, unknown> = {};
  for (const key of GENERATION_KEYS) {
    if (options[key] !== undefined) generation[key] = options[key];
  }
  return generation as GenerationFields;
}
