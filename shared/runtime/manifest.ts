// edgecap's model-package manifest (`edgecap.model-package/v1`, docs/model-package.md), validated with
// zod so an invalid or incomplete package fails with the file and the field that are wrong.
import { z } from "zod";
import type { ModelPreprocessingFields } from "../image/model-config.ts";
import { ModelPackageError } from "./errors.ts";

export const MODEL_PACKAGE_SCHEMA = "edgecap.model-package/v1";

const positiveInt = z.number().int().positive();
const channelTriple = z.tuple([z.number(), z.number(), z.number()]);

const preprocessingSchema = z.object({
  size: positiveInt,
  resize: z.literal("shorter_side"),
  resample: z.enum(["bilinear", "bicubic"]),
  crop: z.enum(["center", "none"]),
  crop_size: z.tuple([positiveInt, positiveInt]).optional(),
  rescale: z.number().positive(),
  mean: channelTriple,
  std: channelTriple.refine((std) => std.every((value) => value > 0), "every std must be > 0"),
});

const filesSchema = z.record(
  z.string(),
  z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() }),
);

const captionerSchema = z.object({
  schema: z.literal(MODEL_PACKAGE_SCHEMA),
  id: z.string().min(1),
  kind: z.literal("captioner"),
  family: z.literal("prefix-gpt2"),
  preprocessing: preprocessingSchema,
  tokenizer: z.object({
    file: z.string(),
    vocab_size: positiveInt,
    bos_token_id: z.number().int().nonnegative(),
    eos_token_id: z.number().int().nonnegative(),
    pad_token_id: z.number().int().nonnegative().optional(),
  }),
  prefix: z.object({
    length: positiveInt,
    cls_tokens: z.number().int().nonnegative(),
    grid: z.object({ rows: positiveInt, cols: positiveInt }),
  }),
  vision: z.object({ file: z.string() }),
  decoder: z.object({
    file: z.string(),
    num_layers: positiveInt,
    num_heads: positiveInt,
    head_dim: positiveInt,
    hidden_size: positiveInt,
    vocab_size: positiveInt,
    max_positions: positiveInt,
  }),
  attention: z
    .object({ output: z.string(), layers: z.array(z.number().int().nonnegative()) })
    .optional(),
  generation: z.object({ max_new_tokens: positiveInt.optional() }).passthrough().optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
  files: filesSchema,
});

const clipSchema = z.object({
  schema: z.literal(MODEL_PACKAGE_SCHEMA),
  id: z.string().min(1),
  kind: z.literal("clip"),
  preprocessing: preprocessingSchema,
  tokenizer: z.object({
    file: z.string(),
    context_length: positiveInt,
    bos_token_id: z.number().int().nonnegative(),
    eos_token_id: z.number().int().nonnegative(),
    pad_token_id: z.number().int().nonnegative(),
  }),
  image: z.object({ file: z.string() }),
  text: z.object({ file: z.string() }),
  metrics: z.record(z.string(), z.unknown()).optional(),
  files: filesSchema,
});

export type CaptionerManifest = z.infer<typeof captionerSchema>;
export type ClipManifest = z.infer<typeof clipSchema>;
export type PreprocessingManifest = z.infer<typeof preprocessingSchema>;

function parseWith<T>(schema: z.ZodType<T>, json: unknown, fileName: string): T {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? null : issue.path.join(".");
  const count = result.error.issues.length;
  throw new ModelPackageError(
    fileName,
    field,
    `${issue?.message ?? "invalid manifest"}${count > 1 ? ` (and ${count - 1} more problems)` : ""}; see docs/model-package.md`,
  );
}

function checkSchemaVersion(json: unknown, fileName: string): void {
  const schema = (json as { schema?: unknown } | null)?.schema;
  if (schema !== MODEL_PACKAGE_SCHEMA) {
    throw new ModelPackageError(
      fileName,
      "schema",
      `expected "${MODEL_PACKAGE_SCHEMA}", found ${JSON.stringify(schema)}; re-export the package with this edgecap version's models/ recipe`,
    );
  }
}

export function parseCaptionerManifest(
  json: unknown,
  fileName = "manifest.json",
): CaptionerManifest {
  checkSchemaVersion(json, fileName);
  const manifest = parseWith(captionerSchema, json, fileName);
  for (const file of [manifest.vision.file, manifest.decoder.file, manifest.tokenizer.file]) {
    if (manifest.files[file] === undefined) {
      throw new ModelPackageError(
        fileName,
        `files.${file}`,
        "the file table has no entry (sha256, bytes) for a file the package uses",
      );
    }
  }
  return manifest;
}

export function parseClipManifest(json: unknown, fileName = "manifest.json"): ClipManifest {
  checkSchemaVersion(json, fileName);
  const manifest = parseWith(clipSchema, json, fileName);
  for (const file of [manifest.image.file, manifest.text.file, manifest.tokenizer.file]) {
    if (manifest.files[file] === undefined) {
      throw new ModelPackageError(
        fileName,
        `files.${file}`,
        "the file table has no entry (sha256, bytes) for a file the package uses",
      );
    }
  }
  return manifest;
}

/** Maps the manifest's preprocessing block onto the image pipeline's fields. */
export function preprocessingFields(block: PreprocessingManifest): ModelPreprocessingFields {
  const crop =
    block.crop === "none"
      ? null
      : { width: block.crop_size?.[0] ?? block.size, height: block.crop_size?.[1] ?? block.size };
  // The recipe scales with x / 255 (torchvision ToTensor); 1/255 in the manifest states that scale.
  return {
    size: block.size,
    resample: block.resample,
    crop,
    mean: block.mean,
    std: block.std,
    rescale: "divide",
  };
}
