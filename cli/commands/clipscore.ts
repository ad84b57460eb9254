// `edgecap clipscore`: CLIPScore (2.5 x max(cos, 0)) of predicted captions against their images,
// and RefCLIPScore when references are given.
import { parseArgs } from "node:util";
import { parseEvaluationFiles } from "../../shared/formats/evaluation-input.ts";
import { parseJsonText } from "../../shared/formats/json-text.ts";
import { ValidationError } from "../../shared/formats/validation-error.ts";
import { ModelPackageError } from "../../shared/runtime/errors.ts";
import { MissingImageFilesError, scoreImagesWithClip } from "../clip-scoring.ts";
import { type Command, EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, UsageError } from "../command.ts";
import { checkOutputPath, writeOutputFile } from "../output-file.ts";
import { readInputFile } from "./evaluate.ts";

const usage = `Usage: edgecap clipscore --clip DIR --images DIR --predictions P [--references R] [--prefix TEXT] [--per-image FILE] [--format table|json]

Scores each predicted caption against its image with a CLIP model package.

Options:
  --clip DIR          CLIP package folder, e.g. models/packages/demo-clip (required)
  --images DIR        folder of the images, named <image name>.jpg/.png/... (required)
  --predictions P     {"<image name>": "caption"} JSON (required)
  --references R      COCO-layout captions file; adds RefCLIPScore and checks the image sets match
  --prefix TEXT       text put before every caption, e.g. "A photo depicts " (default: none)
  --per-image FILE    write one JSON row per image with its scores
  --format table|json output format (default table)

Exit codes: 0 scored, 1 invalid data or package, 2 invalid usage.`;

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      clip: { type: "string" },
      images: { type: "string" },
      predictions: { type: "string" },
      references: { type: "string" },
      prefix: { type: "string", default: "" },
      "per-image": { type: "string" },
      format: { type: "string", default: "table" },
    },
  });
  for (const required of ["clip", "images", "predictions"] as const) {
    if (values[required] === undefined) throw new UsageError(`--${required} is required`);
  }
  if (values.format !== "table" && values.format !== "json") {
    throw new UsageError(`--format must be table or json, got "${values.format}"`);
  }
  if (values["per-image"] !== undefined) await checkOutputPath(values["per-image"], "--per-image");

  let imageIds: string[];
  let captions: string[];
  let references: string[][] | undefined;
  const predictionsText = await readInputFile(values.predictions as string, "--predictions");
  const referencesText =
    values.references === undefined ? null : await readInputFile(values.references, "--references");
  if (predictionsText === undefined || referencesText === undefined) return EXIT_USAGE;

  try {
    if (referencesText !== null) {
      const input = parseEvaluationFiles(predictionsText, referencesText);
      imageIds = [...input.corpus.imageIds];
      captions = [...input.corpus.candidates];
      references = input.corpus.references.map((list) => [...list]);
    } else {
      const json = parseJsonText(predictionsText, "predictions");
      if (!json.ok) throw new ValidationError([json.problem]);
      const parsed = json.value;
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        console.error(
          `edgecap clipscore: ${values.predictions} must be a JSON object {"<image name>": "caption"}`,
        );
        return EXIT_DATA_ERROR;
      }
      const entries = Object.entries(parsed as Record<string, unknown>);
      const invalid = entries
        .filter(([, caption]) => typeof caption !== "string")
        .map(([id]) => id);
      if (invalid.length > 0) {
        console.error(
          `edgecap clipscore: captions must be strings; not for ${invalid.slice(0, 10).join(", ")}`,
        );
        return EXIT_DATA_ERROR;
      }
      imageIds = entries.map(([id]) => id);
      captions = entries.map(([, caption]) => caption as string);
    }
  } catch (error) {
    if (error instanceof ValidationError || error instanceof SyntaxError) {
      console.error(`edgecap clipscore: ${error.message}`);
      return EXIT_DATA_ERROR;
    }
    throw error;
  }

  let result: Awaited<ReturnType<typeof scoreImagesWithClip>>;
  try {
    result = await scoreImagesWithClip({
      clipDir: values.clip as string,
      imagesDir: values.images as string,
      imageIds,
      captions,
      ...(references === undefined ? {} : { references }),
      prefix: values.prefix as string,
    });
  } catch (error) {
    if (error instanceof ModelPackageError || error instanceof MissingImageFilesError) {
      console.error(`edgecap clipscore: ${(error as Error).message}`);
      return EXIT_DATA_ERROR;
    }
    throw error;
  }

  if (values["per-image"] !== undefined) {
    const rows = imageIds.map((imageId, i) =>
      JSON.stringify({ image_id: imageId, caption: captions[i], ...result.pairs[i] }),
    );
    await writeOutputFile(values["per-image"], `${rows.join("\n")}\n`, "--per-image");
  }
  const summary = {
    model: result.model,
    images: imageIds.length,
    prefix: result.prefix,
    clip_score: result.clipScore,
    ...(result.refClipScore === undefined ? {} : { ref_clip_score: result.refClipScore }),
  };
  if (values.format === "json") {
    console.log(JSON.stringify(summary, null, 2));
  } else {
    console.log(`CLIP model   ${result.model.id}`);
    console.log(`images       ${imageIds.length}`);
    console.log(`prefix       ${JSON.stringify(result.prefix)}`);
    console.log(`CLIPScore    ${result.clipScore.toFixed(4)}`);
    if (result.refClipScore !== undefined)
      console.log(`RefCLIPScore ${result.refClipScore.toFixed(4)}`);
  }
  return EXIT_OK;
}

export const command: Command = {
  summary: "CLIPScore of predicted captions against their images",
  usage,
  run,
};
