// Reads reference captions in the COCO caption layout:
// {"images": [{"id", "file_name"}, ...], "annotations": [{"image_id", "caption"}, ...]}.

import {
  childPath,
  describeList,
  jsonTypeName,
  type ValidationProblem,
} from "./validation-error.ts";

/** Image naming of predictions: file name without extension (homework) or COCO image id. */
export type ImageKey = "file_name" | "id";

export interface ReferenceImage {
  /** The COCO image id, as a string. */
  id: string;
  /** The name predictions use for this image: the file name without extension, or the id. */
  key: string;
  references: string[];
}

/**
 * Reads the references of every image, in the order of the "images" list, with captions in the
 * order of the "annotations" list (the order in which pycocoevalcap reads them). Appends problems and warnings
 * instead of throwing; the result is only meaningful when no problem was added.
 */
export function readReferences(
  value: unknown,
  keyBy: ImageKey,
  problems: ValidationProblem[],
  warnings: ValidationProblem[],
  documentName = "references",
): ReferenceImage[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push({
      path: documentName,
      message: `expected a JSON object with "images" and "annotations" arrays (COCO caption layout), got ${jsonTypeName(value)}`,
    });
    return [];
  }
  const document = value as Record<string, unknown>;
  const images = readImages(document.images, keyBy, problems, documentName);
  const imagesById = new Map(images.map((image) => [image.id, image]));

  const annotationsPath = childPath(documentName, "annotations");
  const annotations = document.annotations;
  if (!Array.isArray(annotations)) {
    problems.push({
      path: annotationsPath,
      message:
        annotations === undefined
          ? `missing; expected an array of {"image_id", "caption"} objects`
          : `expected an array of {"image_id", "caption"} objects, got ${jsonTypeName(annotations)}`,
    });
    return images;
  }

  const unknownImageIds: string[] = [];
  annotations.forEach((annotation: unknown, index) => {
    const path = childPath(annotationsPath, index);
    if (typeof annotation !== "object" || annotation === null || Array.isArray(annotation)) {
      problems.push({ path, message: `expected an object, got ${jsonTypeName(annotation)}` });
      return;
    }
    const { image_id: imageId, caption } = annotation as Record<string, unknown>;
    if (!isImageId(imageId)) {
      problems.push({
        path: childPath(path, "image_id"),
        message: `expected an integer or string image id, got ${describeValue(imageId)}`,
      });
      return;
    }
    if (typeof caption !== "string") {
      problems.push({
        path: childPath(path, "caption"),
        message: `caption of image ${JSON.stringify(String(imageId))} must be a string, got ${describeValue(caption)}`,
      });
      return;
    }

    const image = imagesById.get(String(imageId));
    if (image === undefined) unknownImageIds.push(String(imageId));
    else image.references.push(caption);
  });

  if (unknownImageIds.length > 0) {
    warnings.push({
      path: annotationsPath,
      message: `${unknownImageIds.length} annotation(s) name image ids that are not in "images" and are ignored: ${describeList([...new Set(unknownImageIds)])}`,
    });
  }

  const withoutReferences = images.filter((image) => image.references.length === 0);
  if (withoutReferences.length > 0 && images.length > 0) {
    problems.push({
      path: childPath(documentName, "images"),
      message: `${withoutReferences.length} image(s) have no reference captions: ${describeList(withoutReferences.map((image) => image.key))}; every scored image needs at least one`,
    });
  }
  return images;
}

function readImages(
  images: unknown,
  keyBy: ImageKey,
  problems: ValidationProblem[],
  documentName: string,
): ReferenceImage[] {
  const imagesPath = childPath(documentName, "images");
  if (!Array.isArray(images)) {
    problems.push({
      path: imagesPath,
      message:
        images === undefined
          ? `missing; expected an array of {"id", "file_name"} objects`
          : `expected an array of {"id", "file_name"} objects, got ${jsonTypeName(images)}`,
    });
    return [];
  }
  if (images.length === 0) {
    problems.push({ path: imagesPath, message: "is empty; there is nothing to score" });
    return [];
  }

  const result: ReferenceImage[] = [];
  const firstIndexOfId = new Map<string, number>();
  const firstIndexOfKey = new Map<string, number>();

  images.forEach((image: unknown, index) => {
    const path = childPath(imagesPath, index);
    if (typeof image !== "object" || image === null || Array.isArray(image)) {
      problems.push({ path, message: `expected an object, got ${jsonTypeName(image)}` });
      return;
    }
    const { id, file_name: fileName } = image as Record<string, unknown>;
    if (!isImageId(id)) {
      problems.push({
        path: childPath(path, "id"),
        message: `expected an integer or string image id, got ${describeValue(id)}`,
      });
      return;
    }

    const idText = String(id);
    const earlier = firstIndexOfId.get(idText);
    if (earlier !== undefined) {
      problems.push({
        path: childPath(path, "id"),
        message: `duplicate image id ${JSON.stringify(idText)}, first at ${childPath(imagesPath, earlier)}`,
      });
      return;
    }
    firstIndexOfId.set(idText, index);

    let key = idText;
    if (keyBy === "file_name") {
      if (typeof fileName !== "string" || fileName === "") {
        problems.push({
          path: childPath(path, "file_name"),
          message: `image ${JSON.stringify(idText)} needs a non-empty "file_name" string, got ${describeValue(fileName)}`,
        });
        return;
      }
      key = stripExtension(fileName);
      const earlierKey = firstIndexOfKey.get(key);
      if (earlierKey !== undefined) {
        problems.push({
          path: childPath(path, "file_name"),
          message: `duplicate image name ${JSON.stringify(key)} (file name without extension), first at ${childPath(imagesPath, earlierKey)}`,
        });
        return;
      }
      firstIndexOfKey.set(key, index);
    }

    result.push({ id: idText, key, references: [] });
  });
  return result;
}

/** "000000397133.jpg" -> "000000397133"; only the last extension of the last path segment goes. */
export function stripExtension(fileName: string): string {
  const slash = fileName.lastIndexOf("/");
  const dot = fileName.lastIndexOf(".");
  return dot > slash + 1 ? fileName.slice(0, dot) : fileName;
}

export function isImageId(value: unknown): value is number | string {
  return (
    (typeof value === "number" && Number.isInteger(value)) ||
    (typeof value === "string" && value !== "")
  );
}

/** Describes an invalid value for messages: its type and, when short, the value. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing (the field is missing)";
  if (value === null) return "null";
  const type = jsonTypeName(value);
  const text = JSON.stringify(value);
  return text.length <= 40 ? `${type} ${text}` : type;
}
