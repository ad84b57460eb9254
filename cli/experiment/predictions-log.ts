// Append-only JSON-lines files of prediction rows. Rows are written in batches, each batch with one
// write and an fsync, so after a crash every row that was reported written is on disk and at most
// the last line is partial. Readers ignore that partial line and resume truncates it away.

import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readFile, truncate } from "node:fs/promises";
import { dirname } from "node:path";
import { type PredictionRow, predictionRowSchema } from "../../shared/report/schema.ts";
import { ExperimentError } from "./errors.ts";

/** Returns the key of a row. A predictions file contains at most one row per (config, image). */
export function rowKey(config: string, image: string): string {
  return `${config}\u0000${image}`;
}

export interface PredictionFile {
  /** Complete rows in file order, the first of any repeated key only. */
  rows: PredictionRow[];
  /** Bytes up to and including the last newline. */
  completeBytes: number;
  /** True when text follows the last newline: a line cut off by an interrupted write. */
  partialTail: boolean;
  /** Rows dropped because an earlier row has the same key. */
  duplicates: number;
}

/** Thrown for a complete line that is not a valid row: the file is damaged, not merely cut off. */
export class PredictionFileError extends ExperimentError {
  constructor(path: string, line: number, reason: string) {
    super(
      `${path}:${line}: invalid prediction row: ${reason}; delete the file to redo its rows, or fix the line`,
    );
    this.name = "PredictionFileError";
  }
}

/** Reads a predictions file; a missing file reads as empty. */
export async function readPredictionFile(path: string): Promise<PredictionFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return { rows: [], completeBytes: 0, partialTail: false, duplicates: 0 };
    }
    throw error;
  }

  const lastNewline = bytes.lastIndexOf(0x0a);
  const completeBytes = lastNewline + 1;
  const text = new TextDecoder().decode(bytes.subarray(0, completeBytes));
  const rows: PredictionRow[] = [];
  const seen = new Set<string>();
  let duplicates = 0;

  text.split("\n").forEach((line, index) => {
    if (line === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new PredictionFileError(path, index + 1, (error as Error).message);
    }
    const parsed = predictionRowSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PredictionFileError(
        path,
        index + 1,
        `${issue?.path.join("/") ?? ""}: ${issue?.message ?? "invalid"}`,
      );
    }
    const key = rowKey(parsed.data.config, parsed.data.image);
    if (seen.has(key)) {
      duplicates++;
      return;
    }
    seen.add(key);
    rows.push(parsed.data);
  });

  return { rows, completeBytes, partialTail: completeBytes < bytes.length, duplicates };
}

/** A predictions file opened for appending, with the keys it already holds. */
export class PredictionLog {
  readonly path: string;
  readonly keys: Set<string>;
  readonly #handle: FileHandle;
  #pending: string[] = [];
  #written = 0;

  private constructor(path: string, handle: FileHandle, keys: Set<string>) {
    this.path = path;
    this.#handle = handle;
    this.keys = keys;
  }

  /**
   * Opens `path` for appending. With `resume`, reads the rows already there and first cuts off a
   * partial last line. Without it, the file must not exist yet, so no run is overwritten by accident.
   */
  static async open(
    path: string,
    resume: boolean,
  ): Promise<{ log: PredictionLog; existing: PredictionFile }> {
    await mkdir(dirname(path), { recursive: true });
    const existing = resume
      ? await readPredictionFile(path)
      : { rows: [], completeBytes: 0, partialTail: false, duplicates: 0 };
    if (existing.partialTail) await truncate(path, existing.completeBytes);

    const handle = await open(path, resume ? "a" : "wx").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") {
        throw new ExperimentError(
          `${path} already exists; pass --resume to continue that run, or choose another --out`,
        );
      }
      throw error;
    });
    const keys = new Set(existing.rows.map((row) => rowKey(row.config, row.image)));
    return { log: new PredictionLog(path, handle, keys), existing };
  }

  /** Rows written by this log and synced to disk. */
  get written(): number {
    return this.#written;
  }

  /** Queues a row; `flush` writes it. Throws for a key the file already holds. */
  append(row: PredictionRow): void {
    const key = rowKey(row.config, row.image);
    if (this.keys.has(key)) {
      throw new ExperimentError(
        `${this.path} already has a row for config "${row.config}" and image "${row.image}"`,
      );
    }
    this.keys.add(key);
    this.#pending.push(`${JSON.stringify(row)}\n`);
  }

  get pendingRows(): number {
    return this.#pending.length;
  }

  /** Writes the queued rows in one write and fsyncs the file. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const batch = this.#pending.join("");
    const rows = this.#pending.length;
    this.#pending = [];
    await this.#handle.write(batch);
    await this.#handle.sync();
    this.#written += rows;
  }

  /** Closes the file without writing queued rows: they are lost, as in a crash. */
  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/** Writes rows as a new predictions file in one go (merge output). */
export async function writePredictionFile(
  path: string,
  rows: readonly PredictionRow[],
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, "w");
  try {
    await handle.write(rows.map((row) => `${JSON.stringify(row)}\n`).join(""));
    await handle.sync();
  } finally {
    await handle.close();
  }
}
