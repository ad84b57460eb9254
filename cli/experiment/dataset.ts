// Loads the images of a dataset and their reference captions from a COCO captions file, applying
// the config's subset, limit and missing-file rule.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { stripExtension } from "../../shared/formats/references.ts";
import { ConfigError, type DatasetConfig, type LoadedConfig, resolveConfigPath } from "./config.ts";

export interface DatasetImage {
  /** File name without extension: the name predictions and attention documents use. */
  id: string;
  /** The id in the captions file; null for datasets listed by imageIds alone. */
  sourceId: string | null;
  /** File name inside the image folder; null without an image folder. */
  file: string | null;
  width: number | null;
  height: number | null;
  references: string[];
}

export interface LoadedDataset {
  config: DatasetConfig;
  /** Index of the dataset in the config, for error paths. */
  index: number;
  /** In captions-file order, after subset, missing-file rule and limit. */
  images: DatasetImage[];
  /** Absolute image folder; null without one. */
  imageDir: string | null;
  hasReferences: boolean;
  warnings: string[];
}

const imageId = z.union([z.number().int(), z.string().min(1)]);

const cocoCaptionsSchema = z.looseObject({
  images: z
    .array(
      z.looseObject({
        id: imageId,
        file_name: z.string().min(1),
        width: z.number().int().positive().optional(),
        height: z.number().int().positive().optional(),
      }),
    )
    .min(1),
  annotations: z.array(z.looseObject({ image_id: imageId, caption: z.string() })),
});

/** Reads one dataset of the config. Throws a ConfigError naming the dataset's field on invalid data. */
export async function loadDataset(loaded: LoadedConfig, index: number): Promise<LoadedDataset> {
  const config = loaded.config.datasets[index] as DatasetConfig;
  const field = `datasets/${index}`;
  const imageDir = config.images === undefined ? null : resolveConfigPath(loaded, config.images);
  const warnings: string[] = [];

  let images: DatasetImage[];
  if (config.captions === undefined) {
    images = (config.imageIds ?? []).map((id) => ({
      id,
      sourceId: null,
      file: null,
      width: null,
      height: null,
      references: [],
    }));
  } else {
    images = await readCocoCaptions(
      resolveConfigPath(loaded, config.captions),
      `${field}/captions`,
      warnings,
    );
    if (config.imageIds !== undefined)
      images = selectImages(images, config.imageIds, `${field}/imageIds`);
  }

  if (imageDir !== null) {
    images = await applyMissingImageRule(images, imageDir, config, field, warnings);
  }
  if (config.limit !== undefined) images = images.slice(0, config.limit);

  if (images.length === 0) {
    throw new ConfigError([
      { path: field, message: `dataset "${config.id}" has no images left to caption` },
    ]);
  }
  return {
    config,
    index,
    images,
    imageDir,
    hasReferences: config.captions !== undefined,
    warnings,
  };
}

async function readCocoCaptions(
  path: string,
  field: string,
  warnings: string[],
): Promise<DatasetImage[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new ConfigError([
      { path: field, message: `cannot read "${path}" as JSON: ${(error as Error).message}` },
    ]);
  }

  const parsed = cocoCaptionsSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.slice(0, 20).map((issue) => ({
        path: field,
        message: `"${path}" is not a COCO captions file at ${issue.path.join("/") || "(root)"}: ${issue.message}`,
      })),
    );
  }

  const byId = new Map<string, DatasetImage>();
  const stems = new Map<string, string>();
  for (const entry of parsed.data.images) {
    const sourceId = String(entry.id);
    const id = stripExtension(entry.file_name.slice(entry.file_name.lastIndexOf("/") + 1));
    if (byId.has(sourceId)) {
      throw new ConfigError([
        {
          path: field,
          message: `"${path}" lists image id ${sourceId} twice; image ids must be unique`,
        },
      ]);
    }
    const earlier = stems.get(id);
    if (earlier !== undefined) {
      throw new ConfigError([
        {
          path: field,
          message: `"${path}": images ${earlier} and ${sourceId} have the same file name without extension, "${id}"; rename one, because reports name images by it`,
        },
      ]);
    }
    stems.set(id, sourceId);
    byId.set(sourceId, {
      id,
      sourceId,
      file: entry.file_name,
      width: entry.width ?? null,
      height: entry.height ?? null,
      references: [],
    });
  }

  let unknown = 0;
  for (const annotation of parsed.data.annotations) {
    const image = byId.get(String(annotation.image_id));
    if (image === undefined) unknown++;
    else image.references.push(annotation.caption);
  }
  if (unknown > 0)
    warnings.push(
      `${unknown} annotation(s) of "${path}" name images that are not in its "images" list; they are ignored`,
    );

  const images = [...byId.values()];
  const withReferences = images.filter((image) => image.references.length > 0);
  if (withReferences.length < images.length) {
    warnings.push(
      `${images.length - withReferences.length} image(s) of "${path}" have no reference captions and are left out, because every scored image needs one`,
    );
  }
  return withReferences;
}

function selectImages(
  images: DatasetImage[],
  ids: readonly string[],
  field: string,
): DatasetImage[] {
  const wanted = new Set(ids);
  const selected = images.filter((image) => wanted.has(image.id));
  if (selected.length < wanted.size) {
    const known = new Set(images.map((image) => image.id));
    const missing = ids.filter((id) => !known.has(id));
    throw new ConfigError([
      {
        path: field,
        message: `${missing.length} image id(s) are not in the captions file: ${missing.slice(0, 10).join(", ")}; ids are file names without extension`,
      },
    ]);
  }
  return selected;
}

async function applyMissingImageRule(
  images: DatasetImage[],
  imageDir: string,
  config: DatasetConfig,
  field: string,
  warnings: string[],
): Promise<DatasetImage[]> {
  const present: DatasetImage[] = [];
  const missing: string[] = [];
  for (const image of images) {
    const found = await stat(join(imageDir, image.file as string)).catch(() => null);
    if (found?.isFile() === true) present.push(image);
    else missing.push(image.file as string);
  }
  if (missing.length === 0) return present;

  if (config.missingImages === "error") {
    throw new ConfigError([
      {
        path: `${field}/images`,
        message: `${missing.length} image file(s) of dataset "${config.id}" are not in "${imageDir}": ${missing.slice(0, 10).join(", ")}; add them, or set "missingImages": "skip" to caption only the files present`,
      },
    ]);
  }
  warnings.push(
    `${missing.length} image(s) of dataset "${config.id}" have no file in "${imageDir}" and are skipped`,
  );
  return present;
}
