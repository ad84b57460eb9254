// Selection and naming of the image files the site copies. Only images that some page shows are
// copied, so a report over thousands of images does not copy every photo.
import { extname } from "node:path";
import { imageFilePath, type ReportImage, type SiteData } from "./data.ts";
import { slug } from "./paths.ts";
import { photoUrl } from "./routes.ts";

/** File name of an image inside photos/<dataset>/: the image id plus the source file's extension. */
export function photoFileName(image: ReportImage): string | null {
  if (image.file === null) return null;
  return `${slug(image.id)}${extname(image.file).toLowerCase()}`;
}

/** URL of an image's copy in the site, or null when its dataset has no image files. */
export function photoSrc(data: SiteData, base: string, image: ReportImage): string | null {
  const name = photoFileName(image);
  if (name === null || imageFilePath(data, image) === null) return null;
  return photoUrl(base, image.dataset, name);
}

/** Text alternative of an image: its first reference caption when it has one. */
export function photoAlt(image: ReportImage): string {
  const reference = image.references[0];
  return reference === undefined
    ? `Image ${image.id} (no reference caption)`
    : `Image ${image.id}; a reference caption reads: ${reference}`;
}

/** Number of example images per dataset that the config comparison shows. */
export const EXAMPLES_PER_DATASET = 3;

/** Images that some page shows: config examples, CLIPScore extremes and attention pages. */
export function shownImages(data: SiteData): ReportImage[] {
  const { report } = data;
  const keys = new Set<string>();
  const add = (dataset: string, id: string): void => {
    keys.add(`${dataset}\u0000${id}`);
  };

  for (const dataset of report.datasets) {
    const examples = report.images
      .filter((image) => image.dataset === dataset.id)
      .slice(0, EXAMPLES_PER_DATASET);
    for (const image of examples) add(image.dataset, image.id);
  }
  for (const extremes of report.clipScoreExtremes) {
    for (const pair of [...extremes.top, ...extremes.bottom]) add(extremes.dataset, pair.image);
  }
  for (const entry of data.attention) add(entry.image.dataset, entry.image.id);

  return report.images.filter((image) => keys.has(`${image.dataset}\u0000${image.id}`));
}
