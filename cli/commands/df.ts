// `edgecap df`: builds a CIDEr-D document-frequency table from a reference corpus, so that
// `edgecap evaluate --df` and the edge service can score any number of images, even one, with the
// idf weights of that corpus.

import { basename } from "node:path";
import { parseArgs } from "node:util";
import { parseReferenceFile } from "../../shared/formats/evaluation-input.ts";
import { ValidationError } from "../../shared/formats/validation-error.ts";
import { DocumentFrequencyTable } from "../../shared/metrics/document-frequency.ts";
import { ptbTokenizeBatch } from "../../shared/metrics/ptb-tokenizer.ts";
import { type Command, EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE, UsageError } from "../command.ts";
import { checkOutputPath, writeOutputFile } from "../output-file.ts";
import { parseOptions, printProblems, readInputFile } from "./evaluate.ts";

const USAGE = `Usage: edgecap df --references FILE --out FILE [--no-tokenize]

Counts, for every n-gram (orders 1 to 4) of the reference captions, the number of images whose
references contain it, and writes that CIDEr-D document-frequency table as JSON for
\`edgecap evaluate --df\`.

Options:
  --references FILE  reference captions in the COCO caption layout:
                     {"images": [{"id", ...}], "annotations": [{"image_id", "caption"}]}
  --out FILE         where to write the table (JSON)
  --no-tokenize      skip PTB tokenization; evaluate with --no-tokenize too

Exit status: 0 written, 1 invalid references, 2 invalid usage or unreadable file.`;

export const command: Command = {
  summary: "Build a CIDEr-D document-frequency table from reference captions",
  usage: USAGE,
  run,
};

async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(() =>
    parseArgs({
      args: argv,
      options: {
        references: { type: "string" },
        out: { type: "string" },
        "no-tokenize": { type: "boolean", default: false },
      },
      allowPositionals: false,
    }),
  );
  if (values.references === undefined || values.references === "") {
    throw new UsageError("missing --references FILE");
  }
  if (values.out === undefined || values.out === "") throw new UsageError("missing --out FILE");

  await checkOutputPath(values.out, "--out");
  const text = await readInputFile(values.references, "--references");
  if (text === undefined) return EXIT_USAGE;

  let images: ReturnType<typeof parseReferenceFile>["images"];
  try {
    const parsed = parseReferenceFile(text);
    images = parsed.images;
    for (const warning of parsed.warnings)
      console.error(`warning: ${warning.path}: ${warning.message}`);
  } catch (error) {
    if (error instanceof ValidationError) {
      printProblems("df", error.problems);
      return EXIT_DATA_ERROR;
    }
    throw error;
  }

  const tokenize = !values["no-tokenize"];
  let references = images.map((image) => image.references);
  if (tokenize) {
    // One batch over all references, as the evaluation tokenizes its references.
    const tokenized = ptbTokenizeBatch(references.flat());
    let next = 0;
    references = references.map((list) => {
      const slice = tokenized.slice(next, next + list.length);
      next += list.length;
      return slice;
    });
  }

  const table = DocumentFrequencyTable.fromReferences(
    references,
    tokenize ? "ptb" : "none",
    basename(values.references),
  );
  const json = table.toJson();
  await writeOutputFile(values.out, `${JSON.stringify(json)}\n`, "--out");
  console.error(
    `edgecap df: wrote ${values.out}: document frequencies of ${table.ngramCount} n-grams over ${table.imageCount} images (${tokenize ? "PTB tokenization" : "no tokenization"})`,
  );
  return EXIT_OK;
}
