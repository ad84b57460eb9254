// Captioner training runs of a metrics file (models/logs/metrics.json): every `captioner.<name>`
// entry that models/edgecap_models/train_captioner.py records, with the test scores it measured,
// and the `exported.captioner.<name>` entry that models/edgecap_models/release.py adds. Each field
// is read on its own: a missing or invalid field is left out with a warning, never fatal.
import { z } from "zod";
import type { TrainingRun } from "../../shared/report/schema.ts";

const finite = z.number().finite();
const count = z.number().int().nonnegative();
const share = finite.min(0).max(1);

interface Field {
  key: string;
  schema: z.ZodType;
}

/** Fields of a `captioner.<name>` entry, and the TrainingRun field each one fills. */
const RUN_FIELDS = {
  rank: { key: "rank", schema: z.number().int().positive() },
  alpha: { key: "alpha", schema: finite },
  projection: { key: "projection", schema: z.string() },
  trainableParams: { key: "trainable_params", schema: count },
  steps: { key: "steps", schema: count },
  epochs: { key: "epochs", schema: finite.nonnegative() },
  finalTrainLoss: { key: "final_train_loss", schema: finite },
  initFrom: { key: "init_from", schema: z.string().nullable() },
  batchImages: { key: "batch_images", schema: z.number().int().positive() },
  ciderD: { key: "cider_d", schema: finite },
  grounding: { key: "grounding", schema: share },
  kindWords: { key: "kind_words", schema: count },
  hallucinatedKindWords: { key: "hallucinated_kind_words", schema: count },
  testImages: { key: "test_images", schema: count },
  decoding: { key: "decoding", schema: z.string() },
} as const satisfies Record<string, Field>;

/**
 * Fields of an `exported.captioner.<name>` entry. The release script re-measures only the shipped
 * variant (all of them with --measure-all), so a missing score is normal and gets no warning.
 */
const EXPORTED_FIELDS = {
  ciderD: { key: "cider_d", schema: finite },
  grounding: { key: "grounding", schema: share },
  measured: { key: "measured", schema: z.string() },
} as const satisfies Record<string, Field>;

/** Location of a warning: the model that names the metrics file, and the file's resolved path. */
export interface MetricsLocation {
  modelId: string;
  path: string;
}

/**
 * Reads every `captioner` entry of a parsed metrics file as a training run, in file order, and
 * marks the one named `variantName`. Entries that are not objects are left out with a warning.
 */
export function readTrainingRuns(
  metrics: { captioner: Record<string, unknown>; exported?: unknown },
  variantName: string | undefined,
  location: MetricsLocation,
  warnings: string[],
): TrainingRun[] {
  const runs: TrainingRun[] = [];
  for (const [name, entry] of Object.entries(metrics.captioner)) {
    if (!isRecord(entry)) {
      warnings.push(
        `${where(location, `captioner run "${name}"`)} is ${JSON.stringify(entry)}, not an object; it is left out of the training runs`,
      );
      continue;
    }
    runs.push(readRun(name, entry, name === variantName, location, warnings));
  }
  attachExported(runs, metrics.exported, location, warnings);
  return runs;
}

function readRun(
  name: string,
  entry: Record<string, unknown>,
  isModelVariant: boolean,
  location: MetricsLocation,
  warnings: string[],
): TrainingRun {
  const run: TrainingRun = { name, isModelVariant };
  const label = `captioner run "${name}"`;
  const missing = copyFields(entry, RUN_FIELDS, run, label, location, warnings);
  if (missing.length > 0) {
    warnings.push(
      `${where(location, label)} lacks ${missing.join(", ")}; the report shows ${missing.length === 1 ? "it" : "them"} as unknown`,
    );
  }

  // A count of hallucinated kind words above the count of all kind words cannot be right.
  if (
    run.kindWords !== undefined &&
    run.hallucinatedKindWords !== undefined &&
    run.hallucinatedKindWords > run.kindWords
  ) {
    warnings.push(
      `${where(location, label)} has hallucinated_kind_words ${run.hallucinatedKindWords} above kind_words ${run.kindWords}; ignored hallucinated_kind_words`,
    );
    delete run.hallucinatedKindWords;
  }
  return run;
}

/** Copies `exported.captioner.<name>` scores onto the run of the same name. */
function attachExported(
  runs: TrainingRun[],
  exported: unknown,
  location: MetricsLocation,
  warnings: string[],
): void {
  // Files written before the release script ran have no "exported" object, and a release without
  // captioner checkpoints writes no "exported.captioner". Neither is an error.
  if (exported === undefined) return;
  if (!isRecord(exported)) {
    warnings.push(
      `${where(location, '"exported"')} is ${JSON.stringify(exported)}, not an object; the report shows no exported scores`,
    );
    return;
  }
  const captioner = exported.captioner;
  if (captioner === undefined) return;
  if (!isRecord(captioner)) {
    warnings.push(
      `${where(location, '"exported.captioner"')} is ${JSON.stringify(captioner)}, not an object; the report shows no exported scores`,
    );
    return;
  }

  for (const [name, entry] of Object.entries(captioner)) {
    const label = `exported captioner "${name}"`;
    const run = runs.find((candidate) => candidate.name === name);
    if (run === undefined) {
      warnings.push(
        `${where(location, label)} has no captioner run of that name; its exported scores are left out`,
      );
      continue;
    }
    if (!isRecord(entry)) {
      warnings.push(
        `${where(location, label)} is ${JSON.stringify(entry)}, not an object; its exported scores are left out`,
      );
      continue;
    }
    const scores: NonNullable<TrainingRun["exported"]> = {};
    copyFields(entry, EXPORTED_FIELDS, scores, label, location, warnings);
    run.exported = scores;
  }
}

/**
 * Copies each field of `table` that parses from `entry` into `target`, warning about invalid
 * values. Returns the keys that `entry` lacks.
 */
function copyFields(
  entry: Record<string, unknown>,
  table: Record<string, Field>,
  target: object,
  entryLabel: string,
  location: MetricsLocation,
  warnings: string[],
): string[] {
  const missing: string[] = [];
  for (const [field, { key, schema }] of Object.entries(table)) {
    const value = entry[key];
    if (value === undefined) {
      missing.push(key);
      continue;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) (target as Record<string, unknown>)[field] = parsed.data;
    else
      warnings.push(
        `model "${location.modelId}": ignored invalid "${key}" ${JSON.stringify(value)} of ${entryLabel} in "${location.path}"; fix or remove it in the metrics file`,
      );
  }
  return missing;
}

/** Starts a warning about one entry of the metrics file: `model "id": <entry> in "<path>"`. */
function where({ modelId, path }: MetricsLocation, entryLabel: string): string {
  return `model "${modelId}": ${entryLabel} in "${path}"`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
