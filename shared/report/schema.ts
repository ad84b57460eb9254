// The report data that `edgecap experiment` writes and the report site reads (`edgecap.report/v1`,
// docs/report-data.md): zod schemas and TypeScript types of every file in an experiment folder.
// Attention dumps keep their own format, `edgecap.attention/v1`, re-exported here.
import { z } from "zod";
import { attentionDocumentSchema } from "../attention/schema.ts";

export {
  ATTENTION_SCHEMA,
  type AttentionDocument,
  attentionDocumentSchema,
} from "../attention/schema.ts";

export const REPORT_SCHEMA = "edgecap.report/v1";

const finite = z.number().finite();
const count = z.number().int().nonnegative();
const nonEmpty = z.string().min(1);
const sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "expected 64 lower-case hex digits")
  .nullable();

/** Ids of datasets, models and configs: they become folder and file names, so no separators. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const idSchema = z
  .string()
  .regex(
    ID_PATTERN,
    "expected letters, digits, '.', '_' or '-', starting with a letter or digit (it becomes a file name)",
  );

/** Per-image and corpus metrics, keyed as in `edgecap evaluate --format json`, plus CLIPScore and length. */
export const METRIC_IDS = [
  "cider_d",
  "bleu_1",
  "bleu_2",
  "bleu_3",
  "bleu_4",
  "rouge_l",
  "clip_score",
  "ref_clip_score",
  "length",
] as const;
export type MetricId = (typeof METRIC_IDS)[number];

/** One value per metric; null where the metric could not be computed (no references, no images, no CLIP). */
export const metricValuesSchema = z.object(
  Object.fromEntries(METRIC_IDS.map((id) => [id, finite.nullable()])) as Record<
    MetricId,
    z.ZodNullable<z.ZodNumber>
  >,
);
export type MetricValues = z.infer<typeof metricValuesSchema>;

export const modelFamilySchema = z.enum(["prefix-gpt2", "llava"]);
export const modelKindSchema = z.enum(["onnx", "llava-import", "llava-backend"]);

/**
 * A captioner training run recorded in a metrics file (a `captioner.<name>` entry) with the test
 * scores that the training script measured. Fields the file lacks or gets wrong are left out.
 */
export const trainingRunSchema = z.object({
  /** The run's key in the metrics file's `captioner` object, such as "r16_a32". */
  name: z.string(),
  /** True for the run that the model's `variant.name` names. */
  isModelVariant: z.boolean(),
  rank: z.number().int().positive().optional(),
  alpha: finite.optional(),
  projection: z.string().optional(),
  trainableParams: count.optional(),
  /** Optimiser steps in total, counting those of the run it continued. */
  steps: count.optional(),
  epochs: finite.nonnegative().optional(),
  finalTrainLoss: finite.optional(),
  /** Checkpoint path the run continued from, as recorded, or null for a run from fresh LoRA weights. */
  initFrom: z.string().nullable().optional(),
  /** Images per step. Each step trains on all captions of those images. */
  batchImages: z.number().int().positive().optional(),
  /** CIDEr-D on the test split, from `edgecap evaluate` on the trained weights. */
  ciderD: finite.optional(),
  /** Share in [0, 1] of kind words whose peak-attention patch lies inside an object the word names. */
  grounding: finite.min(0).max(1).optional(),
  /** Kind words ("circle", "stars") in the test captions, and those naming a kind the image lacks. */
  kindWords: count.optional(),
  hallucinatedKindWords: count.optional(),
  testImages: count.optional(),
  /** Decoding of the test captions, such as "greedy". */
  decoding: z.string().optional(),
  /** The `exported.captioner.<name>` entry: scores of the package as exported, where re-measured. */
  exported: z
    .object({
      ciderD: finite.optional(),
      grounding: finite.min(0).max(1).optional(),
      /** Description of the weights that the exported scores were measured on, in the release script's words. */
      measured: z.string().optional(),
    })
    .optional(),
});
export type TrainingRun = z.infer<typeof trainingRunSchema>;

/** Training facts of a model variant; every field is optional because sources differ in what they record. */
export const variantMetadataSchema = z.object({
  name: z.string().optional(),
  rank: z.number().int().positive().optional(),
  alpha: finite.optional(),
  trainableParams: count.optional(),
  epochs: finite.nonnegative().optional(),
  steps: count.optional(),
  projection: z.string().optional(),
  finalTrainLoss: finite.optional(),
  /** Origin of the facts: a metrics file path relative to the experiment's base folder, or "config". */
  source: z.string(),
  /**
   * Every captioner run of the metrics file, in file order, whether or not the experiment ran it.
   * Absent when the config names no metrics file or the file has no `captioner` object.
   */
  trainingRuns: z
    .object({
      /** The metrics file path as the config writes it, relative to the experiment's base folder. */
      metrics: z.string(),
      runs: z.array(trainingRunSchema),
    })
    .optional(),
});
export type VariantMetadata = z.infer<typeof variantMetadataSchema>;

