// The per-image explorer's filter as a pure function over plain row values, shared by the client
// script and the unit tests. The URL form is what the distributions page's bars link to.

export interface ExplorerFilter {
  /** Lower-case words that must all occur in the row's text. */
  words: string[];
  /** `dataset/model/config`, or "" for every run. */
  run: string;
  /** Score range on one metric, from a histogram bar. */
  range: { metric: string; min: number; max: number; includeMax: boolean } | null;
}

export interface ExplorerRowValues {
  text: string;
  run: string;
  scores: Record<string, number | null>;
}

/** Reads the filter from the explorer's query string; an invalid range is ignored, not applied. */
export function parseExplorerQuery(search: string): ExplorerFilter {
  const query = new URLSearchParams(search);
  const metric = query.get("metric");
  const min = Number(query.get("min"));
  const max = Number(query.get("max"));
  const validRange =
    metric !== null &&
    query.has("min") &&
    query.has("max") &&
    Number.isFinite(min) &&
    Number.isFinite(max);
  return {
    words: splitWords(query.get("q") ?? ""),
    run: query.get("run") ?? "",
    range: validRange ? { metric, min, max, includeMax: query.get("includeMax") === "1" } : null,
  };
}

/** Splits search text into lower-case words. */
export function splitWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/\s+/)
    .filter((word) => word !== "");
}

/** Returns true when a row passes every part of the filter. A row without the range's metric fails it. */
export function matchesFilter(row: ExplorerRowValues, filter: ExplorerFilter): boolean {
  if (filter.run !== "" && row.run !== filter.run) return false;

  const text = row.text.toLowerCase();
  if (!filter.words.every((word) => text.includes(word))) return false;

  if (filter.range !== null) {
    const value = row.scores[filter.range.metric];
    if (value === null || value === undefined) return false;
    const belowMax = filter.range.includeMax ? value <= filter.range.max : value < filter.range.max;
    if (value < filter.range.min || !belowMax) return false;
  }
  return true;
}
