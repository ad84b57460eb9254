// Model variants (LoRA settings) against the scores: the training facts the variants page plots.
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
