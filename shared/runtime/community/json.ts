import { ModelPackageError } from "../errors.ts";

/** Parses a package file as JSON; invalid JSON is a ModelPackageError naming the file. */
export function parseJsonFile(bytes: Uint8Array, fileName: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ModelPackageError(
      fileName,
      null,
      `invalid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
