// File lookup for community-layout packages. ONNX graphs sit under onnx/ (the Hugging Face Hub
// layout transformers.js reads) or in the package root (optimum's export folder), and the JSON
// files sit in the root.
import { ModelPackageError } from "../errors.ts";
import type { PackageSource } from "../package-source.ts";

export type PackageLayout = "edgecap" | "community";

/** A file read from the package, with the path it was found at. */
export interface PackageFile {
  path: string;
  bytes: Uint8Array;
}

/** The captioner decoder: optimum's merged graph, or the pair without and with past. */
export type DecoderFiles =
  | { kind: "merged"; merged: PackageFile }
  | { kind: "split"; withoutPast: PackageFile; withPast: PackageFile };

const ONNX_FOLDERS = ["onnx/", ""] as const;

/** The detected layout, with the file that decided it and a source that serves that file from memory. */
export interface DetectedLayout {
  layout: PackageLayout;
  source: PackageSource;
}

/**
 * Detects the layout from the files present: manifest.json is an edgecap package, config.json a
 * community one. Throws a ModelPackageError when neither exists.
 */
export async function detectPackageLayout(source: PackageSource): Promise<DetectedLayout> {
  for (const [name, layout] of [
    ["manifest.json", "edgecap"],
    ["config.json", "community"],
  ] as const) {
    const bytes = await source.readBytes(name);
    if (bytes === null) continue;
    // The loader reads the file again; serving it from memory saves a second fetch.
    const remembered: PackageSource = {
      location: source.location,
      readBytes: (file) => (file === name ? Promise.resolve(bytes) : source.readBytes(file)),
    };
    return { layout, source: remembered };
  }
  throw new ModelPackageError(
    "manifest.json",
    null,
    `neither manifest.json (edgecap package) nor config.json (community layout) was found at ${source.location}`,
  );
}

/** Reads `onnx/<name>` or, failing that, `<name>`; null when neither exists. */
export async function readOnnxFile(
  source: PackageSource,
  name: string,
): Promise<PackageFile | null> {
  for (const folder of ONNX_FOLDERS) {
    const path = folder + name;
    const bytes = await source.readBytes(path);
    if (bytes !== null) return { path, bytes };
  }
  return null;
}

/** Reads an ONNX graph that the package must contain. */
export async function requireOnnxFile(
  source: PackageSource,
  name: string,
  role: string,
): Promise<PackageFile> {
  const file = await readOnnxFile(source, name);
  if (file === null) {
    throw new ModelPackageError(
      `onnx/${name}`,
      null,
      `${role} not found at ${source.location} (looked for onnx/${name} and ${name})`,
    );
  }
  return file;
}

/** Reads decoder_model_merged.onnx, else decoder_model.onnx with decoder_with_past_model.onnx. */
export async function readDecoderFiles(source: PackageSource): Promise<DecoderFiles> {
  const merged = await readOnnxFile(source, "decoder_model_merged.onnx");
  if (merged !== null) return { kind: "merged", merged };

  const withoutPast = await readOnnxFile(source, "decoder_model.onnx");
  const withPast = await readOnnxFile(source, "decoder_with_past_model.onnx");
  if (withoutPast !== null && withPast !== null) return { kind: "split", withoutPast, withPast };
  if (withoutPast !== null) {
    throw new ModelPackageError(
      "onnx/decoder_with_past_model.onnx",
      null,
      `decoder_model.onnx has no decoder_with_past_model.onnx beside it at ${source.location}; export with past (optimum --task image-to-text-with-past) or ship decoder_model_merged.onnx`,
    );
  }
  throw new ModelPackageError(
    "onnx/decoder_model_merged.onnx",
    null,
    `decoder not found at ${source.location}: expected onnx/decoder_model_merged.onnx, or onnx/decoder_model.onnx with onnx/decoder_with_past_model.onnx`,
  );
}
