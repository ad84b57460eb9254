// The Worker's bindings and the per-request variables the middleware sets.

export interface Bindings {
  /** Maximum request body in bytes; wrangler.toml [vars] sets it, the default applies when unset. */
  EDGECAP_MAX_BODY_BYTES?: string;
  /** Maximum images scored in one metrics request. */
  EDGECAP_MAX_METRIC_IMAGES?: string;
}

export interface Variables {
  requestId: string;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}

/** Reads a positive integer limit from a string binding, falling back to the default. */
export function readLimit(value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) && parsed > 0 ? parsed : fallback;
}
