import { describe, expect, it } from "vitest";

import {
  cleanClipTextStages,
  loadClipTokenizer,
  pretokenizeClip,
} from "../../../shared/tokenizers/index.ts";
import { buildClipJson, type ClipCase, readGolden, TOKENIZER_SOURCES } from "./tokenizer-files.ts";

const golden = readGolden<ClipCase>("clip_cases.json");
const clip = loadClipTokenizer(buildClipJson());

it("has CLIP golden cases to check", () => {
  expect(golden.cases.length).toBeGreaterThan(50);
});

describe.each(TOKENIZER_SOURCES.map((source) => [source.name, source] as const))(
  "CLIP golden cases, %s",
  (_name, source) => {
    const clip = loadClipTokenizer(source.clip());

    it.each(golden.cases.map((c) => [c.id, c] as const))("%s", (_id, testCase) => {
      const stages = cleanClipTextStages(testCase.text);
      expect(stages.ftfyFixed).toBe(testCase.ftfy_fixed);
      expect(stages.basicCleaned).toBe(testCase.basic_cleaned);
      expect(stages.whitespaceCleaned).toBe(testCase.whitespace_cleaned);
      expect(stages.cleaned).toBe(testCase.cleaned);
      expect(pretokenizeClip(stages.cleaned)).toEqual(testCase.pretokens);

      const ids = clip.encode(testCase.text);
      expect(Array.from(ids)).toEqual(testCase.bpe_ids);
      expect(Array.from(ids, (id) => clip.tokenString(id))).toEqual(testCase.bpe_tokens);
      expect(clip.decode(ids)).toBe(testCase.decoded);
      expect(Array.from(clip.encodeClip(testCase.text))).toEqual(testCase.tokenize_77);
    });

    it.each(golden.decode_cases.map((c) => [JSON.stringify(c.ids), c] as const))(
      "decodes %s",
      (_ids, testCase) => {
        expect(clip.decode(testCase.ids)).toBe(testCase.decoded);
        expect(testCase.ids.map((id) => clip.tokenString(id))).toEqual(testCase.tokens);
      },
    );
  },
);

describe("CLIP context row", () => {
  const truncatedCases = golden.cases.filter((c) => c.truncated);

  it("has golden cases longer than 77 tokens", () => {
    expect(truncatedCases.length).toBeGreaterThan(0);
  });

  it.each(truncatedCases.map((c) => [c.id, c] as const))(
    "truncates %s keeping the end token",
    (_id, testCase) => {
      const row = clip.encodeClip(testCase.text, { contextLength: 77, truncate: true });
      expect(row).toBeInstanceOf(Int32Array);
      expect(row.length).toBe(77);
      expect(row[0]).toBe(49406);
      expect(row[76]).toBe(49407);
      expect(Array.from(row.subarray(1, 76))).toEqual(testCase.bpe_ids.slice(0, 75));
    },
  );

  it.each(golden.cases.filter((c) => c.raises_without_truncate).map((c) => [c.id, c] as const))(
    "rejects %s without truncation",
    (_id, testCase) => {
      expect(() => clip.encodeClip(testCase.text, { truncate: false })).toThrow(
        /more than the context length 77/,
      );
    },
  );

  it("fits 75 text tokens without padding", () => {
    const row = clip.encodeClip(Array(75).fill("a").join(" "), { truncate: false });
    expect(row[76]).toBe(49407);
    expect(row.includes(0)).toBe(false);
  });

  it("pads short text with zeros", () => {
    const row = clip.encodeClip("a cat");
    expect(Array.from(row.subarray(0, 5))).toEqual([49406, 320, 2368, 49407, 0]);
    expect(row.subarray(4).every((id) => id === 0)).toBe(true);
  });

  it("honours a shorter context length", () => {
    const row = clip.encodeClip("a photo of a cat", { contextLength: 4 });
    expect(Array.from(row)).toEqual([49406, 320, 1125, 49407]);
  });

  it("rejects a context length below 2", () => {
    expect(() => clip.encodeClip("a", { contextLength: 1 })).toThrow(
      /contextLength must be an integer of at least 2/,
    );
  });

  it("recognises special tokens in any case", () => {
    expect(Array.from(clip.encode("<|ENDOFTEXT|>"))).toEqual([49407]);
    expect(Array.from(clip.encode("<|startoftext|>hello"))).toEqual([49406, 3306]);
  });
});
