// Turns each model of the config into a caption source: the configs it runs and a function that
// captions one image under one config. ONNX packages and LLaVA backends run the model; LLaVA
// imports look the caption up in the tool's output.
import type { AttentionDocument } from "../../shared/attention/schema.ts";
import type { ReportConfig, RunModel } from "../../shared/report/schema.ts";
import {
  type ExperimentConfig,
  type LoadedConfig,
  type ModelConfig,
  resolveConfigPath,
} from "./config.ts";
import type { DatasetImage } from "./dataset.ts";
import { ExperimentError } from "./errors.ts";
import { type ImportedRun, readImportedAttention, readLlavaImport } from "./llava-import.ts";
import {
  backendCaptionModel,
  type CaptionModel,
  type CaptionOutput,
  type ModelFactories,
} from "./models.ts";

export interface CaptionSource {
  model: RunModel;
  config: ModelConfig;
  /** The configs this model runs, in grid order. */
  configs: ReportConfig[];
  /**
   * Captions one image under one config. Returns null when the source has no caption for the
   * image (an import that did not cover it). `readImage` reads the file on first use only.
   */
  caption(
    configId: string,
    image: DatasetImage,
    readImage: () => Promise<Uint8Array>,
    attention: boolean,
  ): Promise<CaptionOutput | null>;
}

/** Builds the caption source of every model in the config, loading the models. */
export async function openSources(
  loaded: LoadedConfig,
  factories: ModelFactories,
): Promise<CaptionSource[]> {
  const sources: CaptionSource[] = [];
  for (const model of loaded.config.models) {
    if (model.kind === "llava-import") {
      sources.push(await openImportSource(loaded, model));
    } else if (model.kind === "onnx") {
      const captioner = await factories.captioner(resolveConfigPath(loaded, model.package));
      sources.push(
        modelSource(model, captioner, model.package, decodingConfigs(loaded.config, model)),
      );
    } else {
      const backend = await factories.llavaBackend(model.backend);
      const captioner = backendCaptionModel(model.id, backend);
      sources.push(
        modelSource(
          model,
          captioner,
          `llava-backend:${model.backend.kind}`,
          instructionConfigs(loaded.config, model),
        ),
      );
    }
  }
  checkConfigIds(sources);
  return sources;
}

/** Lists the decoding configs a model runs, without instructions (prefix-gpt2 captioners). */
function decodingConfigs(config: ExperimentConfig, model: ModelConfig): ReportConfig[] {
  return selectedDecoding(config, model).map((decoding) => ({
    id: decoding.id,
    label: decoding.label ?? decoding.id,
    decoding: decoding.id,
    options: decoding.options,
    instruction: null,
  }));
}

/**
 * Pairs every decoding config with every instruction, named `<decoding>-i<k>` as
 * models/llava/caption_attention.py names its runs, so imports and backend runs line up.
 */
function instructionConfigs(config: ExperimentConfig, model: ModelConfig): ReportConfig[] {
  return selectedDecoding(config, model).flatMap((decoding) =>
    config.instructions.map((instruction, k) => ({
      id: `${decoding.id}-i${k}`,
      label: `${decoding.label ?? decoding.id}, instruction ${k + 1}`,
      decoding: decoding.id,
      options: decoding.options,
      instruction,
    })),
  );
}

function selectedDecoding(
  config: ExperimentConfig,
  model: ModelConfig,
): ExperimentConfig["decoding"] {
  const wanted = model.decoding;
  return wanted === undefined
    ? config.decoding
    : config.decoding.filter((decoding) => wanted.includes(decoding.id));
}

function modelSource(
  model: ModelConfig,
  captioner: CaptionModel,
  source: string,
  configs: ReportConfig[],
): CaptionSource {
  const byId = new Map(configs.map((config) => [config.id, config]));
  return {
    model: {
      id: model.id,
      label: model.label ?? model.id,
      kind: model.kind,
      family: captioner.family,
      sha256: captioner.sha256,
      synthetic: model.synthetic,
      source,
      configs: configs.map((config) => config.id),
    },
    config: model,
    configs,
    async caption(configId, image, readImage, attention) {
      const config = byId.get(configId);
      if (config === undefined)
        throw new ExperimentError(`model "${model.id}" has no config "${configId}"`);
      return captioner.caption(await readImage(), {
        decoding: config.options,
        ...(config.instruction === null ? {} : { instruction: config.instruction }),
        attention,
        imageId: image.id,
      });
    },
  };
}

async function openImportSource(
  loaded: LoadedConfig,
  model: Extract<ModelConfig, { kind: "llava-import" }>,
): Promise<CaptionSource> {
  const folder = resolveConfigPath(loaded, model.folder);
  const imported = await readLlavaImport(folder);
  const runs = new Map(imported.runs.map((run) => [run.config.id, run]));
  // Attention files can be large, so each is read once, the first time an image needs it.
  const attention = new Map<string, Promise<Map<string, AttentionDocument>>>();
  const attentionOf = (run: ImportedRun): Promise<Map<string, AttentionDocument>> => {
    let documents = attention.get(run.config.id);
    if (documents === undefined) {
      documents = readImportedAttention(folder, run);
      attention.set(run.config.id, documents);
    }
    return documents;
  };

  return {
    model: {
      id: model.id,
      label: model.label ?? imported.model.id,
      kind: "llava-import",
      family: "llava",
      sha256: imported.model.sha256,
      synthetic: model.synthetic || imported.synthetic,
      source: model.folder,
      configs: imported.runs.map((run) => run.config.id),
    },
    config: model,
    configs: imported.runs.map((run) => run.config),
    async caption(configId, image, _readImage, wantAttention) {
      const run = runs.get(configId);
      if (run === undefined)
        throw new ExperimentError(`import "${model.id}" has no run "${configId}"`);
      const caption = run.captions.get(image.id);
      if (caption === undefined) return null;
      const document = wantAttention ? ((await attentionOf(run)).get(image.id) ?? null) : null;
      return { captions: [caption], attention: document, timings: {} };
    },
  };
}

/** Rejects two models that use one config id for different settings, since the report keys columns by id. */
function checkConfigIds(sources: readonly CaptionSource[]): void {
  const seen = new Map<string, { model: string; json: string }>();
  for (const source of sources) {
    for (const config of source.configs) {
      const json = JSON.stringify([config.decoding, config.options, config.instruction]);
      const earlier = seen.get(config.id);
      if (earlier === undefined) seen.set(config.id, { model: source.model.id, json });
      else if (earlier.json !== json) {
        throw new ExperimentError(
          `config id "${config.id}" of model "${source.model.id}" has other settings than the one of model "${earlier.model}"; rename one of them`,
        );
      }
    }
  }
}

/** Selects the models that caption a dataset. */
export function sourcesFor(datasetId: string, sources: readonly CaptionSource[]): CaptionSource[] {
  return sources.filter(
    (source) => source.config.datasets === undefined || source.config.datasets.includes(datasetId),
  );
}
