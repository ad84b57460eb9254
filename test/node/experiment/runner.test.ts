import { appendFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runExperimentCommand } from "../../../cli/commands/experiment.ts";
import {
  attentionFileSchema,
  type PredictionRow,
  predictionRowSchema,
  type Report,
  reportSchema,
  runMetadataSchema,
} from "../../../shared/report/schema.ts";
import { captureStream, cocoConfig, fakeFactories, workFolder, writeConfig } from "./doubles.ts";

const IMAGES = 7;
const CONFIGS = 4;

const dir = workFolder("runner");
const configPath = writeConfig(dir, "grid.json", cocoConfig(dir));

async function experiment(
  argv: string[],
  options: { failAfter?: number } = {},
): Promise<{ status: number; stderr: string; stdout: string }> {
  const stderr = captureStream();
  const stdout = captureStream();
  const status = await runExperimentCommand(["--config", configPath, ...argv], {
    factories: fakeFactories(options),
    stderr,
    stdout,
  });
  return { status, stderr: stderr.text(), stdout: stdout.text() };
}

function readRows(outDir: string): PredictionRow[] {
  const text = readFileSync(join(outDir, "predictions", "coco", "demo.jsonl"), "utf8");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => predictionRowSchema.parse(JSON.parse(line)));
}

/** Rows without timings, sorted by key, for comparing runs. */
function comparableRows(outDir: string): unknown[] {
  return readRows(outDir)
    .map(({ timings: _timings, ...row }) => row)
    .sort((a, b) => `${a.config}/${a.image}`.localeCompare(`${b.config}/${b.image}`));
}

/** report.json without the time it was written. */
function comparableReport(outDir: string): unknown {
  const report = reportSchema.parse(JSON.parse(readFileSync(join(outDir, "report.json"), "utf8")));
  return { ...report, experiment: { ...report.experiment, generated: "" } };
}

function listFiles(root: string, under = ""): string[] {
  const folder = join(root, under);
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(root, join(under, entry.name)) : [join(under, entry.name)],
  );
}

const cleanDir = join(dir, "clean");

beforeAll(async () => {
  const result = await experiment(["--out", cleanDir]);
  expect(result.stderr).not.toContain("edgecap experiment:");
  expect(result.status).toBe(0);
});

