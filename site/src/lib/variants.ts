// Model variants (LoRA settings) against the scores: the training facts the variants page plots,
// and the training runs recorded in the variants' metrics files, which the page tables.
import type { TrainingRun } from "../../../shared/report/schema.ts";
import type { ReportModel, ReportResult } from "./data.ts";

export const VARIANT_FACTS = [
  { key: "rank", label: "LoRA rank" },
  { key: "alpha", label: "LoRA alpha" },
  { key: "trainableParams", label: "Trainable parameters" },
  { key: "epochs", label: "Epochs" },
] as const;

export type VariantFact = (typeof VARIANT_FACTS)[number]["key"];

/** Value of a training fact of a model, or undefined when its variant does not record it. */
export function variantFact(model: ReportModel, fact: VariantFact): number | undefined {
  return model.variant?.[fact];
}

/**
 * Facts worth plotting for these models: those recorded for at least two models with at least two
 * distinct values, since a single value gives no comparison.
 */
export function plottableFacts(models: readonly ReportModel[]): (typeof VARIANT_FACTS)[number][] {
  return VARIANT_FACTS.filter((fact) => {
    const values = models
      .map((model) => variantFact(model, fact.key))
      .filter((value) => value !== undefined);
    return values.length >= 2 && new Set(values).size >= 2;
  });
}

/** Results of models that have variant facts. */
export function variantResults(
  results: readonly ReportResult[],
  models: Map<string, ReportModel>,
): ReportResult[] {
  return results.filter((result) => models.get(result.model)?.variant != null);
}

/** One row of the training-runs table: a recorded run and the report's models built from it. */
export interface TrainingRunRow {
  run: TrainingRun;
  /** Models whose `variant.name` names this run. */
  models: ReportModel[];
}

/** The training runs of one metrics file, as the variants page tables them. */
export interface TrainingRunTable {
  /** The metrics file path as the experiment config writes it. */
  metrics: string;
  rows: TrainingRunRow[];
}

/**
 * Groups the models' recorded training runs by metrics file, one table per file in model order.
 * Models that name the same file carry the same runs, so the first model's list is shown and the
 * others only add their marks.
 */
export function trainingRunTables(models: readonly ReportModel[]): TrainingRunTable[] {
  const tables = new Map<string, TrainingRunTable>();
  for (const model of models) {
    const recorded = model.variant?.trainingRuns;
    if (recorded === undefined) continue;

    let table = tables.get(recorded.metrics);
    if (table === undefined) {
      table = {
        metrics: recorded.metrics,
        rows: recorded.runs.map((run) => ({ run, models: [] })),
      };
      tables.set(recorded.metrics, table);
    }
    const own = recorded.runs.find((run) => run.isModelVariant);
    if (own === undefined) continue;
    table.rows.find((row) => row.run.name === own.name)?.models.push(model);
  }
  return [...tables.values()];
}

/**
 * Finds the value that every run recording `key` agrees on. Returns undefined when no run records
 * it or the runs differ.
 */
export function sharedRunValue<K extends "testImages" | "decoding">(
  rows: readonly TrainingRunRow[],
  key: K,
): TrainingRun[K] | undefined {
  const values = new Set(rows.map((row) => row.run[key]).filter((value) => value !== undefined));
  return values.size === 1 ? [...values][0] : undefined;
}

/**
 * Names the checkpoint a run continued from: the run name where the file is `captioner_<run>.pt`
 * of a run in the same table (the name models/edgecap_models/train_captioner.py saves under),
 * else the path as recorded. Null (a run from fresh LoRA weights) becomes "none"; unknown is "—".
 */
export function continuedFrom(run: TrainingRun, rows: readonly TrainingRunRow[]): string {
  if (run.initFrom === undefined) return "—";
  if (run.initFrom === null) return "none";
  const fileName = run.initFrom.split(/[\\/]/).pop() ?? "";
  const earlier = rows.find((row) => fileName === `captioner_${row.run.name}.pt`);
  return earlier?.run.name ?? run.initFrom;
}

/** Lists the distinct descriptions of the weights that exported scores were measured on. */
export function exportedMeasurements(rows: readonly TrainingRunRow[]): string[] {
  const measured = rows.flatMap(({ run }) => {
    const exported = run.exported;
    const hasScore = exported?.ciderD !== undefined || exported?.grounding !== undefined;
    return hasScore && exported?.measured !== undefined ? [exported.measured] : [];
  });
  return [...new Set(measured)];
}
