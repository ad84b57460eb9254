// Reads the output folder of models/llava/caption_attention.py: runs.json (`edgecap.llava-runs/v1`),
// one predictions object and one array of attention documents per run (docs/llava-backend.md).
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { type AttentionDocument, attentionDocumentSchema } from "../../shared/attention/schema.ts";
import { idSchema, type ReportConfig } from "../../shared/report/schema.ts";
import { ExperimentError } from "./errors.ts";

export const LLAVA_RUNS_SCHEMA = "edgecap.llava-runs/v1";

const runsSchema = z.looseObject({
  schema: z.literal(LLAVA_RUNS_SCHEMA),
  model: z.looseObject({
    id: z.string().min(1),
    sha256: z.string().nullable(),
    family: z.literal("llava"),
  }),
  environment: z.record(z.string(), z.unknown()),
  runs: z.array(
    z.looseObject({
      id: idSchema,
      instruction: z.string(),
      config: z.looseObject({ name: z.string().min(1) }),
      predictions: z.string().min(1),
      attention: z.string().min(1).nullable().optional(),
    }),
  ),
});

export interface ImportedRun {
  config: ReportConfig;
  /** Caption per image id (file name without extension). */
  captions: Map<string, string>;
  /** Attention file of the run, absolute; null when the tool ran with --no-attention. */
  attentionPath: string | null;
}

export interface LlavaImport {
  folder: string;
  model: { id: string; sha256: string | null };
  /** True when runs.json sets `"synthetic": true` in its environment: a format sample, not a LLaVA result. */
  synthetic: boolean;
  runs: ImportedRun[];
}

/** Thrown for an import folder that does not contain a valid LLaVA tool output. */
export class LlavaImportError extends ExperimentError {
  constructor(folder: string, reason: string) {
    super(`LLaVA import "${folder}": ${reason}`);
    this.name = "LlavaImportError";
  }
}

/** Reads runs.json and every run's predictions; attention files are read on demand. */
export async function readLlavaImport(folder: string): Promise<LlavaImport> {
  const manifest = runsSchema.safeParse(await readJson(folder, "runs.json"));
  if (!manifest.success) {
    const issue = manifest.error.issues[0];
    throw new LlavaImportError(
      folder,
      `runs.json is invalid at ${issue?.path.join("/") || "(root)"}: ${issue?.message}`,
    );
  }

  const runs: ImportedRun[] = [];
  for (const run of manifest.data.runs) {
    const predictions = await readJson(folder, run.predictions);
    if (typeof predictions !== "object" || predictions === null || Array.isArray(predictions)) {
      throw new LlavaImportError(
        folder,
        `${run.predictions} must be an object {"<image id>": "caption"}`,
      );
    }
    const captions = new Map<string, string>();
    for (const [image, caption] of Object.entries(predictions)) {
      if (typeof caption !== "string") {
        throw new LlavaImportError(
          folder,
          `${run.predictions}: the caption of "${image}" must be a string`,
        );
      }
      captions.set(image, caption);
    }

    const { name, ...options } = run.config;
    runs.push({
      config: { id: run.id, label: run.id, decoding: name, options, instruction: run.instruction },
      captions,
      attentionPath: run.attention == null ? null : join(folder, run.attention),
    });
  }

  return {
    folder,
    model: { id: manifest.data.model.id, sha256: manifest.data.model.sha256 },
    synthetic: manifest.data.environment.synthetic === true,
    runs,
  };
}

/**
 * Reads a run's attention file into a map by image id, validating every document.
 * NOTE: the whole file is parsed at once. The tool dumps every image of a run, 576 values per token,
 * so the file of a run over thousands of images may not fit in memory; a streaming reader is missing.
 */
export async function readImportedAttention(
  folder: string,
  run: ImportedRun,
): Promise<Map<string, AttentionDocument>> {
  const documents = new Map<string, AttentionDocument>();
  if (run.attentionPath === null) return documents;

  const json = await readJson(folder, run.attentionPath);
  const list = Array.isArray(json) ? json : [json];
  list.forEach((item, index) => {
    const parsed = attentionDocumentSchema.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new LlavaImportError(
        folder,
        `${run.attentionPath} document ${index} is not edgecap.attention/v1 at ${issue?.path.join("/")}: ${issue?.message}`,
      );
    }
    documents.set(parsed.data.image.id, parsed.data);
  });
  return documents;
}

async function readJson(folder: string, path: string): Promise<unknown> {
  const absolute = isAbsolute(path) ? path : join(folder, path);
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LlavaImportError(
      folder,
      `cannot read ${path}: ${code === "ENOENT" ? "file not found" : String(error)}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new LlavaImportError(folder, `${path} is not valid JSON: ${(error as Error).message}`);
  }
}
