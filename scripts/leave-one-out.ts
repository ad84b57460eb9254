// Builds the leave-one-out split of COCO caption annotations: for each image, the caption with the
// lowest annotation id becomes the candidate and the other captions the references. Scoring that
// split measures how well one human caption agrees with the others, a human baseline for captioners.
//
// Usage: npx node scripts/leave-one-out.ts OUT_DIR [--captions FILE]
// Writes OUT_DIR/predictions.json ({"<file name without extension>": "caption"}) and
// OUT_DIR/references.json (COCO caption layout), which `edgecap evaluate` and the edge service read.
// FILE defaults to the COCO val2017 captions in the data folder beside the checkout.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { stripExtension } from "../shared/formats/references.ts";

const DEFAULT_CAPTIONS = fileURLToPath(
  new URL("../../shared/data/coco-val2017-captions.json", import.meta.url),
);

interface CocoCaptions {
  images: { id: number; file_name: string }[];
  annotations: { id: number; image_id: number; caption: string }[];
}

export interface LeaveOneOutSplit {
  /** File name without extension -> candidate caption. */
  predictions: Record<string, string>;
  references: {
    images: { id: number; file_name: string }[];
    annotations: { id: number; image_id: number; caption: string }[];
  };
}

/** Splits COCO caption annotations. Throws when an image has fewer than 2 captions. */
export function buildLeaveOneOutSplit(coco: CocoCaptions): LeaveOneOutSplit {
  const byImage = new Map<number, CocoCaptions["annotations"]>();
  for (const annotation of coco.annotations) {
    const list = byImage.get(annotation.image_id);
    if (list === undefined) byImage.set(annotation.image_id, [annotation]);
    else list.push(annotation);
  }

  const predictions: Record<string, string> = Object.create(null);
  const images: LeaveOneOutSplit["references"]["images"] = [];
  const annotations: LeaveOneOutSplit["references"]["annotations"] = [];
  for (const image of coco.images) {
    const captions = byImage.get(image.id) ?? [];
    if (captions.length < 2) {
      throw new RangeError(
        `image ${image.id} has ${captions.length} caption(s); leave-one-out needs at least 2`,
      );
    }
    const candidate = captions.reduce((lowest, annotation) =>
      annotation.id < lowest.id ? annotation : lowest,
    );

    predictions[stripExtension(image.file_name)] = candidate.caption;
    images.push({ id: image.id, file_name: image.file_name });
    // References keep the order of the annotation file, which is the order COCO tools read them in.
    for (const annotation of captions) {
      if (annotation !== candidate) annotations.push({ ...annotation });
    }
  }
  return { predictions, references: { images, annotations } };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { captions: { type: "string", default: DEFAULT_CAPTIONS } },
    allowPositionals: true,
  });
  const outDir = positionals[0];
  if (outDir === undefined) {
    console.error("Usage: npx node scripts/leave-one-out.ts OUT_DIR [--captions FILE]");
    process.exitCode = 2;
    return;
  }

  const coco = JSON.parse(await readFile(values.captions, "utf8")) as CocoCaptions;
  const split = buildLeaveOneOutSplit(coco);
  await mkdir(outDir, { recursive: true });
  await writeFile(
    join(outDir, "predictions.json"),
    `${JSON.stringify(split.predictions, null, 1)}\n`,
  );
  await writeFile(join(outDir, "references.json"), `${JSON.stringify(split.references)}\n`);
  console.log(
    `wrote ${join(outDir, "predictions.json")} and ${join(outDir, "references.json")}: ` +
      `${split.references.images.length} images, ${split.references.annotations.length} references, one candidate each`,
  );
}

if (import.meta.main) await main();
