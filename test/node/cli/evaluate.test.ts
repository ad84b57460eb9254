import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../helpers/paths.ts";
import { expectClose, type GoldenCase, loadGoldenCases } from "../metrics/golden.ts";

const EDGECAP = join(REPO_ROOT, "cli", "edgecap.mjs");
const workDir = mkdtempSync(join(tmpdir(), "edgecap-evaluate-"));

function edgecap(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [EDGECAP, ...args], {
    encoding: "utf8",
    cwd: REPO_ROOT,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function writeJson(name: string, value: unknown): string {
  const path = join(workDir, name);
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

/** Writes a golden case as homework files: predictions by file name and COCO-layout references. */
function writeHomeworkFiles(
  golden: GoldenCase,
  useTokenized: boolean,
  prefix: string,
): [string, string] {
  const source = useTokenized && golden.ptb_tokenized !== undefined ? golden.ptb_tokenized : golden;
  const predictions = Object.fromEntries(
    golden.image_ids.map((id) => [`img${id}`, source.res[id]?.[0]]),
  );
  const references = {
    images: golden.image_ids.map((id, index) => ({ id: index + 1, file_name: `img${id}.jpg` })),
    annotations: golden.image_ids.flatMap((id, index) =>
      (source.gts[id] ?? []).map((caption) => ({ image_id: index + 1, caption })),
    ),
  };
  return [
    writeJson(`${prefix}-predictions.json`, predictions),
    writeJson(`${prefix}-references.json`, references),
  ];
}

const cases = loadGoldenCases();
const corpus20 = cases.find(({ file }) => file.includes("corpus_20_images_df_raw"))
  ?.golden as GoldenCase;
const [rawPredictions, rawReferences] = writeHomeworkFiles(corpus20, false, "raw");
const [tokenizedPredictions, tokenizedReferences] = writeHomeworkFiles(corpus20, true, "tokenized");

describe("edgecap evaluate", () => {
  it("prints golden scores as JSON from raw captions", () => {
    const result = edgecap(
      "evaluate",
      "--predictions",
      rawPredictions,
      "--references",
      rawReferences,
      "--format",
      "json",
    );
    expect(result.status, result.stderr).toBe(0);

    const output = JSON.parse(result.stdout);
    expect(output.imageCount).toBe(20);
    expect(output.predictionsFormat).toBe("homework");
    expect(output.tokenization).toBe("ptb");
    corpus20.expected.bleu.forEach((value, k) => {
      expectClose(output.scores[`bleu_${k + 1}`], value, `BLEU-${k + 1}`);
    });
    expectClose(output.scores.rouge_l, corpus20.expected.rouge_l, "ROUGE-L");
    expectClose(output.scores.cider_d, corpus20.expected.cider, "CIDEr-D");
    expect(result.stderr).toMatch(
      /^edgecap evaluate: scored 20 images \(bleu, rouge_l, cider_d\) in [\d.]+ s\n$/,
    );
  });

  it("prints a table and writes per-image CSV without tokenization", () => {
    const perImage = join(workDir, "per-image.csv");
    const result = edgecap(
      "evaluate",
      "--predictions",
      tokenizedPredictions,
      "--references",
      tokenizedReferences,
      "--no-tokenize",
      "--metrics",
      "cider_d,rouge_l",
      "--per-image",
      perImage,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`ROUGE-L   ${corpus20.expected.rouge_l.toFixed(6)}`);
    expect(result.stdout).toContain(`CIDEr-D   ${corpus20.expected.cider.toFixed(6)}`);
    expect(result.stdout).not.toContain("BLEU");
    expect(result.stdout).toContain("20 images, homework predictions, no tokenization");

    const lines = readFileSync(perImage, "utf8").trim().split("\n");
    expect(lines[0]).toBe("image,rouge_l,cider_d");
    expect(lines).toHaveLength(21);
    const [image, rouge, cider] = (lines[1] ?? "").split(",");
    const id = corpus20.image_ids[0] as string;
    expect(image).toBe(`img${id}`);
    expectClose(
      Number(rouge),
      corpus20.expected.per_image[id]?.rouge_l as number,
      "per-image ROUGE-L",
    );
    expectClose(
      Number(cider),
      corpus20.expected.per_image[id]?.cider as number,
      "per-image CIDEr-D",
    );
  });

  it("writes per-image JSON", () => {
    const perImage = join(workDir, "per-image.json");
    const result = edgecap(
      "evaluate",
      "--predictions",
      rawPredictions,
      "--references",
      rawReferences,
      "--per-image",
      perImage,
    );
    expect(result.status, result.stderr).toBe(0);
    const rows = JSON.parse(readFileSync(perImage, "utf8"));
    expect(rows).toHaveLength(20);
    expect(Object.keys(rows[0])).toEqual([
      "image",
      "bleu_1",
      "bleu_2",
      "bleu_3",
      "bleu_4",
      "rouge_l",
      "cider_d",
    ]);
  });

  it("exits 1 and lists every problem for invalid data", () => {
    const predictions = writeJson("bad-predictions.json", { img101: 5, nowhere: "x" });
    const result = edgecap("evaluate", "--predictions", predictions, "--references", rawReferences);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("edgecap evaluate: invalid input (3 problems):");
    expect(result.stderr).toContain(
      '  predictions/img101: caption of image "img101" must be a string, got number 5',
    );
    expect(result.stderr).toMatch(/predictions: 19 reference image\(s\) have no prediction/);
    expect(result.stderr).toMatch(
      /predictions: 1 prediction\(s\) name images that are not in the references: "nowhere"/,
    );
  });

  it("exits 1 for invalid JSON with its position", () => {
    const predictions = writeJson("broken.json", '{"img1": "a dog"\n"img2": "a cat"}');
    const result = edgecap("evaluate", "--predictions", predictions, "--references", rawReferences);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "predictions: invalid JSON at line 2, column 1: expected ',' or '}'",
    );
  });

  it.each([
    [["--references", "x.json"], /missing --predictions FILE/],
    [
      ["--predictions", "x.json", "--references", "y.json", "--format", "xml"],
      /--format must be "table" or "json"/,
    ],
    [
      ["--predictions", "x.json", "--references", "y.json", "--metrics", "bleu,meteor"],
      /--metrics must list some of/,
    ],
    [["--predictions", "x.json", "--references", "y.json", "--bogus"], /Unknown option '--bogus'/],
  ])("exits 2 for invalid usage %j", (args, message) => {
    const result = edgecap("evaluate", ...args);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain("Usage: edgecap evaluate");
  });

  it("exits 2 for a file that does not exist", () => {
    const missing = join(workDir, "missing.json");
    const result = edgecap("evaluate", "--predictions", missing, "--references", rawReferences);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`edgecap: cannot read --predictions "${missing}": file not found\n`);
  });

  it("exits 2 before scoring for a missing directory", () => {
    const perImage = join(workDir, "no-such-folder", "per-image.csv");
    const result = edgecap(
      "evaluate",
      "--predictions",
      rawPredictions,
      "--references",
      rawReferences,
      "--per-image",
      perImage,
    );
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `edgecap evaluate: cannot write --per-image "${perImage}": the directory "${dirname(perImage)}" does not exist. Create it or choose another path\n`,
    );
    expect(existsSync(dirname(perImage))).toBe(false);
  });

  it("exits 2 when the write fails", () => {
    const result = edgecap(
      "evaluate",
      "--predictions",
      rawPredictions,
      "--references",
      rawReferences,
      "--per-image",
      "/dev/full",
    );
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      'edgecap evaluate: cannot write --per-image "/dev/full": no space left on the device',
    );
    expect(result.stderr).not.toContain("internal error");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("prints its usage with --help", () => {
    const result = edgecap("evaluate", "--help");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("--per-image FILE");
  });
});

describe("edgecap df", () => {
  const table = join(workDir, "df.json");
  const single = writeJson("single-predictions.json", {
    [`img${corpus20.image_ids[0]}`]: corpus20.res[corpus20.image_ids[0] as string]?.[0],
  });
  const singleReferences = writeJson("single-references.json", {
    images: [{ id: 1, file_name: `img${corpus20.image_ids[0]}.jpg` }],
    annotations: (corpus20.gts[corpus20.image_ids[0] as string] ?? []).map((caption) => ({
      image_id: 1,
      caption,
    })),
  });

  it("builds a table that scores one image as the full corpus does", () => {
    const built = edgecap("df", "--references", rawReferences, "--out", table);
    expect(built.status, built.stderr).toBe(0);
    expect(built.stderr).toMatch(
      /^edgecap df: wrote .*df\.json: document frequencies of \d+ n-grams over 20 images \(PTB tokenization\)\n$/,
    );

    const alone = edgecap(
      "evaluate",
      "--predictions",
      single,
      "--references",
      singleReferences,
      "--format",
      "json",
    );
    expect(alone.status, alone.stderr).toBe(0);
    expect(JSON.parse(alone.stdout).scores.cider_d).toBe(0);
    expect(alone.stderr).toContain("warning: CIDEr-D is 0 for a one-image corpus by construction");

    const withTable = edgecap(
      "evaluate",
      "--predictions",
      single,
      "--references",
      singleReferences,
      "--df",
      table,
      "--format",
      "json",
    );
    expect(withTable.status, withTable.stderr).toBe(0);
    const output = JSON.parse(withTable.stdout);
    expect(output.documentFrequency).toEqual({
      source: "table",
      imageCount: 20,
      description: "raw-references.json",
    });
    expectClose(
      output.scores.cider_d,
      corpus20.expected.per_image[corpus20.image_ids[0] as string]?.cider as number,
      "CIDEr-D of image 1 against the table",
    );
    expect(withTable.stderr).not.toContain("warning");
  });

  it("rejects a table built with another tokenization", () => {
    const result = edgecap(
      "evaluate",
      "--predictions",
      single,
      "--references",
      singleReferences,
      "--df",
      table,
      "--no-tokenize",
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /was built with tokenization "ptb", but this run uses "none"; drop --no-tokenize/,
    );
  });

  it("exits 1 for an invalid table", () => {
    const bad = writeJson("bad-df.json", { format: "something else" });
    const result = edgecap(
      "evaluate",
      "--predictions",
      single,
      "--references",
      singleReferences,
      "--df",
      bad,
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/invalid document-frequency table: "format" is "something else"/);
  });

  it("exits 1 for invalid references", () => {
    const bad = writeJson("bad-references.json", { images: [], annotations: [] });
    const result = edgecap("df", "--references", bad, "--out", join(workDir, "unused.json"));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("references/images: is empty; there is nothing to score");
  });
});
