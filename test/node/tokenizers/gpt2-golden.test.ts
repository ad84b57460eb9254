import { describe, expect, it } from "vitest";

import { loadTokenizer, pretokenizeGpt2 } from "../../../shared/tokenizers/index.ts";
import { buildGpt2Json, type Gpt2Case, readGolden, TOKENIZER_SOURCES } from "./tokenizer-files.ts";

const golden = readGolden<Gpt2Case>("gpt2_cases.json");
const gpt2 = loadTokenizer(buildGpt2Json());

it("has GPT-2 golden cases to check", () => {
  expect(golden.cases.length).toBeGreaterThan(50);
});

describe.each(TOKENIZER_SOURCES.map((source) => [source.name, source] as const))(
  "GPT-2 golden cases, %s",
  (_name, source) => {
    const gpt2 = loadTokenizer(source.gpt2());

    it.each(golden.cases.map((c) => [c.id, c] as const))("%s", (_id, testCase) => {
      expect(pretokenizeGpt2(testCase.text)).toEqual(testCase.pretokens);

      const ids = gpt2.encode(testCase.text);
      expect(Array.from(ids)).toEqual(testCase.ids);
      expect(Array.from(ids, (id) => gpt2.tokenString(id))).toEqual(testCase.tokens);
      expect(gpt2.decode(ids)).toBe(testCase.decoded);

      // Each token decoded alone, with U+FFFD for its partial characters.
      expect(Array.from(ids, (id) => gpt2.decode([id]))).toEqual(testCase.token_texts);
    });

    it("finds the end token id", () => {
      expect(gpt2.family).toBe("gpt2");
      expect(gpt2.specialIds.get("<|endoftext|>")).toBe(50256);
    });

    it.each(golden.decode_cases.map((c) => [JSON.stringify(c.ids), c] as const))(
      "decodes %s",
      (_ids, testCase) => {
        expect(gpt2.decode(testCase.ids)).toBe(testCase.decoded);
      },
    );
  },
);

describe("GPT-2 tokenizer", () => {
  it("encodes <|endoftext|> in text as plain text", () => {
    expect(Array.from(gpt2.encode("<|endoftext|>"))).toEqual([27, 91, 437, 1659, 5239, 91, 29]);
    expect(gpt2.specialIds.get("<|endoftext|>")).toBe(50256);
    expect(gpt2.decode([50256])).toBe("<|endoftext|>");
  });

  it("treats U+0085 and U+FEFF like Python regex", () => {
    expect(Array.from(gpt2.encode("space \u0085next"))).toEqual([13200, 220, 126, 227, 19545]);
    // U+FEFF is not whitespace to Python regex, so it joins the space as punctuation.
    expect(pretokenizeGpt2("a \ufeffb")).toEqual(["a", " \ufeff", "b"]);
  });

  it("keeps a leading byte-order mark when decoding", () => {
    const ids = gpt2.encode("\ufeffhi");
    expect(gpt2.decode(ids)).toBe("\ufeffhi");
  });

  it("rejects ids outside the vocabulary", () => {
    expect(gpt2.vocabSize).toBe(50257);
    expect(() => gpt2.decode([50257])).toThrow(
      /token id 50257 is outside the vocabulary \(0\.\.50256\)/,
    );
    expect(() => gpt2.decode([-1])).toThrow(RangeError);
    expect(() => gpt2.decode([1.5])).toThrow(RangeError);
  });
});

describe("loadTokenizer", () => {
  it("accepts tokenizer.json as text", () => {
    const tokenizer = loadTokenizer(JSON.stringify(buildGpt2Json()));
    expect(Array.from(tokenizer.encode("a cat"))).toEqual([64, 3797]);
  });

  it("rejects JSON that is not an object", () => {
    expect(() => loadTokenizer("[1, 2]")).toThrow(/must be a JSON object, got an array/);
    expect(() => loadTokenizer(42)).toThrow(/got number/);
  });

  it("rejects models other than BPE", () => {
    expect(() => loadTokenizer({ model: { type: "WordPiece", vocab: {} } })).toThrow(
      /BPE model with vocab and merges, got model type "WordPiece"/,
    );
  });

  it("rejects BPE files of another family", () => {
    const json = {
      ...(buildGpt2Json() as Record<string, unknown>),
      pre_tokenizer: { type: "Whitespace" },
    };
    expect(() => loadTokenizer(json)).toThrow(/neither GPT-2 .* nor CLIP/);
  });
});
