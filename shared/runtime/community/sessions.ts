// ONNX sessions of community-layout packages: creation, checks of the input and output names the
// runtime feeds and reads, and the package's identity (id and content hash).
import { sha256Hex } from "../../image/hash.ts";
import { ModelPackageError } from "../errors.ts";
import type { InferenceSession, OrtApi } from "../ort.ts";
import type { PackageSource } from "../package-source.ts";
import { type PastNaming, pastNames } from "./cross-decoder-step.ts";
import type { PackageFile } from "./layout.ts";

/** Creates a session; a graph ONNX Runtime rejects is a ModelPackageError naming the file. */
export async function createSession(
  ort: OrtApi,
  file: PackageFile,
  options: InferenceSession.SessionOptions | undefined,
): Promise<InferenceSession> {
  try {
    return await ort.InferenceSession.create(file.bytes, options);
  } catch (error) {
    throw new ModelPackageError(
      file.path,
      null,
      `ONNX Runtime could not load the graph: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export function requireInput(session: InferenceSession, file: string, name: string): void {
  if (!session.inputNames.includes(name)) {
    throw new ModelPackageError(
      file,
      name,
      `the graph has no input ${name} (inputs: ${session.inputNames.join(", ")})`,
    );
  }
}

export function requireOutput(session: InferenceSession, file: string, name: string): void {
  if (!session.outputNames.includes(name)) {
    throw new ModelPackageError(
      file,
      name,
      `the graph has no output ${name} (outputs: ${session.outputNames.join(", ")})`,
    );
  }
}

export function validateEncoder(session: InferenceSession, file: string): void {
  requireInput(session, file, "pixel_values");
  requireOutput(session, file, "last_hidden_state");
}

/**
 * Checks a decoder graph against config.json's layer count and finds how it names its past.
 * `past: false` is optimum's decoder_model.onnx, which takes no past but returns presents.
 */
export function validateDecoder(
  session: InferenceSession,
  file: string,
  numLayers: number,
  kind: { past: boolean; merged?: boolean },
): { pastNaming: PastNaming; hasCrossAttentions: boolean } {
  requireInput(session, file, "input_ids");
  requireInput(session, file, "encoder_hidden_states");
  requireOutput(session, file, "logits");
  if (kind.merged === true) requireInput(session, file, "use_cache_branch");

  const names = kind.past ? session.inputNames : session.outputNames;
  const prefix = kind.past ? "past_key_values" : "present";
  const pastNaming: PastNaming = names.includes(`${prefix}.0.decoder.key`)
    ? "self-and-cross"
    : "self";
  if (
    names.includes(`${prefix}.${numLayers}.key`) ||
    names.includes(`${prefix}.${numLayers}.decoder.key`)
  ) {
    throw new ModelPackageError(
      file,
      `${prefix}.${numLayers}`,
      `the graph has more layers than config.json's ${numLayers}; the config belongs to another export`,
    );
  }
  // optimum's separate with-past graph of a seq2seq decoder returns no cross-attention presents,
  // because they cannot change after the first step. The merged graph returns placeholders.
  const crossPresents = !kind.past || kind.merged === true;
  for (let layer = 0; layer < numLayers; layer++) {
    const { past, present } = pastNames(layer, pastNaming);
    for (const name of [past.key, past.value, past.crossKey, past.crossValue]) {
      if (name !== undefined && kind.past) requireInput(session, file, name);
    }
    for (const name of [present.key, present.value]) requireOutput(session, file, name);
    for (const name of [present.crossKey, present.crossValue]) {
      if (name !== undefined && crossPresents) requireOutput(session, file, name);
    }
  }

  const hasCrossAttentions = Array.from(
    { length: numLayers },
    (_, i) => `cross_attentions.${i}`,
  ).every((name) => session.outputNames.includes(name));
  return { pastNaming, hasCrossAttentions };
}

/** Returns the id a caller gave, else config.json's _name_or_path, else the location's last segment. */
export function packageId(
  explicit: string | undefined,
  config: unknown,
  source: PackageSource,
): string {
  if (explicit !== undefined && explicit.length > 0) return explicit;
  const named = (config as { _name_or_path?: unknown })._name_or_path;
  if (typeof named === "string" && named.length > 0) return named;
  const segments = source.location.split(/[\\/]/).filter((segment) => segment.length > 0);
  return segments.at(-1) ?? "community-model";
}

/** sha256 over "path sha256" lines of the files read, in load order. */
export async function packageSha256(files: readonly PackageFile[]): Promise<string> {
  const lines: string[] = [];
  for (const file of files) lines.push(`${file.path} ${await sha256Hex(file.bytes)}`);
  return sha256Hex(new TextEncoder().encode(`${lines.join("\n")}\n`));
}
