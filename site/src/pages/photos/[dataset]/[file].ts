// Static endpoint: copies of the image files that pages show, at photos/<dataset>/<image><ext>.
import { existsSync, readFileSync } from "node:fs";
import type { APIRoute, GetStaticPaths } from "astro";
import { imageFilePath, loadSiteData } from "../../../lib/data.ts";
import { slug } from "../../../lib/paths.ts";
import { photoFileName, shownImages } from "../../../lib/photos.ts";

export const getStaticPaths = (() => {
  const data = loadSiteData();
  return shownImages(data).flatMap((image) => {
    const path = imageFilePath(data, image);
    const file = photoFileName(image);
    if (path === null || file === null) return [];
    if (!existsSync(path)) {
      throw new Error(
        `image file not found: ${path} (image ${image.id} of dataset ${image.dataset}); check the dataset's imageRoot in report.json`,
      );
    }
    return [{ params: { dataset: slug(image.dataset), file }, props: { path } }];
  });
}) satisfies GetStaticPaths;

export const GET: APIRoute = ({ props }) => {
  const { path } = props as { path: string };
  // NOTE: photos are copied at full size; a report over many large photos would want thumbnails.
  return new Response(readFileSync(path));
};
