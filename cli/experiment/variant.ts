// Model variant metadata (LoRA rank and alpha, trainable parameters, epochs) for the report, from
// the metrics file that models/edgecap_models/train_demo.py writes and from the config itself,
// plus every captioner training run that file records (training-runs.ts). The metrics file is
// optional and may be from an older or unfinished training run, so each field is read on its own:
// a missing or invalid field is left out with a warning, never fatal.
import { readFile } from "node:fs/promises";
import type { TrainingRun, VariantMetadata } from "../../shared/report/schema.ts";
import { type LoadedConfig, resolveConfigPath, type VariantConfig } from "./config.ts";
import { isRecord, type MetricsLocation, readTrainingRuns } from "./training-runs.ts";

/** Training-run fields that also describe the model's own variant, copied from its run. */
const VARIANT_FIELDS = [
  "rank",
  "alpha",
  "trainableParams",
  "epochs",
  "steps",
  "projection",
  "finalTrainLoss",
] as const satisfies readonly (keyof TrainingRun & keyof VariantMetadata)[];

export interface VariantReading {
  variant: VariantMetadata | null;
  warnings: string[];
}

/**
 * Builds a model's variant metadata: metrics-file values first, then the config's own fields on
 * top. With a metrics file, it also lists every captioner training run the file records.
 */
export async function readVariantMetadata(
  loaded: LoadedConfig,
  modelId: string,
  config: VariantConfig | undefined,
): Promise<VariantReading> {
  if (config === undefined) return { variant: null, warnings: [] };
  const warnings: string[] = [];
  const variant: VariantMetadata = { source: "config" };
  if (config.name !== undefined) variant.name = config.name;

  if (config.metrics !== undefined) {
    const location = { modelId, path: resolveConfigPath(loaded, config.metrics) };
    const metrics = await readCaptionerMetrics(location, warnings);
    if (metrics !== null) {
      checkVariantEntry(metrics.captioner, config.name, location, warnings);
      const runs = readTrainingRuns(metrics, config.name, location, warnings);
      variant.trainingRuns = { metrics: config.metrics, runs };

      const own = runs.find((run) => run.isModelVariant);
      if (own !== undefined) {
        variant.source = config.metrics;
        for (const field of VARIANT_FIELDS) {
          if (own[field] !== undefined) (variant as Record<string, unknown>)[field] = own[field];
        }
      }
    }
  }

  const { metrics: _metrics, name: _name, ...inline } = config;
  Object.assign(variant, inline);
  return { variant, warnings };
}

/** Parses the metrics file and returns it when it has a `captioner` object, else null with a warning. */
async function readCaptionerMetrics(
  { modelId, path }: MetricsLocation,
  warnings: string[],
): Promise<{ captioner: Record<string, unknown>; exported?: unknown } | null> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    warnings.push(
      `model "${modelId}": variant metrics "${path}" ${code === "ENOENT" ? "not found" : `unreadable (${(error as Error).message})`}; the report shows only the config's variant fields`,
    );
    return null;
  }

  const captioner = isRecord(json) ? json.captioner : undefined;
  if (!isRecord(json) || !isRecord(captioner)) {
    warnings.push(
      `model "${modelId}": "${path}" has no "captioner" object yet; the report shows only the config's variant fields`,
    );
    return null;
  }
  return { captioner, exported: json.exported };
}

/** Checks that `captioner.<name>` is an object, warning with the names the file has when it is not. */
function checkVariantEntry(
  captioner: Record<string, unknown>,
  name: string | undefined,
  { modelId, path }: MetricsLocation,
  warnings: string[],
): void {
  if (name === undefined) {
    warnings.push(
      `model "${modelId}": set variant.name to one of ${Object.keys(captioner).join(", ") || "(none)"} to read the variant's facts from "${path}"`,
    );
    return;
  }
  if (!isRecord(captioner[name])) {
    warnings.push(
      `model "${modelId}": "${path}" has no captioner variant "${name}" (it has ${Object.keys(captioner).join(", ") || "none"})`,
    );
  }
}
