// `edgecap caption IMAGE... --model DIR`: captions image files with an ONNX model package on this
// machine (onnxruntime-node), with any decoding strategy and optional per-token attention maps.
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { parseArgs } from "node:util";
import type { AttentionDocument } from "../../shared/attention/schema.ts";
import { GenerationOptionsError } from "../../shared/decoding/options.ts";
import { ImageDecodeError } from "../../shared/image/errors.ts";
import { MemoryEmbeddingCache } from "../../shared/runtime/embedding-cache.ts";
import { ModelPackageError } from "../../shared/runtime/errors.ts";
import { type Captioner, loadCaptionerPackage } from "../../shared/runtime/load-package.ts";
import { type Command, EXIT_DATA_ERROR, EXIT_OK, UsageError } from "../command.ts";
import { directoryPackageSource, initNodeImageCodecs, loadNodeOrt } from "../node-host.ts";
import { GENERATION_FLAGS, GENERATION_USAGE, generationFromFlags } from "../options/generation.ts";
import { checkOutputPath, writeOutputFile } from "../output-file.ts";

const usage = `Usage: edgecap caption IMAGE... --model DIR [decoding options] [--attention FILE] [--format text|json]

Captions JPEG, PNG, WebP, GIF or BMP files with an edgecap model package or a community-layout
(transformers.js / optimum) VisionEncoderDecoder export (docs/model-package.md).

Options:
  --model DIR               model package folder, e.g. models/packages/demo-captioner (required)
  --attention FILE          write per-token attention maps (docs/attention-schema.md), one document per image
  --format text|json        text: one line per caption (default); json: full results
  --max-pixels N            reject images above N pixels before decoding (default 89478485)
${GENERATION_USAGE}

Exit codes: 0 captioned every image, 1 an image or the package was invalid, 2 invalid usage.`;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: "string" },
      attention: { type: "string" },
      format: { type: "string", default: "text" },
      "max-pixels": { type: "string" },
      ...GENERATION_FLAGS,
    },
  });
  if (values.model === undefined) throw new UsageError("--model DIR is required");
  if (positionals.length === 0) throw new UsageError("give at least one IMAGE file");
  if (values.format !== "text" && values.format !== "json") {
    throw new UsageError(`--format must be text or json, got "${values.format}"`);
  }
  const maxPixels = values["max-pixels"] === undefined ? undefined : Number(values["max-pixels"]);
  if (maxPixels !== undefined && !(Number.isSafeInteger(maxPixels) && maxPixels > 0)) {
    throw new UsageError(`--max-pixels must be a positive integer, got "${values["max-pixels"]}"`);
  }
  const generation = generationFromFlags(values);
  if (values.attention !== undefined) await checkOutputPath(values.attention, "--attention");

  await initNodeImageCodecs();
  const { ort } = await loadNodeOrt();
  let captioner: Captioner;
  try {
    captioner = await loadCaptionerPackage(directoryPackageSource(values.model), ort, {
      cache: new MemoryEmbeddingCache(),
    });
  } catch (error) {
    if (error instanceof ModelPackageError) {
      console.error(`edgecap caption: invalid model package ${values.model}: ${error.message}`);
      return EXIT_DATA_ERROR;
    }
    throw error;
  }

  const documents: AttentionDocument[] = [];
  const results: unknown[] = [];
  let failures = 0;
  for (const file of positionals) {
    const imageId = basename(file, extname(file));
    try {
      const result = await captioner.caption(new Uint8Array(await readFile(file)), {
        generation,
        attention: values.attention !== undefined,
        imageId,
        ...(maxPixels === undefined ? {} : { maxPixels }),
      });
      if (result.attention !== null) documents.push(result.attention);
      if (values.format === "json") {
        results.push({ file, ...result, attention: undefined });
      } else {
        for (const [rank, caption] of result.captions.entries()) {
          const label = result.captions.length > 1 ? `${file} #${rank + 1}` : file;
          console.log(`${label}\t${caption.text}\t(score ${caption.score.toFixed(4)})`);
        }
      }
    } catch (error) {
      if (error instanceof GenerationOptionsError) throw new UsageError(error.message);
      if (error instanceof ImageDecodeError || (error as NodeJS.ErrnoException).code === "ENOENT") {
        console.error(`edgecap caption: ${file}: ${(error as Error).message}`);
        failures++;
        continue;
      }
      throw error;
    }
  }

  if (values.format === "json") console.log(JSON.stringify(results, null, 2));
  if (values.attention !== undefined) {
    await writeOutputFile(
      values.attention,
      `${JSON.stringify(documents.length === 1 ? documents[0] : documents)}\n`,
      "--attention",
    );
  }
  return failures > 0 ? EXIT_DATA_ERROR : EXIT_OK;
}

export const command: Command = {
  summary: "Caption image files with an ONNX model package",
  usage,
  run,
};
