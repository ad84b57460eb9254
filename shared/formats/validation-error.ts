// The error type of caption-file validation: every problem found, each with where it is, so that
// the CLI can print them all and the edge service can return them as problem+json.

/**
 * One problem in an input document. `path` is the document name ("predictions" or "references")
 * followed by a JSON Pointer (RFC 6901) into it, for example "references/annotations/3/caption".
 */
export interface ValidationProblem {
  path: string;
  message: string;
}

export class ValidationError extends Error {
  readonly problems: readonly ValidationProblem[];

  constructor(problems: readonly ValidationProblem[]) {
    const first = problems[0];
    const summary = first === undefined ? "invalid input" : `${first.path}: ${first.message}`;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : "";
    super(`${summary}${more}`);
    this.name = "ValidationError";
    this.problems = problems;
  }
}

/** Appends one reference token to a path, escaping "~" and "/" as JSON Pointer requires. */
export function childPath(path: string, token: string | number): string {
  const escaped = String(token).replaceAll("~", "~0").replaceAll("/", "~1");
  return `${path}/${escaped}`;
}

/** Names the JSON type of a value for messages: "null", "array", "object", "string", ... */
export function jsonTypeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Shows the first `limit` items and the count, for messages about long id lists. */
export function describeList(items: readonly string[], limit = 10): string {
  const shown = items
    .slice(0, limit)
    .map((item) => JSON.stringify(item))
    .join(", ");
  return items.length > limit
    ? `${shown}, ... (${items.length} in all, first ${limit} shown)`
    : shown;
}
