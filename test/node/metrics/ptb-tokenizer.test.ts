import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ptbTokenize, ptbTokenizeBatch } from "../../../shared/metrics/ptb-tokenizer.ts";
import { OWNER_DATA_DIR } from "../../helpers/paths.ts";

const METRICS_DIR = join(OWNER_DATA_DIR, "golden", "metrics");

interface TokenizerCase {
  raw: string;
  java_output_lines: string[];
  tokenized: string;
  extra_lines: boolean;
  tokenized_when_last_in_file?: string;
}

interface TokenizerGolden {
  punctuations_removed: string[];
  cases: TokenizerCase[];
  batch_misalignment_demo: {
    input: Record<string, string[]>;
    output: Record<string, string[]>;
  };
}

interface MetricsCase {
  name: string;
  tokenized: boolean;
  image_ids: string[];
  gts: Record<string, string[]>;
  res: Record<string, string[]>;
  ptb_tokenized?: { gts: Record<string, string[]>; res: Record<string, string[]> };
  ptb_stable?: boolean;
}

const golden = JSON.parse(
  readFileSync(join(METRICS_DIR, "ptb_tokenizer.json"), "utf8"),
) as TokenizerGolden;

const metricsCases = readdirSync(join(METRICS_DIR, "cases"))
  .filter((file) => file.endsWith(".json"))
  .sort()
  .map((file) => JSON.parse(readFileSync(join(METRICS_DIR, "cases", file), "utf8")) as MetricsCase);

/** Captions of one side in the order the reference wrapper writes them: by image id, then by list. */
function captionsInCallOrder(
  byImage: Record<string, string[]>,
  imageIds: readonly string[],
): string[] {
  return imageIds.flatMap((id) => byImage[id] ?? []);
}

const singleLineCases = golden.cases.filter((testCase) => !testCase.extra_lines);
const lineSeparatorCases = golden.cases.filter((testCase) => testCase.extra_lines);
const rawMetricsCases = metricsCases.filter((testCase) => !testCase.tokenized);
const tokenizedMetricsCases = metricsCases.filter((testCase) => testCase.tokenized);

describe("ptbTokenize", () => {
  it("matches every single-line golden string", () => {
    expect(singleLineCases.length).toBeGreaterThan(70);
    for (const testCase of singleLineCases) {
      expect
        .soft(ptbTokenize(testCase.raw), `ptbTokenize(${JSON.stringify(testCase.raw)})`)
        .toBe(testCase.tokenized);
    }
  });

  it("keeps lower-cased brackets and drops filtered marks", () => {
    expect(ptbTokenize("A cat (black) [x] {y}!")).toBe(
      "a cat -lrb- black -rrb- -lsb- x -rsb- -lcb- y -rcb-",
    );
    expect(ptbTokenize("Wow!! ... -- ; :")).toBe("wow !!");
  });

  it("replaces newlines with spaces", () => {
    expect(ptbTokenize("a dog\non a sofa")).toBe("a dog on a sofa");
  });

  it("leaves PTB-stable inputs unchanged", () => {
    expect(tokenizedMetricsCases.length).toBeGreaterThan(0);
    for (const testCase of tokenizedMetricsCases) {
      const captions = [
        ...captionsInCallOrder(testCase.gts, testCase.image_ids),
        ...captionsInCallOrder(testCase.res, testCase.image_ids),
      ];
      const changed = captions.filter((caption) => ptbTokenize(caption) !== caption);
      expect
        .soft(
          changed.length === 0,
          `${testCase.name}: ptb_stable=${testCase.ptb_stable}, changed ${JSON.stringify(changed)}`,
        )
        .toBe(testCase.ptb_stable);
    }
  });
});

