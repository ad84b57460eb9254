// The model packages the Worker can serve: models/index.json in the static assets (written by
// scripts/build-assets.mjs) lists each package's folder name, manifest id, kind and manifest
// sha256. Requests name a package by id ("edgecap-tiny-random") or folder name ("tiny-random").
import type { AssetsBinding, Bindings } from "../env.ts";
import { readList } from "../env.ts";
import { ProblemError } from "../problem.ts";

/** Any origin works for the ASSETS binding, which reads only the path. */
export const ASSET_ORIGIN = "https://assets.edgecap.internal";

export type PackageKind = "captioner" | "clip";

export interface PackageEntry {
  /** Folder name under models/ in the assets. */
  name: string;
  /** The manifest's id. */
  id: string;
  kind: PackageKind;
  /** Repository folder the package was copied from. */
  source: string;
  manifest_sha256: string;
}

let indexPromise: Promise<PackageEntry[]> | null = null;

function requireAssets(env: Bindings): AssetsBinding {
  if (env.ASSETS === undefined) {
    throw new ProblemError(
      503,
      "model-unavailable",
      "Model files unavailable",
      "The ASSETS binding is missing, so no model package can be read. Configure [assets] in wrangler.toml.",
    );
  }
  return env.ASSETS;
}

async function fetchIndex(assets: AssetsBinding): Promise<PackageEntry[]> {
  const response = await assets.fetch(`${ASSET_ORIGIN}/models/index.json`);
  if (!response.ok) {
    throw new ProblemError(
      503,
      "model-unavailable",
      "Model index unavailable",
      `Reading models/index.json from the static assets failed with HTTP ${response.status}. Run node scripts/build-assets.mjs and restart.`,
    );
  }
  const index = (await response.json()) as { packages?: PackageEntry[] };
  return index.packages ?? [];
}

/** Reads the package index once per isolate; a failed read is retried by the next request. */
export function readPackageIndex(env: Bindings): Promise<PackageEntry[]> {
  if (indexPromise === null) {
    const pending = fetchIndex(requireAssets(env));
    indexPromise = pending;
    pending.catch(() => {
      if (indexPromise === pending) indexPromise = null;
    });
  }
  return indexPromise;
}

function matches(entry: PackageEntry, name: string): boolean {
  return entry.id === name || entry.name === name;
}

/** Picks the default package of a kind: the first configured name that the index contains. */
function defaultPackage(
  packages: readonly PackageEntry[],
  kind: PackageKind,
  configured: string | undefined,
): PackageEntry {
  for (const name of readList(configured)) {
    const entry = packages.find((candidate) => candidate.kind === kind && matches(candidate, name));
    if (entry !== undefined) return entry;
  }
  const fallback = packages.find((candidate) => candidate.kind === kind);
  if (fallback === undefined) {
    throw new ProblemError(
      503,
      "model-unavailable",
      "No model package",
      `The static assets contain no ${kind} package. Add one under models/packages/ and run node scripts/build-assets.mjs.`,
    );
  }
  return fallback;
}

/** Resolves the requested package, or the configured default when none is named. */
export async function resolvePackage(
  env: Bindings,
  kind: PackageKind,
  requested: string | undefined,
): Promise<PackageEntry> {
  const packages = await readPackageIndex(env);
  if (requested === undefined) {
    return defaultPackage(
      packages,
      kind,
      kind === "captioner" ? env.EDGECAP_DEFAULT_CAPTIONER : env.EDGECAP_DEFAULT_CLIP,
    );
  }
  const entry = packages.find(
    (candidate) => candidate.kind === kind && matches(candidate, requested),
  );
  if (entry === undefined) {
    const known = packages
      .filter((candidate) => candidate.kind === kind)
      .map((candidate) => candidate.id);
    const extra = kind === "captioner" ? ["llava"] : [];
    throw new ProblemError(
      400,
      "validation-failed",
      "Unknown model",
      `model ${JSON.stringify(requested)} is not a ${kind} package of this server. Use one of ${[...known, ...extra].join(", ")} (GET /v1/models lists them).`,
      [{ path: "/model", message: `unknown ${kind} model ${JSON.stringify(requested)}` }],
    );
  }
  return entry;
}
