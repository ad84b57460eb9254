// Model variant metadata (LoRA rank and alpha, trainable parameters, epochs) for the report, from
// the metrics file that models/edgecap_models/train_demo.py writes and from the config itself.
// The metrics file is optional and may be from an older or unfinished training run, so each field
// is read on its own: a missing or invalid field is left out with a warning, never fatal.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { VariantMetadata } from "../../shared/report/schema.ts";
import { type LoadedConfig, resolveConfigPath, type VariantConfig } from "./config.ts";

/** Fields of a `captioner.<variant>` entry of metrics.json, and the report field each one fills. */
const METRICS_FIELDS = {
  rank: { key: "rank", schema: z.number().int().positive() },
  alpha: { key: "alpha", schema: z.number().finite() },
  trainableParams: { key: "trainable_params", schema: z.number().int().nonnegative() },
  epochs: { key: "epochs", schema: z.number().finite().nonnegative() },
  steps: { key: "steps", schema: z.number().int().nonnegative() },
  projection: { key: "projection", schema: z.string() },
  finalTrainLoss: { key: "final_train_loss", schema: z.number().finite() },
} as const;

export interface VariantReading {
  variant: VariantMetadata | null;
  warnings: string[];
}

/** Builds a model's variant metadata: metrics-file values first, then the config's own fields on top. */
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
    const entry = await readMetricsEntry(
      resolveConfigPath(loaded, config.metrics),
      config.name,
      modelId,
      warnings,
    );
    if (entry !== null) {
      variant.source = config.metrics;
      copyMetricsFields(entry, variant, modelId, warnings);
    }
  }

  const { metrics: _metrics, name: _name, ...inline } = config;
  Object.assign(variant, inline);
  return { variant, warnings };
}

async function readMetricsEntry(
  path: string,
  name: string | undefined,
  modelId: string,
  warnings: string[],
): Promise<Record<string, unknown> | null> {
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

  const captioner = (json as { captioner?: unknown } | null)?.captioner;
  if (typeof captioner !== "object" || captioner === null || Array.isArray(captioner)) {
    warnings.push(
      `model "${modelId}": "${path}" has no "captioner" object yet; the report shows only the config's variant fields`,
    );
    return null;
  }
  if (name === undefined) {
    warnings.push(
      `model "${modelId}": set variant.name to one of ${Object.keys(captioner).join(", ") || "(none)"} to read "${path}"`,
    );
    return null;
  }
  const entry = (captioner as Record<string, unknown>)[name];
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    warnings.push(
      `model "${modelId}": "${path}" has no captioner variant "${name}" (it has ${Object.keys(captioner).join(", ") || "none"})`,
    );
    return null;
  }
  return entry as Record<string, unknown>;
}

function copyMetricsFields(
  entry: Record<string, unknown>,
  variant: VariantMetadata,
  modelId: string,
  warnings: string[],
): void {
  for (const [field, { key, schema }] of Object.entries(METRICS_FIELDS)) {
    const value = entry[key];
    if (value === undefined) continue;
    const parsed = schema.safeParse(value);
    if (parsed.success) (variant as Record<string, unknown>)[field] = parsed.data;
    else
      warnings.push(
        `model "${modelId}": ignored invalid "${key}" ${JSON.stringify(value)} in the variant metrics`,
      );
  }
}
