import { describe, expect, it } from "vitest";
import {
  BLEU_STATISTICS_STRIDE,
  bleuStatisticsOf,
  scoreBleu,
} from "../../../shared/metrics/bleu.ts";
import { cookCorpus } from "../../../shared/metrics/cook.ts";
import { type ScoreReport, scoreCaptions } from "../../../shared/metrics/score.ts";
import { corpusOf, expectClose, type GoldenCase, loadGoldenCases } from "./golden.ts";

const cases = loadGoldenCases();

function expectGoldenScores(report: ScoreReport, golden: GoldenCase): void {
  const { expected } = golden;
  expected.bleu.forEach((value, k) => {
    expectClose(report.corpus.bleu?.[k], value, `corpus BLEU-${k + 1}`);
  });
  expectClose(report.corpus.rouge_l, expected.rouge_l, "corpus ROUGE-L");
  expectClose(report.corpus.cider_d, expected.cider, "corpus CIDEr-D");

  report.perImage.forEach((row) => {
    const image = expected.per_image[row.imageId];
    expect(image, `golden row for image ${row.imageId}`).toBeDefined();
    image?.bleu.forEach((value, k) => {
      expectClose(row.bleu?.[k], value, `image ${row.imageId} BLEU-${k + 1}`);
    });
    expectClose(row.rouge_l, image?.rouge_l as number, `image ${row.imageId} ROUGE-L`);
    expectClose(row.cider_d, image?.cider as number, `image ${row.imageId} CIDEr-D`);
  });
}

/** Returns what the reference scorers read: the inputs themselves, or PTB output for raw cases. */
function scoredInput(golden: GoldenCase): {
  gts: Record<string, string[]>;
  res: Record<string, string[]>;
} {
  if (golden.tokenized) return golden;
  if (golden.ptb_tokenized === undefined)
    throw new Error(`${golden.name} is raw but has no ptb_tokenized`);
  return golden.ptb_tokenized;
}

it("loads every golden case", () => {
  expect(cases.length).toBeGreaterThanOrEqual(33);
});

describe.each(cases)("golden case $file", ({ golden }) => {
  const input = scoredInput(golden);
  const corpus = corpusOf(golden.image_ids, input.gts, input.res);

  it("matches corpus and per-image scores on tokenized input", () => {
    const report = scoreCaptions(corpus, { tokenize: false });
    expect(report.imageCount).toBe(golden.diagnostics.n_images);
    expectGoldenScores(report, golden);
  });

  it("matches pooled and per-image BLEU statistics", () => {
    const bleu = scoreBleu(cookCorpus(corpus.candidates, corpus.references));
    const totals = golden.diagnostics.bleu_totals;
    expect(bleu.totals).toEqual({
      testLength: totals.testlen,
      referenceLength: totals.reflen,
      guess: totals.guess,
      correct: totals.correct,
    });
    expect(bleu.imageStatistics.length).toBe(golden.image_ids.length * BLEU_STATISTICS_STRIDE);

    golden.image_ids.forEach((id, index) => {
      const expected = golden.diagnostics.bleu_per_image?.[id];
      if (expected === undefined) return;
      expect(bleuStatisticsOf(bleu, index), `image ${id}`).toEqual({
        testLength: expected.testlen,
        referenceLength: expected.closest_reflen,
        guess: expected.guess,
        correct: expected.correct,
      });
    });
  });

  it("warns about a one-image corpus exactly when it has one image", () => {
    const report = scoreCaptions(corpus, { tokenize: false });
    const warned = report.warnings.some((warning) => warning.code === "one_image_corpus");
    expect(warned).toBe(golden.image_ids.length === 1);
  });
});

describe.each(cases.filter(({ golden }) => !golden.tokenized))(
  "raw golden case $file",
  ({ golden }) => {
    it("matches the golden values through PTB tokenization", () => {
      const report = scoreCaptions(corpusOf(golden.image_ids, golden.gts, golden.res));
      expect(report.tokenization).toBe("ptb");
      expectGoldenScores(report, golden);
    });
  },
);
