// The experiment config (`edgecap.experiment/v1`): which datasets, models, decoding configs and
// instructions to run, validated with zod so that every error names the field that is wrong.
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { GenerationOptionsError, resolveGenerationOptions } from "../../shared/decoding/options.ts";
import { idSchema } from "../../shared/report/schema.ts";

export const EXPERIMENT_SCHEMA = "edgecap.experiment/v1";

/** One problem in the config: a JSON Pointer-like path into the config ("datasets/1/captions") and what is wrong. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** An invalid or unreadable config; the CLI prints every problem. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const first = problems[0];
    super(first === undefined ? "invalid config" : `${first.path}: ${first.message}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const positiveInt = z.number().int().positive();

const attentionSelectionSchema = z.union([
  z.strictObject({ first: z.number().int().nonnegative() }),
  z.strictObject({ ids: z.array(z.string().min(1)).min(1) }),
]);
export type AttentionSelection = z.infer<typeof attentionSelectionSchema>;

const datasetSchema = z.strictObject({
  id: idSchema,
  label: z.string().optional(),
  /** Made-up data, shown as such on the site. */
  synthetic: z.boolean().default(false),
  /** Reference captions in the COCO caption layout: {"images": [{"id", "file_name"}], "annotations": [...]}. */
  captions: z.string().min(1).optional(),
  /** Folder with the image files that the captions file names. */
  images: z.string().min(1).optional(),
  /** Images to use, by file name without extension; the whole captions file when absent. */
  imageIds: z.array(z.string().min(1)).min(1).optional(),
  /** At most this many images, the first ones in captions-file order. */
  limit: positiveInt.optional(),
  /** "skip" drops images whose file is not in the folder (a folder that contains part of a split). */
  missingImages: z.enum(["error", "skip"]).default("error"),
  /** Overrides the experiment's attention selection for this dataset. */
  attention: attentionSelectionSchema.optional(),
});

const variantConfigSchema = z.strictObject({
  /** A metrics file written by models/edgecap_models/train_demo.py (models/logs/metrics.json). */
  metrics: z.string().min(1).optional(),
  /** The variant's key in that file's "captioner" object, such as "r16_a32". */
  name: z.string().min(1).optional(),
  rank: positiveInt.optional(),
  alpha: z.number().finite().optional(),
  trainableParams: z.number().int().nonnegative().optional(),
  epochs: z.number().finite().nonnegative().optional(),
  steps: z.number().int().nonnegative().optional(),
  projection: z.string().optional(),
});
export type VariantConfig = z.infer<typeof variantConfigSchema>;

const modelCommon = {
  id: idSchema,
  label: z.string().optional(),
  synthetic: z.boolean().default(false),
  /** Dataset ids this model runs on; every dataset when absent. */
  datasets: z.array(idSchema).min(1).optional(),
  /** Decoding config ids this model runs; every one when absent. Imports ignore the decoding grid. */
  decoding: z.array(idSchema).min(1).optional(),
  variant: variantConfigSchema.optional(),
};

const modelSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    ...modelCommon,
    kind: z.literal("onnx"),
    /** Folder of an edgecap captioner package (manifest.json, vision.onnx, decoder.onnx, tokenizer.json). */
    package: z.string().min(1),
  }),
  z.strictObject({
    ...modelCommon,
    kind: z.literal("llava-import"),
    /** Output folder of models/llava/caption_attention.py, with runs.json. */
    folder: z.string().min(1),
  }),
  z.strictObject({
    ...modelCommon,
    kind: z.literal("llava-backend"),
    /** Passed to the backend factory; `kind` names the adapter (vllm, workers-ai, ...). */
    backend: z.looseObject({ kind: z.string().min(1) }),
  }),
]);

const decodingSchema = z.strictObject({
  id: idSchema,
  label: z.string().optional(),
  /** Generation options with transformers' GenerationConfig names; token ids come from the model. */
  options: z.record(z.string(), z.unknown()).default({}),
});

