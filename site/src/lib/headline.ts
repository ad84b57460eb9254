// Headline numbers for the overview: per dataset and model, the config with the best corpus score.
import type { ReportResult } from "./data.ts";

/**
 * Returns, per model, the result with the highest CIDEr-D; results without CIDEr-D (no references)
 * rank by CLIPScore instead, and results with neither keep the report's first config.
 */
export function bestResultPerModel(results: readonly ReportResult[]): ReportResult[] {
  const best = new Map<string, ReportResult>();
  for (const result of results) {
    const current = best.get(result.model);
    if (current === undefined || rankKey(result) > rankKey(current)) best.set(result.model, result);
  }
  return [...best.values()];
}

function rankKey(result: ReportResult): number {
  return result.metrics.cider_d ?? result.metrics.clip_score ?? Number.NEGATIVE_INFINITY;
}