describe("ptbTokenizeBatch", () => {
  it("matches golden strings when last", () => {
    for (const testCase of singleLineCases) {
      const expected = testCase.tokenized_when_last_in_file ?? testCase.tokenized;
      const [middle, last] = ptbTokenizeBatch([testCase.raw, testCase.raw]);
      expect
        .soft(middle, `middle of batch: ${JSON.stringify(testCase.raw)}`)
        .toBe(testCase.tokenized);
      expect.soft(last, `last of batch: ${JSON.stringify(testCase.raw)}`).toBe(expected);
    }
  });

  it("reproduces the end-of-input quirks", () => {
    expect(ptbTokenizeBatch(["she'll", "she'll"])).toEqual(["she 'll", "she ll"]);
    expect(ptbTokenizeBatch([":(", ":("])).toEqual([":-lrb-", "-lrb-"]);
  });

  it("returns an empty array for no captions", () => {
    expect(ptbTokenizeBatch([])).toEqual([]);
  });

  for (const testCase of rawMetricsCases) {
    it(`matches raw case ${testCase.name}`, () => {
      const expected = testCase.ptb_tokenized;
      expect(expected, `${testCase.name} has no ptb_tokenized`).toBeDefined();
      if (expected === undefined) {
        return;
      }

      // pycocoevalcap tokenizes gts and res in two separate calls.
      for (const side of ["gts", "res"] as const) {
        const raw = captionsInCallOrder(testCase[side], testCase.image_ids);
        const tokenized = captionsInCallOrder(expected[side], testCase.image_ids);
        const actual = ptbTokenizeBatch(raw);
        expect(actual.length).toBe(raw.length);
        for (let index = 0; index < raw.length; index++) {
          expect
            .soft(actual[index], `${side} ${JSON.stringify(raw[index])}`)
            .toBe(tokenized[index]);
        }
      }
    });
  }
});

describe("line separator divergence", () => {
  it("treats separators as spaces", () => {
    expect(lineSeparatorCases.length).toBeGreaterThanOrEqual(4);
    for (const testCase of lineSeparatorCases) {
      // The reference splits the caption over several output lines; here the lines are joined.
      const joined = testCase.java_output_lines.filter((line) => line.length > 0).join(" ");
      expect
        .soft(ptbTokenize(testCase.raw), `ptbTokenize(${JSON.stringify(testCase.raw)})`)
        .toBe(joined);
      expect
        .soft(
          ptbTokenize(testCase.raw),
          `reference keeps only the first line of ${JSON.stringify(testCase.raw)}`,
        )
        .not.toBe(testCase.tokenized);
    }
  });

  it("keeps later captions aligned", () => {
    const demo = golden.batch_misalignment_demo;
    const imageIds = Object.keys(demo.input);
    const captions = captionsInCallOrder(demo.input, imageIds);
    const actual = ptbTokenizeBatch(captions);

    expect(actual).toEqual(["a dog on a sofa", "a cat on a bed", "a bird"]);
    // The reference shifts captions 2 and 3 by one line and loses "a bird".
    expect(captionsInCallOrder(demo.output, imageIds)).toEqual([
      "a dog",
      "on a sofa",
      "a cat on a bed",
    ]);
  });

  it("turns U+0085 into a removed ellipsis", () => {
    expect(ptbTokenize("next\u0085line")).toBe("next line");
  });

  for (const separator of ["\r", "\u000B", "\u000C", "\u2028", "\u2029", "\r\n"]) {
    it(`splits words at U+${separator.charCodeAt(0).toString(16).padStart(4, "0")}`, () => {
      expect(ptbTokenize(`A dog${separator}on a sofa.`)).toBe("a dog on a sofa");
    });
  }
});

describe("punctuation filter", () => {
  it("matches the golden removal list", () => {
    for (const mark of golden.punctuations_removed) {
      // Upper-case marks (-LRB- ...) never appear after -lowerCase, so only the others are testable.
      if (mark === mark.toLowerCase()) {
        expect
          .soft(ptbTokenize(`x ${mark} y`), `filter of ${JSON.stringify(mark)}`)
          .not.toContain(` ${mark} `);
      }
    }
  });
});
