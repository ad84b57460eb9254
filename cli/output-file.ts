// Output files of the commands (--per-image, --out, --attention). A regular file is written to a
// temporary file in the same directory and renamed over the target, so a failed write (no space, no
// permission) leaves the old file or no file, never a partial one.
import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { open, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** An output file cannot be written. main prints the message and exits with the usage status. */
export class OutputFileError extends Error {}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

function describeFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "its directory does not exist";
  if (code === "ENOTDIR") return "a part of the path is not a directory";
  if (code === "EISDIR") return "is a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOSPC") return "no space left on the device";
  if (code === "EROFS") return "the file system is read-only";
  return error instanceof Error ? error.message : String(error);
}

function outputError(option: string, path: string, reason: string): OutputFileError {
  return new OutputFileError(`cannot write ${option} "${path}": ${reason}`);
}

/**
 * Checks that `path` can name an output file: it is not a directory, and its directory exists.
 * Commands call it before their work, so a typo in the path fails at once. The write itself
 * checks permissions.
 */
export async function checkOutputPath(path: string, option: string): Promise<void> {
  let target: Stats | null;
  let directory: Stats | null;
  try {
    target = await statOrNull(path);
    directory = target === null ? await statOrNull(dirname(path)) : null;
  } catch (error) {
    throw outputError(option, path, describeFailure(error));
  }
  if (target?.isDirectory()) throw outputError(option, path, "is a directory");
  if (target !== null) return;

  if (directory === null) {
    throw outputError(
      option,
      path,
      `the directory "${dirname(path)}" does not exist. Create it or choose another path`,
    );
  }
  if (!directory.isDirectory()) {
    throw outputError(option, path, `"${dirname(path)}" is not a directory`);
  }
}

/**
 * Writes `text` to `path` whole or not at all. A device or a pipe (/dev/stdout, a FIFO) cannot be
 * replaced by a rename, so it is written directly. Throws OutputFileError naming `option`.
 */
export async function writeOutputFile(path: string, text: string, option: string): Promise<void> {
  let target: Stats | null;
  try {
    target = await statOrNull(path);
  } catch (error) {
    throw outputError(option, path, describeFailure(error));
  }
  if (target?.isDirectory()) throw outputError(option, path, "is a directory");

  if (target !== null && !target.isFile()) {
    try {
      await writeFile(path, text);
    } catch (error) {
      throw outputError(option, path, describeFailure(error));
    }
    return;
  }

  // Through a symbolic link, the file it points to is replaced, not the link.
  const finalPath = target === null ? path : await realpath(path);
  const temporary = join(
    dirname(finalPath),
    `.${basename(finalPath)}.${randomBytes(6).toString("hex")}.tmp`,
  );
  try {
    const handle = await open(temporary, "wx");
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
    await rename(temporary, finalPath);
  } catch (error) {
    await rm(temporary, { force: true });
    throw outputError(option, path, describeFailure(error));
  }
}
