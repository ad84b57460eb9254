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
    ).toJson();
    expect(small.imageCount).toBe(3);
    expect(small.documentFrequency.a).toBe(2);
    expect(small.documentFrequency["a dog"]).toBe(1);
    expect(small.documentFrequency["a dog a dog"]).toBe(1);
    expect(small.documentFrequency["dog a"]).toBe(1);
    expect(Object.keys(small.documentFrequency)).toHaveLength(9);
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
    const reloaded = DocumentFrequencyTable.fromJson(JSON.parse(JSON.stringify(json))).toJson();
    expect(Object.keys(reloaded.documentFrequency).sort()).toEqual([
      "__proto__",
      "__proto__ constructor",
      "constructor",
    ]);
  });

  it("rejects a table built with another tokenization", () => {
    expect(() => scoreCaptions(corpus, { documentFrequency: table })).toThrow(
      /tokenization "none"/,
    );
  });

  it.each([
    ["a non-object", [], /expected a JSON object/],
    ["a wrong format", { ...table.toJson(), format: "other" }, /"format"/],
    ["a wrong version", { ...table.toJson(), version: 2 }, /"version"/],
    ["a zero image count", { ...table.toJson(), imageCount: 0 }, /"imageCount"/],
    [
      "a count above the image count",
      { ...table.toJson(), documentFrequency: { a: 21 } },
      /count of "a"/,
    ],
    ["a five-gram", { ...table.toJson(), documentFrequency: { "a b c d e": 1 } }, /1 to 4 tokens/],
    ["a double space", { ...table.toJson(), documentFrequency: { "a  b": 1 } }, /single spaces/],
  ])("rejects %s", (_, json, message) => {
    expect(() => DocumentFrequencyTable.fromJson(json)).toThrow(message);
  });
});
