// Turns a predictions document and a references document into the corpus that scoreCaptions
// takes, detecting the predictions layout and collecting every problem before failing.

import type { CaptionCorpus } from "../metrics/score.ts";
import { findDuplicateTopLevelKeys, parseJsonText } from "./json-text.ts";
import { checkImageSets, readCocoResults, readPredictionObject } from "./predictions.ts";
import { type ImageKey, isImageId, type ReferenceImage, readReferences } from "./references.ts";
import { jsonTypeName, ValidationError, type ValidationProblem } from "./validation-error.ts";

/**
 * "homework": an object {"<file name without extension>": "caption"} against references named by
 * file name. "coco-results": a list [{"image_id", "caption"}] against references named by image id.
 */
export type PredictionFormat = "homework" | "coco-results";

export interface EvaluationInput {
  format: PredictionFormat;
  /** Images in the order of the references' "images" list; ids are the names predictions use. */
  corpus: CaptionCorpus;
  warnings: ValidationProblem[];
}

/** Parses and validates both documents from JSON text. Throws a ValidationError listing every problem. */
export function parseEvaluationFiles(
  predictionsText: string,
  referencesText: string,
): EvaluationInput {
  const problems: ValidationProblem[] = [];
  const predictions = parseJsonText(predictionsText, "predictions");
  const references = parseJsonText(referencesText, "references");
  if (!predictions.ok) problems.push(predictions.problem);
  if (!references.ok) problems.push(references.problem);
  if (!predictions.ok || !references.ok) throw new ValidationError(problems);

  const isObject =
    typeof predictions.value === "object" &&
    predictions.value !== null &&
    !Array.isArray(predictions.value);
  const duplicateKeys = isObject
    ? findDuplicateTopLevelKeys(stripByteOrderMark(predictionsText))
    : [];
  return readEvaluationInput(predictions.value, references.value, {
    duplicatePredictionKeys: duplicateKeys,
  });
}

/**
 * Validates already parsed documents, for callers that received JSON values. JSON.parse keeps only
 * the last of repeated keys, so pass the repeated keys of the predictions text when it is known.
 */
export function readEvaluationInput(
  predictions: unknown,
  references: unknown,
  options: { duplicatePredictionKeys?: readonly string[] } = {},
): EvaluationInput {
  const problems: ValidationProblem[] = [];
  const warnings: ValidationProblem[] = [];

  let format: PredictionFormat;
  let captions = new Map<string, string>();
  let allKeys = new Set<string>();
  if (Array.isArray(predictions)) {
    format = "coco-results";
    captions = readCocoResults(predictions, problems);
    allKeys = new Set();
    for (const entry of predictions) {
      const imageId = (entry as { image_id?: unknown } | null)?.image_id;
      if (isImageId(imageId)) allKeys.add(String(imageId));
    }
  } else if (typeof predictions === "object" && predictions !== null) {
    format = "homework";
    const record = predictions as Record<string, unknown>;
    if (Array.isArray(record.images) && Array.isArray(record.annotations)) {
      problems.push({
        path: "predictions",
        message:
          'has "images" and "annotations" like a references document; check that the predictions and references are not swapped',
      });
    } else {
      captions = readPredictionObject(record, options.duplicatePredictionKeys ?? [], problems);
      allKeys = new Set(Object.keys(record));
    }
  } else {
    format = "homework";
    problems.push({
      path: "predictions",
      message: `expected an object {"<image name>": "caption"} or a COCO results list [{"image_id", "caption"}], got ${jsonTypeName(predictions)}`,
    });
  }

  const keyBy: ImageKey = format === "homework" ? "file_name" : "id";
  const images = readReferences(references, keyBy, problems, warnings);
  if (images.length > 0 && problems.every((problem) => problem.path !== "predictions")) {
    checkImageSets(
      images.map((image) => image.key),
      allKeys,
      new Set(images.map((image) => image.id)),
      problems,
    );
  }
  if (problems.length > 0) throw new ValidationError(problems);

  return { format, corpus: toCorpus(images, captions), warnings };
}

/**
 * Parses and validates a references document on its own, for building a document-frequency table.
 * Throws a ValidationError listing every problem.
 */
export function parseReferenceFile(text: string): {
  images: ReferenceImage[];
  warnings: ValidationProblem[];
} {
  const parsed = parseJsonText(text, "references");
  if (!parsed.ok) throw new ValidationError([parsed.problem]);
  const problems: ValidationProblem[] = [];
  const warnings: ValidationProblem[] = [];
  const images = readReferences(parsed.value, "id", problems, warnings);
  if (problems.length > 0) throw new ValidationError(problems);
  return { images, warnings };
}

function toCorpus(
  images: readonly ReferenceImage[],
  captions: ReadonlyMap<string, string>,
): CaptionCorpus {
  return {
    imageIds: images.map((image) => image.key),
    candidates: images.map((image) => captions.get(image.key) as string),
    references: images.map((image) => image.references),
  };
}

function stripByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
