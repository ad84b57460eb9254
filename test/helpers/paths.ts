// Absolute paths that Node-side tests and benchmarks share. The product owner's read-only data
// (golden values, COCO photos, vocabularies) sits in a folder named `shared` beside the checkout,
// the same in CI; it is unrelated to the project's own shared/ source folder.
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const OWNER_DATA_DIR = fileURLToPath(new URL("../../../shared/", import.meta.url));
