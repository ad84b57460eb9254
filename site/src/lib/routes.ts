// URLs of the site's pages and generated files, in one place so that links and the pages that
// serve them cannot drift apart. Every function takes the site base (Astro's BASE_URL).
import { sitePath, slug } from "./paths.ts";

export interface RunKey {
  dataset: string;
  model: string;
  config: string;
}

/** Page of one image's attention maps from one model, all configs. */
export function attentionPageUrl(
  base: string,
  dataset: string,
  model: string,
  image: string,
): string {
  return sitePath(base, `attention/${slug(dataset)}/${slug(model)}/${slug(image)}/`);
}

/** PNG of one token's heatmap, built by the maps endpoint. */
export function tokenMapUrl(
  base: string,
  run: RunKey,
  image: string,
  rank: number,
  token: number,
): string {
  return sitePath(base, `maps/${mapPath(run, image, rank, token)}.png`);
}

/** Path of a token heatmap inside maps/, without the extension (the endpoint's `map` parameter). */
export function mapPath(run: RunKey, image: string, rank: number, token: number): string {
  return `${slug(run.dataset)}/${slug(run.model)}/${slug(run.config)}/${slug(image)}/${rank}-${token}`;
}

/** URL of an image file copied into the site by the photos endpoint. */
export function photoUrl(base: string, dataset: string, fileName: string): string {
  return sitePath(base, `photos/${slug(dataset)}/${fileName}`);
}

/** Key of a result row, used in URLs and as a filter value in the per-image explorer. */
export function runKey(run: RunKey): string {
  return `${run.dataset}/${run.model}/${run.config}`;
}

/** Fragment id of a row of the per-image explorer. */
export function explorerRowId(run: RunKey, image: string): string {
  return `row-${slug(run.dataset)}-${slug(run.model)}-${slug(run.config)}-${slug(image)}`;
}

/**
 * Per-image explorer filtered to one run and the score range [min, max), or [min, max] with
 * `includeMax` (a histogram's last bin). The filter needs JavaScript.
 */
export function explorerFilterUrl(
  base: string,
  run: RunKey,
  metric: string,
  range: readonly [number, number],
  includeMax = false,
): string {
  const query = new URLSearchParams({
    run: runKey(run),
    metric,
    min: String(range[0]),
    max: String(range[1]),
  });
  if (includeMax) query.set("includeMax", "1");
  return `${sitePath(base, "images/")}?${query.toString()}`;
}