const experimentSchema = z.strictObject({
  schema: z.literal(EXPERIMENT_SCHEMA),
  id: idSchema,
  title: z.string().default(""),
  /** Folder that relative paths start from, itself relative to the config file; the config's folder when absent. */
  baseDir: z.string().min(1).optional(),
  datasets: z.array(datasetSchema).min(1),
  models: z.array(modelSchema).min(1),
  decoding: z.array(decodingSchema).default([]),
  /** LLaVA instructions; a llava-backend model runs every decoding config with every instruction. */
  instructions: z.array(z.string().min(1)).default([]),
  /** CLIP package for CLIPScore and RefCLIPScore; both are null in the report without it. */
  clip: z
    .strictObject({
      package: z.string().min(1),
      /** Put before every caption and reference: "" as the homework scores, "A photo depicts " as Hessel et al. */
      prefix: z.string().default(""),
    })
    .optional(),
  /** Images to dump attention maps for, per dataset. */
  attention: attentionSelectionSchema.default({ first: 0 }),
  report: z
    .strictObject({
      /** Pairs listed at each end of the CLIPScore ranking. */
      extremes: z.number().int().nonnegative().default(5),
    })
    .default({ extremes: 5 }),
  /** Rows appended and fsynced together; a crash loses at most one batch of work, never a written row. */
  batchSize: positiveInt.default(8),
});

export type ExperimentConfig = z.infer<typeof experimentSchema>;
export type DatasetConfig = ExperimentConfig["datasets"][number];
export type ModelConfig = ExperimentConfig["models"][number];
export type DecodingConfig = ExperimentConfig["decoding"][number];

/** A validated config with the paths it was read from. */
export interface LoadedConfig {
  config: ExperimentConfig;
  /** The config file as given. */
  path: string;
  /** Absolute folder that relative paths in the config start from. */
  baseDir: string;
  /** sha256 of the canonical JSON of `config`. */
  sha256: string;
}

/** Reads, parses and validates a config file, checking that every path it names exists. */
export async function loadExperimentConfig(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "file not found" : String(error);
    throw new ConfigError([{ path: "(file)", message: `cannot read config "${path}": ${reason}` }]);
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([
      {
        path: "(file)",
        message: `config "${path}" is not valid JSON: ${(error as Error).message}`,
      },
    ]);
  }

  const config = parseExperimentConfig(json);
  const configDir = dirname(resolve(path));
  const baseDir = config.baseDir === undefined ? configDir : resolve(configDir, config.baseDir);
  const loaded: LoadedConfig = { config, path, baseDir, sha256: configSha256(config) };
  await checkPaths(loaded);
  return loaded;
}

/** Validates a parsed config object: shape, then the rules that relate fields to each other. */
export function parseExperimentConfig(json: unknown): ExperimentConfig {
  const parsed = experimentSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        path: issue.path.length === 0 ? "(root)" : issue.path.join("/"),
        message: issue.message,
      })),
    );
  }

  const problems = crossCheck(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}

