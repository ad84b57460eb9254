// Number formatting shared by tables and charts, so a score reads the same everywhere.

/** Formats a score with `digits` decimals; null (not computed) becomes an em dash. */
export function formatScore(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined) return "—";
  return value.toFixed(digits);
}

/** Formats a count with thousands separators (en-US grouping). */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return value.toLocaleString("en-US");
}

/** Formats a share in [0, 1] as a percentage with one decimal. */
export function formatPercent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}
