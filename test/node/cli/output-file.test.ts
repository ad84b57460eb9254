import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkOutputPath, OutputFileError, writeOutputFile } from "../../../cli/output-file.ts";

function freshFolder(): string {
  return mkdtempSync(join(tmpdir(), "edgecap-output-file-"));
}

describe("writeOutputFile", () => {
  it("replaces a file and leaves no temporary file", async () => {
    const folder = freshFolder();
    const path = join(folder, "scores.json");
    writeFileSync(path, "old");

    await writeOutputFile(path, "new\n", "--per-image");

    expect(readFileSync(path, "utf8")).toBe("new\n");
    expect(readdirSync(folder)).toEqual(["scores.json"]);
  });

  it("writes through a symbolic link", async () => {
    const folder = freshFolder();
    const target = join(folder, "target.csv");
    const link = join(folder, "link.csv");
    writeFileSync(target, "old");
    symlinkSync(target, link);

    await writeOutputFile(link, "new", "--per-image");

    expect(readFileSync(target, "utf8")).toBe("new");
    expect(readdirSync(folder).sort()).toEqual(["link.csv", "target.csv"]);
  });

  it("rejects a directory, writes nothing", async () => {
    const folder = freshFolder();
    mkdirSync(join(folder, "out"));

    const write = writeOutputFile(join(folder, "out"), "x", "--out");

    await expect(write).rejects.toThrow(OutputFileError);
    await expect(write).rejects.toThrow(
      `cannot write --out "${join(folder, "out")}": is a directory`,
    );
    expect(readdirSync(folder)).toEqual(["out"]);
    expect(readdirSync(join(folder, "out"))).toEqual([]);
  });

  it("names the cause of a failed write", async () => {
    const path = join(freshFolder(), "missing", "scores.csv");

    await expect(writeOutputFile(path, "x", "--per-image")).rejects.toThrow(
      `cannot write --per-image "${path}": its directory does not exist`,
    );
    await expect(writeOutputFile("/dev/full", "x", "--per-image")).rejects.toThrow(
      'cannot write --per-image "/dev/full": no space left on the device',
    );
  });
});

describe("checkOutputPath", () => {
  it("accepts a new file", async () => {
    const folder = freshFolder();
    await expect(checkOutputPath(join(folder, "new.json"), "--out")).resolves.toBeUndefined();
    expect(readdirSync(folder)).toEqual([]);
  });

  it("rejects unusable paths", async () => {
    const folder = freshFolder();
    const file = join(folder, "file.txt");
    writeFileSync(file, "x");

    await expect(checkOutputPath(folder, "--out")).rejects.toThrow("is a directory");
    await expect(checkOutputPath(join(folder, "a", "b.json"), "--out")).rejects.toThrow(
      `the directory "${join(folder, "a")}" does not exist. Create it or choose another path`,
    );
    await expect(checkOutputPath(join(file, "b.json"), "--out")).rejects.toThrow(
      `cannot write --out "${join(file, "b.json")}": a part of the path is not a directory`,
    );
  });
});
