import { describe, expect, it } from "vitest";
import { DocumentFrequencyTable } from "../../../shared/metrics/document-frequency.ts";
import { scoreCaptions } from "../../../shared/metrics/score.ts";
import { corpusOf, type GoldenCase, loadGoldenCases } from "./golden.ts";

const golden = loadGoldenCases().find(({ file }) => file.includes("corpus_20_images_df."))
  ?.golden as GoldenCase;
const corpus = corpusOf(golden.image_ids, golden.gts, golden.res);

describe("document-frequency table", () => {
  const table = DocumentFrequencyTable.fromReferences(corpus.references, "none", "corpus_20");

  it("scores a corpus exactly as its own document frequencies do", () => {
    const own = scoreCaptions(corpus, { tokenize: false, metrics: ["cider_d"] });
    const withTable = scoreCaptions(corpus, {
      tokenize: false,
      metrics: ["cider_d"],
      documentFrequency: table,
    });
    expect(withTable.perImage).toEqual(own.perImage);
    expect(withTable.corpus.cider_d).toBe(own.corpus.cider_d);
    expect(withTable.documentFrequency).toEqual({
      source: "table",
      imageCount: 20,
      description: "corpus_20",
    });
  });

  it("survives a JSON round trip", () => {
    const json = JSON.parse(JSON.stringify(table.toJson()));
    const reloaded = DocumentFrequencyTable.fromJson(json);
    const first = scoreCaptions(corpus, { tokenize: false, documentFrequency: table });
    const second = scoreCaptions(corpus, { tokenize: false, documentFrequency: reloaded });
    expect(second.perImage).toEqual(first.perImage);
    expect(reloaded.imageCount).toBe(20);
    expect(reloaded.tokenization).toBe("none");
  });

  it("counts images, not occurrences", () => {
    const small = DocumentFrequencyTable.fromReferences(
      [["a dog a dog", "a dog"], ["a cat"], [""]],
      "none",
    );
    expect(small.imageCount).toBe(3);
    expect(small.documentFrequencyOf("a")).toBe(2);
    expect(small.documentFrequencyOf("a dog")).toBe(1);
    expect(small.documentFrequencyOf("a dog a dog")).toBe(1);
    expect(small.documentFrequencyOf("dog a")).toBe(1);
    expect(small.documentFrequencyOf("a bird")).toBe(0);
    expect(small.ngramCount).toBe(9);
  });

  it("scores a single image against the table with non-zero CIDEr-D", () => {
    const one = {
      imageIds: corpus.imageIds.slice(0, 1),
      candidates: corpus.candidates.slice(0, 1),
      references: corpus.references.slice(0, 1),
    };
    const alone = scoreCaptions(one, { tokenize: false, metrics: ["cider_d"] });
    expect(alone.corpus.cider_d).toBe(0);
    expect(alone.warnings.map((warning) => warning.code)).toContain("one_image_corpus");

    const inCorpus = scoreCaptions(corpus, { tokenize: false, metrics: ["cider_d"] });
    const againstTable = scoreCaptions(one, {
      tokenize: false,
      metrics: ["cider_d"],
      documentFrequency: table,
    });
    expect(againstTable.corpus.cider_d).toBe(inCorpus.perImage[0]?.cider_d);
    expect(againstTable.warnings).toEqual([]);
  });

  it("keeps n-grams that are Object.prototype names", () => {
    const json = DocumentFrequencyTable.fromReferences(
      [["__proto__ constructor"]],
      "none",
    ).toJson();
    const reloaded = DocumentFrequencyTable.fromJson(JSON.parse(JSON.stringify(json)));
    expect(reloaded.documentFrequencyOf("__proto__")).toBe(1);
    expect(reloaded.documentFrequencyOf("__proto__ constructor")).toBe(1);
    expect(reloaded.documentFrequencyOf("constructor")).toBe(1);
  });

  it("rejects a table built with another tokenization", () => {
    expect(() => scoreCaptions(corpus, { documentFrequency: table })).toThrow(
      /tokenization "none"/,
    );
  });

  const valid = table.toJson();
  it.each([
    ["a non-object", [], /expected a JSON object/],
    ["a wrong format", { ...valid, format: "other" }, /"format"/],
    ["a wrong version", { ...valid, version: 2 }, /"version"/],
    ["a zero image count", { ...valid, imageCount: 0 }, /"imageCount"/],
    ["an incomplete triple", { ...valid, ngrams: [-1, 0] }, /integer triples/],
    ["a repeated token", { ...valid, tokens: ["a", "a"], ngrams: [] }, /tokens\[1\]/],
    ["a count above the image count", { ...valid, ngrams: [-1, 0, 21] }, /document frequency 21/],
    ["a later prefix", { ...valid, ngrams: [1, 0, 1, -1, 0, 1] }, /n-gram 0 has prefix 1/],
    ["an unknown token", { ...valid, ngrams: [-1, valid.tokens.length, 1] }, /has token/],
    ["a repeated n-gram", { ...valid, ngrams: [-1, 0, 1, -1, 0, 1] }, /n-gram 1 repeats n-gram 0/],
    [
      "a five-gram",
      { ...valid, ngrams: [-1, 0, 1, 0, 0, 1, 1, 0, 1, 2, 0, 1, 3, 0, 1] },
      /order 5/,
    ],
  ])("rejects %s", (_, json, message) => {
    expect(() => DocumentFrequencyTable.fromJson(json)).toThrow(message);
  });
});
