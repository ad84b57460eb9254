// Reads candidate captions in the two supported layouts: the homework object
// {"<file name without extension>": "caption", ...} and COCO's results list
// [{"image_id": 397133, "caption": "..."}, ...].

import { describeValue, isImageId } from "./references.ts";
import {
  childPath,
  describeList,
  jsonTypeName,
  type ValidationProblem,
} from "./validation-error.ts";

/** Reads the homework object. `duplicateKeys` are keys repeated in the JSON text. */
export function readPredictionObject(
  value: Record<string, unknown>,
  duplicateKeys: readonly string[],
  problems: ValidationProblem[],
  documentName = "predictions",
): Map<string, string> {
  const captions = new Map<string, string>();

  for (const key of duplicateKeys) {
    problems.push({
      path: childPath(documentName, key),
      message: `duplicate image name ${JSON.stringify(key)}; give each image exactly one caption`,
    });
  }

  for (const [key, caption] of Object.entries(value)) {
    if (typeof caption !== "string") {
      problems.push({
        path: childPath(documentName, key),
        message: `caption of image ${JSON.stringify(key)} must be a string, got ${describeValue(caption)}`,
      });
      continue;
    }
    captions.set(key, caption);
  }
  return captions;
}

/** Reads COCO's results list, keyed by image id as a string. */
export function readCocoResults(
  value: readonly unknown[],
  problems: ValidationProblem[],
  documentName = "predictions",
): Map<string, string> {
  const captions = new Map<string, string>();
  const firstIndex = new Map<string, number>();

  value.forEach((entry: unknown, index) => {
    const path = childPath(documentName, index);
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      problems.push({
        path,
        message: `expected an object {"image_id", "caption"}, got ${jsonTypeName(entry)}`,
      });
      return;
    }
    const { image_id: imageId, caption } = entry as Record<string, unknown>;
    if (!isImageId(imageId)) {
      problems.push({
        path: childPath(path, "image_id"),
        message: `expected an integer or string image id, got ${describeValue(imageId)}`,
      });
      return;
    }

    const key = String(imageId);
    const earlier = firstIndex.get(key);
    if (earlier !== undefined) {
      problems.push({
        path: childPath(path, "image_id"),
        message: `duplicate image id ${JSON.stringify(key)}, first at ${childPath(documentName, earlier)}; give each image exactly one caption`,
      });
      return;
    }
    firstIndex.set(key, index);

    if (typeof caption !== "string") {
      problems.push({
        path: childPath(path, "caption"),
        message: `caption of image ${JSON.stringify(key)} must be a string, got ${describeValue(caption)}`,
      });
      return;
    }
    captions.set(key, caption);
  });
  return captions;
}

/**
 * Checks that the predicted image names equal the reference image names. `allKeys` are every key of
 * the predictions, including those whose caption was invalid, so that those are not also reported
 * as missing.
 */
export function checkImageSets(
  referenceKeys: readonly string[],
  allKeys: ReadonlySet<string>,
  referenceIds: ReadonlySet<string>,
  problems: ValidationProblem[],
  documentName = "predictions",
): void {
  const referenceKeySet = new Set(referenceKeys);
  const missing = referenceKeys.filter((key) => !allKeys.has(key));
  const extra = [...allKeys].filter((key) => !referenceKeySet.has(key));

  if (missing.length > 0) {
    problems.push({
      path: documentName,
      message: `${missing.length} reference image(s) have no prediction: ${describeList(missing)}`,
    });
  }
  if (extra.length > 0) {
    // A common mix-up: the homework format keys by file name, not by COCO image id.
    const looksLikeIds =
      extra.every((key) => referenceIds.has(key)) &&
      !extra.every((key) => referenceKeySet.has(key));
    const hint = looksLikeIds
      ? `; these are COCO image ids, but this layout names images by file name without extension (for example ${JSON.stringify(referenceKeys[0])}), or use a COCO results list [{"image_id", "caption"}]`
      : "";
    problems.push({
      path: documentName,
      message: `${extra.length} prediction(s) name images that are not in the references: ${describeList(extra)}${hint}`,
    });
  }
}