function crossCheck(config: ExperimentConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: string, message: string): void => {
    problems.push({ path, message });
  };

  checkUnique(
    config.datasets.map((dataset) => dataset.id),
    "datasets",
    add,
  );
  checkUnique(
    config.models.map((model) => model.id),
    "models",
    add,
  );
  checkUnique(
    config.decoding.map((decoding) => decoding.id),
    "decoding",
    add,
  );

  config.datasets.forEach((dataset, d) => {
    if (dataset.captions === undefined && dataset.imageIds === undefined) {
      add(
        `datasets/${d}`,
        `dataset "${dataset.id}" needs "captions" (a COCO captions file) or "imageIds" (the images of an import without references)`,
      );
    }
    if (dataset.captions === undefined && dataset.images !== undefined) {
      add(
        `datasets/${d}/images`,
        `dataset "${dataset.id}" has an image folder but no "captions" file to list its images; add "captions"`,
      );
    }
  });

  const datasetIds = new Set(config.datasets.map((dataset) => dataset.id));
  const decodingIds = new Set(config.decoding.map((decoding) => decoding.id));
  config.models.forEach((model, m) => {
    model.datasets?.forEach((id, k) => {
      if (!datasetIds.has(id)) {
        add(
          `models/${m}/datasets/${k}`,
          `unknown dataset "${id}"; known: ${[...datasetIds].join(", ")}`,
        );
      }
    });
    if (model.kind === "llava-import") {
      if (model.decoding !== undefined) {
        add(
          `models/${m}/decoding`,
          `model "${model.id}" imports its runs from runs.json, so it cannot choose decoding configs; remove "decoding"`,
        );
      }
      return;
    }

    model.decoding?.forEach((id, k) => {
      if (!decodingIds.has(id)) {
        add(
          `models/${m}/decoding/${k}`,
          `unknown decoding config "${id}"; known: ${[...decodingIds].join(", ") || "none"}`,
        );
      }
    });
    if (config.decoding.length === 0) {
      add(
        "decoding",
        `model "${model.id}" (kind ${model.kind}) needs at least one decoding config`,
      );
    }
    if (model.kind === "llava-backend" && config.instructions.length === 0) {
      add(
        "instructions",
        `model "${model.id}" is a LLaVA backend and needs at least one instruction`,
      );
    }
    for (const dataset of config.datasets) {
      const runsOn = model.datasets === undefined || model.datasets.includes(dataset.id);
      if (runsOn && dataset.images === undefined) {
        add(
          `models/${m}/datasets`,
          `model "${model.id}" captions images, but dataset "${dataset.id}" has no "images" folder; give it one or list the model's datasets`,
        );
      }
    }
  });

  config.decoding.forEach((decoding, k) => {
    try {
      // Any valid token id and vocabulary size do for checking names, ranges and combinations.
      resolveGenerationOptions({ ...decoding.options, bos_token_id: 0 }, 2);
    } catch (error) {
      if (!(error instanceof GenerationOptionsError)) throw error;
      add(`decoding/${k}/options/${error.param}`, error.message);
    }
  });

  return problems;
}

function checkUnique(
  ids: readonly string[],
  field: string,
  add: (path: string, message: string) => void,
): void {
  const first = new Map<string, number>();
  ids.forEach((id, index) => {
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, index);
    else add(`${field}/${index}/id`, `duplicate id "${id}", first used at ${field}/${earlier}`);
  });
}

/** Resolves a path of the config against its base folder. */
export function resolveConfigPath(loaded: Pick<LoadedConfig, "baseDir">, path: string): string {
  return isAbsolute(path) ? path : resolve(loaded.baseDir, path);
}

async function checkPaths(loaded: LoadedConfig): Promise<void> {
  const { config } = loaded;
  const checks: { path: string; value: string; kind: "file" | "folder" }[] = [];
  config.datasets.forEach((dataset, d) => {
    if (dataset.captions !== undefined)
      checks.push({ path: `datasets/${d}/captions`, value: dataset.captions, kind: "file" });
    if (dataset.images !== undefined)
      checks.push({ path: `datasets/${d}/images`, value: dataset.images, kind: "folder" });
  });
  config.models.forEach((model, m) => {
    if (model.kind === "onnx")
      checks.push({ path: `models/${m}/package`, value: model.package, kind: "folder" });
    if (model.kind === "llava-import")
      checks.push({ path: `models/${m}/folder`, value: model.folder, kind: "folder" });
  });
  if (config.clip !== undefined)
    checks.push({ path: "clip/package", value: config.clip.package, kind: "folder" });

  const problems: ConfigProblem[] = [];
  for (const check of checks) {
    const absolute = resolveConfigPath(loaded, check.value);
    const found = await stat(absolute).catch(() => null);
    if (found === null) {
      problems.push({
        path: check.path,
        message: `${check.kind} "${check.value}" not found (resolved to ${absolute})`,
      });
    } else if (check.kind === "file" && !found.isFile()) {
      problems.push({
        path: check.path,
        message: `"${check.value}" is not a file (resolved to ${absolute})`,
      });
    } else if (check.kind === "folder" && !found.isDirectory()) {
      problems.push({
        path: check.path,
        message: `"${check.value}" is not a folder (resolved to ${absolute})`,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** sha256 of the config serialised with sorted keys, so key order in the file does not matter. */
export function configSha256(config: ExperimentConfig): string {
  return createHash("sha256").update(canonicalJson(config)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    // Array.prototype.sort without a comparator orders strings by UTF-16 code units, whatever the locale.
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
