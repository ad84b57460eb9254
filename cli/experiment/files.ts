// File helpers of the experiment runner: JSON written atomically, and paths stored in the report.
import { access, mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname, relative, sep } from "node:path";
import type { z } from "zod";
import { ExperimentError } from "./errors.ts";

/**
 * Writes JSON to a temporary file, fsyncs it and renames it over `path`, so readers and resumed
 * runs see either the old file or the whole new one.
 */
export async function writeJsonAtomic(path: string, value: unknown, indent = 1): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  const handle = await open(temporary, "w");
  try {
    await handle.write(`${JSON.stringify(value, null, indent)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

/** Reads a JSON file and validates it; errors name the file and the first invalid field. */
export async function readJsonFile<T>(path: string, schema: z.ZodType<T>): Promise<T> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new ExperimentError(`cannot read ${path} as JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ExperimentError(
      `${path} is invalid at ${issue?.path.join("/") || "(root)"}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

/** `to` relative to `from`, with forward slashes on every platform, as report files store paths. */
export function posixRelative(from: string, to: string): string {
  return relative(from, to).split(sep).join("/");
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