describe("experiment run", () => {
  it("writes one row per config and image", () => {
    const rows = readRows(cleanDir);
    expect(rows).toHaveLength(IMAGES * CONFIGS);
    expect(new Set(rows.map((row) => `${row.config}/${row.image}`)).size).toBe(IMAGES * CONFIGS);
    expect(rows.find((row) => row.config === "beam3")?.captions).toHaveLength(3);
  });

  it("validates every file it writes", () => {
    const metadata = runMetadataSchema.parse(
      JSON.parse(readFileSync(join(cleanDir, "run.json"), "utf8")),
    );
    expect(metadata.status).toBe("complete");
    expect(metadata.shard).toBeNull();
    expect(metadata.tasks).toEqual([
      expect.objectContaining({
        dataset: "coco",
        model: "demo",
        images: IMAGES,
        rows: IMAGES * CONFIGS,
      }),
    ]);

    const attentionFiles = listFiles(cleanDir, "attention");
    expect(attentionFiles).toHaveLength(2 * CONFIGS);
    for (const file of attentionFiles) {
      expect(
        attentionFileSchema.safeParse(JSON.parse(readFileSync(join(cleanDir, file), "utf8")))
          .success,
      ).toBe(true);
    }
    const withAttention = readRows(cleanDir).filter((row) => row.attention !== null);
    expect(withAttention.map((row) => row.attention).sort()).toEqual(attentionFiles.sort());

    expect(() => comparableReport(cleanDir)).not.toThrow();
  });

  it("reports headline metrics per config", () => {
    const report = comparableReport(cleanDir) as Report;
    expect(report.results.map((result) => result.config)).toEqual([
      "greedy",
      "beam3",
      "diverse4x2",
      "sampling",
    ]);
    for (const result of report.results) {
      expect(result.imageCount).toBe(IMAGES);
      expect(result.missingImages).toBe(0);
      expect(result.metrics.cider_d).toBeGreaterThanOrEqual(0);
      expect(result.metrics.bleu_4).not.toBeNull();
      expect(result.metrics.clip_score).toBeGreaterThan(0);
      expect(result.metrics.ref_clip_score).toBeGreaterThan(0);
      expect(result.metrics.length).toBeGreaterThan(3);
      expect(result.clipPrefix).toBe("");
    }
  });

  it("lists per-image rows, extremes and histogram inputs", () => {
    const report = comparableReport(cleanDir) as Report;
    expect(report.images).toHaveLength(IMAGES);
    const first = report.images[0];
    expect(first?.file).toBe("000000397133.jpg");
    expect(first?.references.length).toBeGreaterThanOrEqual(5);
    expect(first?.results.map((result) => result.config)).toEqual([
      "greedy",
      "beam3",
      "diverse4x2",
      "sampling",
    ]);
    expect(first?.results[0]?.attention).toMatch(
      /^attention\/coco\/demo\/greedy\/000000397133\.json$/,
    );
    expect(report.datasets[0]?.imageRoot).toMatch(/coco-mini\/val2017$/);

    const extremes = report.clipScoreExtremes.find((entry) => entry.config === "greedy");
    expect(extremes?.top).toHaveLength(5);
    const topScores = extremes?.top.map((pair) => pair.clipScore) ?? [];
    expect([...topScores].sort((a, b) => b - a)).toEqual(topScores);
    expect((extremes?.top[0]?.clipScore ?? 0) >= (extremes?.bottom[0]?.clipScore ?? 1)).toBe(true);

    const cider = report.histograms.find(
      (entry) => entry.config === "greedy" && entry.metric === "cider_d",
    );
    expect(cider?.values).toHaveLength(IMAGES);
    expect(report.models[0]?.variant).toEqual({ rank: 16, alpha: 32, source: "config" });
  });

  it("refuses to overwrite a run without --resume", async () => {
    const result = await experiment(["--out", cleanDir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("already contains a run");
  });
});

describe("experiment resume", () => {
  const resumedDir = join(dir, "resumed");

  it("finishes an interrupted run with no lost or duplicated rows", async () => {
    // The 11th caption fails: the 10 finished rows stay on disk, 9 in full batches and 1 flushed on the way out.
    await expect(experiment(["--out", resumedDir], { failAfter: 10 })).rejects.toThrow(
      /simulated crash/,
    );
    const partialRows = readRows(resumedDir);
    expect(partialRows).toHaveLength(10);
    const interrupted = runMetadataSchema.parse(
      JSON.parse(readFileSync(join(resumedDir, "run.json"), "utf8")),
    );
    expect(interrupted.status).toBe("failed");

    // A write cut off mid-line, as a kill during append leaves it.
    const predictions = join(resumedDir, "predictions", "coco", "demo.jsonl");
    appendFileSync(predictions, '{"config":"beam3","image":"000000011813","capt');

    const result = await experiment(["--out", resumedDir, "--resume"]);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("removed a partial last line");
    expect(readFileSync(predictions, "utf8").endsWith("\n")).toBe(true);

    const rows = readRows(resumedDir);
    expect(rows).toHaveLength(IMAGES * CONFIGS);
    expect(comparableRows(resumedDir)).toEqual(comparableRows(cleanDir));
    expect(comparableReport(resumedDir)).toEqual(comparableReport(cleanDir));

    const metadata = runMetadataSchema.parse(
      JSON.parse(readFileSync(join(resumedDir, "run.json"), "utf8")),
    );
    expect(metadata.status).toBe("complete");
    expect(
      metadata.sessions.map((session) => [
        session.resumed,
        session.rowsWritten,
        session.rowsSkipped,
      ]),
    ).toEqual([
      [false, 10, 0],
      [true, IMAGES * CONFIGS - 10, 10],
    ]);
  });

  it("rejects a resume with another config", async () => {
    const other = writeConfig(dir, "other.json", cocoConfig(dir, { batchSize: 5 }));
    const stderr = captureStream();
    const status = await runExperimentCommand(["--config", other, "--out", cleanDir, "--resume"], {
      factories: fakeFactories(),
      stderr,
    });
    expect(status).toBe(1);
    expect(stderr.text()).toContain("was written with another config");
  });
});

describe("experiment shards", () => {
  const shardedDir = join(dir, "sharded");

  it("merged shards equal an unsharded run", async () => {
    for (const shard of ["0/3", "1/3", "2/3"]) {
      const result = await experiment(["--out", shardedDir, "--shard", shard]);
      expect(result.status).toBe(0);
    }
    expect(existsSync(join(shardedDir, "report.json"))).toBe(false);
    const shardRows = [0, 1, 2].map(
      (index) => readRows(join(shardedDir, "shards", `${index}-of-3`)).length,
    );
    expect(shardRows).toEqual([3 * CONFIGS, 2 * CONFIGS, 2 * CONFIGS]);
    for (const index of [0, 1, 2]) {
      const path = join(shardedDir, "shards", `${index}-of-3`, "run.json");
      const shardRun = runMetadataSchema.parse(JSON.parse(readFileSync(path, "utf8")));
      expect(shardRun.shard).toEqual({ index, count: 3 });
      expect(shardRun.status).toBe("complete");
    }

    const merged = await experiment(["--out", shardedDir, "--merge", shardedDir]);
    expect(merged.stderr).not.toContain("edgecap experiment:");
    expect(merged.status).toBe(0);

    expect(comparableRows(shardedDir)).toEqual(comparableRows(cleanDir));
    expect(comparableReport(shardedDir)).toEqual(comparableReport(cleanDir));
    expect(listFiles(shardedDir, "attention").sort()).toEqual(
      listFiles(cleanDir, "attention").sort(),
    );

    const metadata = runMetadataSchema.parse(
      JSON.parse(readFileSync(join(shardedDir, "run.json"), "utf8")),
    );
    expect(metadata.parts?.map((part) => part.shard.index)).toEqual([0, 1, 2]);
    expect(metadata.tasks).toEqual([
      expect.objectContaining({ images: IMAGES, rows: IMAGES * CONFIGS }),
    ]);
  });

  it("merge rejects a missing shard", async () => {
    const partialDir = join(dir, "partial");
    await experiment(["--out", partialDir, "--shard", "0/2"]);
    const result = await experiment([
      "--out",
      partialDir,
      "--merge",
      join(partialDir, "shards", "0-of-2"),
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("shards 1/2 are missing");
  });

  it("rejects an invalid shard argument", async () => {
    await expect(experiment(["--shard", "3/3"])).rejects.toThrow(/--shard must be "i\/n"/);
  });
});