/** A decoding config (with its instruction, for LLaVA) as one column of the report. */
export const reportConfigSchema = z.object({
  id: idSchema,
  label: z.string(),
  /** Id of the decoding config in the experiment config; for imported runs, the tool's config name. */
  decoding: z.string(),
  /** Generation options with transformers' GenerationConfig names. */
  options: z.record(z.string(), z.unknown()),
  /** LLaVA's prompt; null for models without instructions. */
  instruction: z.string().nullable(),
});

// ---------------------------------------------------------------------------------------------
// predictions/<dataset>/<model>.jsonl: one row per (config, image), appended as captions arrive.

export const predictionRowSchema = z.object({
  config: idSchema,
  /** Image id: the file name without extension, as predictions and attention documents name images. */
  image: nonEmpty,
  /** Best first; the first caption is the one scored. */
  captions: z.array(z.string()).min(1),
  /** Milliseconds per stage as the model reported them, plus `wall_ms` measured by the runner. */
  timings: z.record(z.string(), finite.nonnegative()),
  /** Attention dump of this row, relative to the experiment folder; null when none was requested. */
  attention: z.string().nullable(),
});
export type PredictionRow = z.infer<typeof predictionRowSchema>;

// ---------------------------------------------------------------------------------------------
// run.json: what ran, on which machine and software, and how long it took.

export const runModelSchema = z.object({
  id: idSchema,
  label: z.string(),
  kind: modelKindSchema,
  family: modelFamilySchema,
  sha256,
  /** True when the config or the imported tool marks the model's output as made up. */
  synthetic: z.boolean(),
  /** Package folder, import folder or backend kind, as written in the config. */
  source: z.string(),
  /** Configs the model runs, in grid order; ids into the run's `configs`. */
  configs: z.array(idSchema),
});

export const runSessionSchema = z.object({
  /** ISO 8601 UTC timestamps. */
  started: z.string(),
  finished: z.string().nullable(),
  resumed: z.boolean(),
  rowsWritten: count,
  /** Rows found in the predictions files and skipped because this session resumed. */
  rowsSkipped: count,
});

export const runTaskSchema = z.object({
  dataset: idSchema,
  model: idSchema,
  /** Images of this shard that the model captions, each under every config of the model. */
  images: count,
  rows: count,
  /** Wall-clock seconds spent captioning in all sessions together. */
  seconds: finite.nonnegative(),
});

export const machineSchema = z.object({
  platform: z.string(),
  arch: z.string(),
  release: z.string(),
  cpuModel: z.string(),
  cpuCount: count,
  memoryBytes: count,
});

export const shardSchema = z.object({ index: count, count: z.number().int().positive() });

