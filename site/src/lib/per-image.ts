// Per-image rows: one caption of one image by one model and config, with its scores. The
// distributions page bins them and the explorer lists them.
import type { MetricId, ReportImage, ReportImageResult, SiteData } from "./data.ts";
import { binValues, finiteExtent, type HistogramBin } from "./histogram.ts";
import type { RunKey } from "./routes.ts";

export interface PerImageRow extends RunKey {
  image: ReportImage;
  result: ReportImageResult;
}

/** Lists every (image, result) pair of the report, in image order. */
export function perImageRows(data: SiteData): PerImageRow[] {
  return data.report.images.flatMap((image) =>
    image.results.map((result) => ({
      dataset: image.dataset,
      model: result.model,
      config: result.config,
      image,
      result,
    })),
  );
}

/** Returns the rows of one run. */
export function rowsOfRun(rows: readonly PerImageRow[], run: RunKey): PerImageRow[] {
  return rows.filter(
    (row) => row.dataset === run.dataset && row.model === run.model && row.config === run.config,
  );
}

export interface MetricHistogram {
  run: RunKey;
  metric: MetricId;
  bins: HistogramBin[];
  /** Rows with a value of the metric; bin indices point into this list. */
  rows: PerImageRow[];
}

/** Number of bins per histogram; per-image scores of a few hundred images fill 10 bins readably. */
export const HISTOGRAM_BINS = 10;

/**
 * Bins a metric's per-image values for one run over `domain` (shared by the runs of a dataset, so
 * their histograms can be compared bar for bar).
 */
export function metricHistogram(
  rows: readonly PerImageRow[],
  run: RunKey,
  metric: MetricId,
  domain: readonly [number, number],
): MetricHistogram {
  const scored = rowsOfRun(rows, run).filter((row) => row.result.scores[metric] !== null);
  const values = scored.map((row) => row.result.scores[metric] as number);
  return {
    run,
    metric,
    rows: scored,
    bins: binValues(values, { binCount: HISTOGRAM_BINS, domain }),
  };
}

/** [0, max] of a metric over the rows of a dataset, or undefined when none has a value. */
export function metricDomain(
  rows: readonly PerImageRow[],
  dataset: string,
  metric: MetricId,
): [number, number] | undefined {
  const values = rows
    .filter((row) => row.dataset === dataset)
    .map((row) => row.result.scores[metric])
    .filter((value): value is number => value !== null);
  const extent = finiteExtent(values);
  return extent === undefined ? undefined : [Math.min(0, extent[0]), extent[1]];
}
