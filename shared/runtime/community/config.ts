// config.json of community-layout packages, the Hugging Face transformers format that optimum and
// transformers.js read. These are the fields edgecap needs from a `vision-encoder-decoder`
// captioner and a `clip` dual encoder, each checked so that a missing field fails with its name.
import { z } from "zod";
import { ModelPackageError } from "../errors.ts";
import { parseJsonFile } from "./json.ts";

const positiveInt = z.number().int().positive();
const tokenId = z.number().int().nonnegative();
const tokenIds = z.union([tokenId, z.array(tokenId).min(1)]);

const encoderSchema = z
  .object({
    model_type: z.string().min(1),
    image_size: positiveInt.optional(),
    patch_size: positiveInt.optional(),
    hidden_size: positiveInt.optional(),
  })
  .passthrough();

const decoderSchema = z
  .object({
    model_type: z.string().min(1),
    vocab_size: positiveInt,
    bos_token_id: tokenId.nullish(),
    eos_token_id: tokenIds.nullish(),
    pad_token_id: tokenId.nullish(),
    decoder_start_token_id: tokenId.nullish(),
  })
  .passthrough();

const visionEncoderDecoderSchema = z
  .object({
    model_type: z.literal("vision-encoder-decoder"),
    decoder_start_token_id: tokenId.nullish(),
    bos_token_id: tokenId.nullish(),
    eos_token_id: tokenIds.nullish(),
    pad_token_id: tokenId.nullish(),
    encoder: encoderSchema,
    decoder: decoderSchema,
  })
  .passthrough();

const clipSchema = z
  .object({
    model_type: z.literal("clip"),
    text_config: z
      .object({
        max_position_embeddings: positiveInt.optional(),
        eos_token_id: tokenId.optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

export type VisionEncoderDecoderConfig = z.infer<typeof visionEncoderDecoderSchema>;
export type CommunityClipConfig = z.infer<typeof clipSchema>;

/** Decoder sizes under their names in GPT-2 (n_layer), most decoders (num_hidden_layers) and BART-style ones. */
const DECODER_FIELD_ALIASES = {
  num_layers: ["n_layer", "num_hidden_layers", "decoder_layers", "num_layers"],
  num_heads: ["n_head", "num_attention_heads", "decoder_attention_heads", "num_heads"],
  hidden_size: ["n_embd", "hidden_size", "d_model"],
} as const;

export interface DecoderGeometryFields {
  numLayers: number;
  numHeads: number;
  hiddenSize: number;
  vocabSize: number;
}

function parseConfig<T>(schema: z.ZodType<T>, json: unknown, fileName: string): T {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? null : issue.path.join(".");
  throw new ModelPackageError(
    fileName,
    field,
    `${issue?.message ?? "invalid config"}; see the "Community layout" section of docs/model-package.md`,
  );
}

/** Parses config.json of an image captioner; only `model_type: "vision-encoder-decoder"` is supported. */
export function parseVisionEncoderDecoderConfig(bytes: Uint8Array): VisionEncoderDecoderConfig {
  const json = parseJsonFile(bytes, "config.json");
  const modelType = (json as { model_type?: unknown } | null)?.model_type;
  if (modelType !== "vision-encoder-decoder") {
    throw new ModelPackageError(
      "config.json",
      "model_type",
      `expected "vision-encoder-decoder" (an image encoder with a cross-attention text decoder), found ${JSON.stringify(modelType)}`,
    );
  }
  return parseConfig(visionEncoderDecoderSchema, json, "config.json");
}

/** Parses config.json of a CLIP dual encoder (`model_type: "clip"`). */
export function parseCommunityClipConfig(bytes: Uint8Array): CommunityClipConfig {
  const json = parseJsonFile(bytes, "config.json");
  const modelType = (json as { model_type?: unknown } | null)?.model_type;
  if (modelType !== "clip") {
    throw new ModelPackageError(
      "config.json",
      "model_type",
      `expected "clip", found ${JSON.stringify(modelType)}`,
    );
  }
  return parseConfig(clipSchema, json, "config.json");
}

/** Reads the decoder's layer count, head count and width, whichever name its model type uses. */
export function decoderGeometryFields(config: VisionEncoderDecoderConfig): DecoderGeometryFields {
  const decoder = config.decoder as Record<string, unknown>;
  const pick = (key: keyof typeof DECODER_FIELD_ALIASES): number => {
    const names = DECODER_FIELD_ALIASES[key];
    for (const name of names) {
      const value = decoder[name];
      if (value === undefined || value === null) continue;
      if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
        throw new ModelPackageError(
          "config.json",
          `decoder.${name}`,
          `must be a positive integer, found ${JSON.stringify(value)}`,
        );
      }
      return value;
    }
    throw new ModelPackageError(
      "config.json",
      `decoder.${names[0]}`,
      `missing: set one of ${names.map((name) => `decoder.${name}`).join(", ")}`,
    );
  };

  const numLayers = pick("num_layers");
  const numHeads = pick("num_heads");
  const hiddenSize = pick("hidden_size");
  if (hiddenSize % numHeads !== 0) {
    throw new ModelPackageError(
      "config.json",
      "decoder.n_head",
      `the hidden size ${hiddenSize} is not divisible by ${numHeads} heads`,
    );
  }
  return { numLayers, numHeads, hiddenSize, vocabSize: config.decoder.vocab_size };
}

/**
 * Returns the encoder's patch grid (image_size / patch_size on each side), or null when the
 * encoder config does not state both, in which case attention maps are unavailable.
 */
export function encoderGrid(
  config: VisionEncoderDecoderConfig,
): { rows: number; cols: number } | null {
  const { image_size: imageSize, patch_size: patchSize } = config.encoder;
  if (imageSize === undefined || patchSize === undefined) return null;
  const side = Math.floor(imageSize / patchSize);
  return side > 0 ? { rows: side, cols: side } : null;
}