export const runMetadataSchema = z.object({
  schema: z.literal(REPORT_SCHEMA),
  kind: z.literal("run"),
  experiment: z.object({
    id: idSchema,
    title: z.string(),
    /** The config file as given on the command line. */
    configPath: z.string(),
    /** sha256 of the validated config, serialised canonically; resume and merge require it to match. */
    configSha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  /** The validated config, paths as written. */
  config: z.record(z.string(), z.unknown()),
  /** null for an unsharded run or a merged one. */
  shard: shardSchema.nullable(),
  status: z.enum(["running", "complete", "failed"]),
  sessions: z.array(runSessionSchema),
  models: z.array(runModelSchema),
  configs: z.array(reportConfigSchema),
  tasks: z.array(runTaskSchema),
  versions: z.record(z.string(), z.string()),
  machine: machineSchema,
  /** Error message of the session that failed, when status is "failed". */
  error: z.string().optional(),
  /** The shard runs that a merged run was built from. */
  parts: z
    .array(
      z.object({
        shard: shardSchema,
        folder: z.string(),
        sessions: z.array(runSessionSchema),
        tasks: z.array(runTaskSchema),
        machine: machineSchema,
        versions: z.record(z.string(), z.string()),
      }),
    )
    .optional(),
});
export type RunMetadata = z.infer<typeof runMetadataSchema>;
export type RunTask = z.infer<typeof runTaskSchema>;
export type RunSession = z.infer<typeof runSessionSchema>;
export type RunModel = z.infer<typeof runModelSchema>;
export type Machine = z.infer<typeof machineSchema>;

// ---------------------------------------------------------------------------------------------
// report.json: the compact index the site reads.

export const reportDatasetSchema = z.object({
  id: idSchema,
  label: z.string(),
  /** True for data made up to exercise the pipeline, such as the synthetic LLaVA sample. */
  synthetic: z.boolean(),
  imageCount: count,
  hasReferences: z.boolean(),
  /** Image folder relative to the folder of report.json, POSIX separators; null without image files. */
  imageRoot: z.string().nullable(),
});

export const reportModelSchema = z.object({
  id: idSchema,
  label: z.string(),
  kind: modelKindSchema,
  family: modelFamilySchema,
  sha256,
  synthetic: z.boolean(),
  variant: variantMetadataSchema.nullable(),
  /** Datasets this model captioned. */
  datasets: z.array(idSchema),
  /** Configs this model ran, in grid order. */
  configs: z.array(idSchema),
});

export const reportResultSchema = z.object({
  dataset: idSchema,
  model: idSchema,
  config: idSchema,
  /** Images with a caption, the ones the metrics average over. */
  imageCount: count,
  /** Images of the dataset without a caption from this model and config. */
  missingImages: count,
  /** Corpus values: CIDEr-D, ROUGE-L, CLIPScore, RefCLIPScore and length are means over images; BLEU pools counts. */
  metrics: metricValuesSchema,
  /** Text put before captions and references before CLIP embedded them; null without CLIPScore. */
  clipPrefix: z.string().nullable(),
  warnings: z.array(z.string()),
});

export const reportImageResultSchema = z.object({
  model: idSchema,
  config: idSchema,
  captions: z.array(z.string()).min(1),
  scores: metricValuesSchema,
  /** Attention dump relative to the folder of report.json; null when none was written. */
  attention: z.string().nullable(),
});

export const reportImageSchema = z.object({
  dataset: idSchema,
  id: nonEmpty,
  /** The id in the captions file (COCO's integer id, as a string); null for datasets without one. */
  sourceId: z.string().nullable(),
  /** File name relative to the dataset's imageRoot; null without image files. */
  file: z.string().nullable(),
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
  references: z.array(z.string()),
  results: z.array(reportImageResultSchema),
});

export const clipScorePairSchema = z.object({
  image: nonEmpty,
  caption: z.string(),
  clipScore: finite,
});

export const clipScoreExtremesSchema = z.object({
  dataset: idSchema,
  model: idSchema,
  config: idSchema,
  /** Highest CLIPScore first. */
  top: z.array(clipScorePairSchema),
  /** Lowest CLIPScore first. */
  bottom: z.array(clipScorePairSchema),
});

export const histogramInputSchema = z.object({
  dataset: idSchema,
  model: idSchema,
  config: idSchema,
  metric: z.enum(METRIC_IDS),
  /** Per-image values in the dataset's image order, images without a value left out. */
  values: z.array(finite),
});

export const reportSchema = z.object({
  schema: z.literal(REPORT_SCHEMA),
  kind: z.literal("report"),
  experiment: z.object({
    id: idSchema,
    title: z.string(),
    configSha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** ISO 8601 UTC time the report was written. */
    generated: z.string(),
  }),
  metrics: z.array(
    z.object({
      id: z.enum(METRIC_IDS),
      label: z.string(),
      description: z.string(),
    }),
  ),
  datasets: z.array(reportDatasetSchema),
  models: z.array(reportModelSchema),
  configs: z.array(reportConfigSchema),
  results: z.array(reportResultSchema),
  images: z.array(reportImageSchema),
  clipScoreExtremes: z.array(clipScoreExtremesSchema),
  histograms: z.array(histogramInputSchema),
});
export type Report = z.infer<typeof reportSchema>;
export type ReportDataset = z.infer<typeof reportDatasetSchema>;
export type ReportModel = z.infer<typeof reportModelSchema>;
export type ReportConfig = z.infer<typeof reportConfigSchema>;
export type ReportResult = z.infer<typeof reportResultSchema>;
export type ReportImage = z.infer<typeof reportImageSchema>;
export type ReportImageResult = z.infer<typeof reportImageResultSchema>;
export type ClipScoreExtremes = z.infer<typeof clipScoreExtremesSchema>;
export type HistogramInput = z.infer<typeof histogramInputSchema>;

/** Human-readable metric names and meanings, written into report.json for the site's tables. */
export const METRIC_DESCRIPTIONS: Record<MetricId, { label: string; description: string }> = {
  cider_d: {
    label: "CIDEr-D",
    description: "consensus with the references over 1- to 4-grams, x10 (pycocoevalcap)",
  },
  bleu_1: { label: "BLEU-1", description: "unigram precision with brevity penalty" },
  bleu_2: { label: "BLEU-2", description: "up to bigram precision with brevity penalty" },
  bleu_3: { label: "BLEU-3", description: "up to trigram precision with brevity penalty" },
  bleu_4: { label: "BLEU-4", description: "up to 4-gram precision with brevity penalty" },
  rouge_l: { label: "ROUGE-L", description: "longest common subsequence F-measure, beta 1.2" },
  clip_score: {
    label: "CLIPScore",
    description: "2.5 x max(cos(image, caption), 0) with the experiment's CLIP model",
  },
  ref_clip_score: {
    label: "RefCLIPScore",
    description: "harmonic mean of CLIPScore and the best caption-reference cosine",
  },
  length: { label: "Length", description: "caption length in PTB tokens, punctuation dropped" },
};

/** The attention dump schema, for validating files under attention/. */
export const attentionFileSchema = z.union([
  attentionDocumentSchema,
  z.array(attentionDocumentSchema),
]);
