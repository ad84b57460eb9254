import { describe, expect, it } from "vitest";
import { scoreCaptions } from "../../../shared/metrics/score.ts";

const corpus = {
  imageIds: ["a", "b", "c"],
  candidates: ["A dog runs on the beach.", "Two cats sleeping.", "A red bus on a street"],
  references: [
    ["A dog running along the beach.", "The dog runs on sand."],
    ["Two cats are asleep on a couch.", "A pair of cats sleeping."],
    ["A red double-decker bus on the street.", "A bus driving down a city street."],
  ],
};

describe("scoreCaptions", () => {
  it("computes only the requested metrics", () => {
    const report = scoreCaptions(corpus, { metrics: ["rouge_l"] });
    expect(report.metrics).toEqual(["rouge_l"]);
    expect(Object.keys(report.corpus)).toEqual(["rouge_l"]);
    expect(Object.keys(report.perImage[0] ?? {})).toEqual(["imageId", "rouge_l"]);
    expect(report.bleuTotals).toBeUndefined();
  });

  it("puts metrics in canonical order without duplicates", () => {
    const report = scoreCaptions(corpus, { metrics: ["cider_d", "bleu", "cider_d"] });
    expect(report.metrics).toEqual(["bleu", "cider_d"]);
  });

  it("rejects an unknown metric", () => {
    // @ts-expect-error: the name is invalid on purpose.
    expect(() => scoreCaptions(corpus, { metrics: ["meteor"] })).toThrow(/unknown metric "meteor"/);
  });

  it("tokenizes with PTB by default", () => {
    const raw = scoreCaptions(corpus);
    const pretokenized = scoreCaptions(
      {
        imageIds: corpus.imageIds,
        candidates: ["a dog runs on the beach", "two cats sleeping", "a red bus on a street"],
        references: [
          ["a dog running along the beach", "the dog runs on sand"],
          ["two cats are asleep on a couch", "a pair of cats sleeping"],
          ["a red double-decker bus on the street", "a bus driving down a city street"],
        ],
      },
      { tokenize: false },
    );
    expect(raw.tokenization).toBe("ptb");
    expect(pretokenized.tokenization).toBe("none");
    expect(raw.perImage).toEqual(pretokenized.perImage);
  });

  it("reports stages in order", () => {
    const stages: string[] = [];
    scoreCaptions(corpus, { onProgress: ({ stage }) => stages.push(stage) });
    expect(stages).toEqual(["tokenize", "bleu", "rouge_l", "cider_d", "done"]);
  });

  it("rejects an image without references", () => {
    expect(() =>
      scoreCaptions({ imageIds: ["x"], candidates: ["a dog"], references: [[]] }),
    ).toThrow(/image "x" has no reference captions/);
  });

  it("rejects lists of different lengths", () => {
    expect(() =>
      scoreCaptions({ imageIds: ["x", "y"], candidates: ["a dog"], references: [["a dog"]] }),
    ).toThrow(/2 image ids, 1 candidates and 1 reference lists/);
  });
});

describe("scoreCaptions empty captions", () => {
  it("scores an empty candidate as the reference code does and warns", () => {
    const report = scoreCaptions({
      ...corpus,
      candidates: ["...", corpus.candidates[1] as string, corpus.candidates[2] as string],
    });
    const row = report.perImage[0];
    expect(row?.bleu).toEqual([0, 0, 0, 0]);
    expect(row?.rouge_l).toBe(0);
    expect(row?.cider_d).toBe(0);
    const warning = report.warnings.find((item) => item.code === "empty_candidates");
    expect(warning?.message).toMatch(/1 candidate caption\(s\).*images a\)/);
  });

  it("gives ROUGE-L 1 to an empty candidate against an empty reference", () => {
    const report = scoreCaptions(
      { imageIds: ["1", "2"], candidates: ["", "a cat"], references: [["--", "a dog"], ["a cat"]] },
      { metrics: ["rouge_l"] },
    );
    expect(report.perImage[0]?.rouge_l).toBe(1);
    expect(report.warnings.map((warning) => warning.code)).toEqual([
      "empty_candidates",
      "empty_references",
    ]);
  });

  it("returns CIDEr-D 0 with a warning when every reference is empty", () => {
    const report = scoreCaptions(
      { imageIds: ["1", "2"], candidates: ["a dog", "a cat"], references: [[""], ["   "]] },
      { tokenize: false },
    );
    expect(report.corpus.cider_d).toBe(0);
    expect(report.warnings.map((warning) => warning.code)).toContain("all_references_empty");
  });
});

describe("scoreCaptions Unicode", () => {
  it("scores any Unicode without failing", () => {
    const strings = [
      "🐶🐱 un chien près de l'eau",
      "собака бежит по пляжу",
      "一只狗在海滩上跑。",
      "\u0000\u200b\u00ad\ufeff lone \ud800 surrogate \udfff",
      "\u2028line\u2029separators\u0085\r\v\f",
      "العربية كلب",
    ];
    const report = scoreCaptions({
      imageIds: strings.map((_, i) => String(i)),
      candidates: strings,
      references: strings.map((text) => [text, strings[0] as string]),
    });
    for (const row of report.perImage) {
      for (const value of [...(row.bleu ?? []), row.rouge_l, row.cider_d]) {
        expect(Number.isFinite(value), `image ${row.imageId}`).toBe(true);
      }
    }
  });

  it("splits like Python str.split on pre-tokenized input", () => {
    // U+001F splits in Python but not in JavaScript's \s; U+FEFF is the reverse.
    const report = scoreCaptions(
      {
        imageIds: ["1", "2"],
        candidates: ["a\u001fdog", "a\ufeffcat"],
        references: [["a dog"], ["a cat"]],
      },
      { tokenize: false, metrics: ["bleu"] },
    );
    expect(report.bleuTotals?.testLength).toBe(3);
  });
});
