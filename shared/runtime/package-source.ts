// Sources of a model package's files: a folder on disk (CLI), static assets or R2 (workerd), or
// URLs (browser). The runtime reads every file through this interface.
import { sha256Hex } from "../image/hash.ts";
import { ModelPackageError } from "./errors.ts";

export interface PackageSource {
  /** A label for messages, such as the folder path or the base URL. */
  readonly location: string;
  /** Resolves to the file's bytes, or null when the package has no such file. */
  readBytes(name: string): Promise<Uint8Array | null>;
}

/** Reads a file that the package must contain; a missing file is a ModelPackageError naming it. */
export async function requireBytes(source: PackageSource, name: string): Promise<Uint8Array> {
  const bytes = await source.readBytes(name);
  if (bytes === null) {
    throw new ModelPackageError(
      name,
      null,
      `file not found in the model package at ${source.location}`,
    );
  }
  return bytes;
}

/** Reads and parses a JSON file of the package. */
export async function requireJson(source: PackageSource, name: string): Promise<unknown> {
  const bytes = await requireBytes(source, name);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ModelPackageError(
      name,
      null,
      `invalid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Checks a file against the sha256 the manifest records, so a corrupted download fails loudly. */
export async function verifySha256(
  name: string,
  bytes: Uint8Array,
  expected: string | undefined,
): Promise<string> {
  const actual = await sha256Hex(bytes);
  if (expected !== undefined && actual !== expected) {
    throw new ModelPackageError(
      name,
      "sha256",
      `content hash ${actual} does not match the manifest's ${expected}; the file is corrupt or from another export, so re-copy the package`,
    );
  }
  return actual;
}

/** Returns a source over an in-memory map of file name to bytes (tests, bundled fixtures). */
export function memoryPackageSource(
  location: string,
  files: Record<string, Uint8Array>,
): PackageSource {
  return {
    location,
    readBytes: async (name) => files[name] ?? null,
  };
}

/** Returns a source that fetches `baseUrl + name` (static assets in the browser, or a Worker's ASSETS binding). */
export function fetchPackageSource(
  baseUrl: string,
  fetcher: (url: string) => Promise<Response> = (url) => fetch(url),
): PackageSource {
  const base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  return {
    location: base,
    async readBytes(name) {
      const response = await fetcher(base + name);
      if (response.status === 404) return null;
      if (!response.ok) {
        throw new ModelPackageError(
          name,
          null,
          `fetching ${base + name} failed with HTTP ${response.status}`,
        );
      }
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}
