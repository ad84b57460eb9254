import { describe, expect, it } from "vitest";

import {
  displayTexts,
  loadClipTokenizer,
  loadTokenizer,
} from "../../../shared/tokenizers/index.ts";
import { buildClipJson, buildGpt2Json } from "./tokenizer-files.ts";

const gpt2 = loadTokenizer(buildGpt2Json());
const clip = loadClipTokenizer(buildClipJson());

describe("GPT-2 display tokens", () => {
  it("puts a split emoji on its first token", () => {
    const ids = gpt2.encode("a 🍕 pizza");
    expect(Array.from(ids)).toEqual([64, 12520, 235, 243, 14256]);
    expect(gpt2.displayTokens(ids)).toEqual(["a", " 🍕", "", "", " pizza"]);
  });

  it("puts split CJK characters on their first token", () => {
    const ids = gpt2.encode("日本語のテキスト");
    expect(gpt2.displayTokens(ids)).toEqual([
      "日",
      "",
      "本",
      "",
      "語",
      "",
      "の",
      "テ",
      "キ",
      "スト",
    ]);
  });

  it("keeps zero-width joiners of an emoji family", () => {
    const ids = gpt2.encode("family 👨\u200d👩\u200d👧");
    const texts = gpt2.displayTokens(ids);
    expect(texts).toEqual(["family", " 👨", "", "\u200d", "", "👩", "", "\u200d", "", "👧", ""]);
    expect(texts.join("")).toBe(gpt2.decode(ids));
  });

  it("joins to the decoded text for every golden-like caption", () => {
    for (const text of [
      "café naïve",
      "thumbs 👍🏽 and heart ❤️",
      "한국어 문장입니다",
      "flags 🇺🇸🇯🇵",
    ]) {
      const ids = gpt2.encode(text);
      const texts = gpt2.displayTokens(ids);
      expect(texts.join("")).toBe(text);
      expect(texts.some((piece) => piece.includes("\ufffd"))).toBe(false);
    }
  });

  it("shows U+FFFD for a character cut off at the end", () => {
    // Id 20015 is the first two bytes of a three-byte character; "a" cannot continue it.
    expect(gpt2.displayTokens([20015, 64])).toEqual(["\ufffd", "a"]);
    expect(gpt2.displayTokens([20015])).toEqual(["\ufffd"]);
  });

  it("shows the end token as its text", () => {
    expect(gpt2.displayTokens([64, 50256])).toEqual(["a", "<|endoftext|>"]);
  });
});

describe("CLIP display tokens", () => {
  it("turns the end-of-word marker into a space", () => {
    expect(clip.displayTokens(clip.encode("i love pizza 🍕"))).toEqual([
      "i ",
      "love ",
      "pizza ",
      "🍕 ",
    ]);
  });

  it("joins a Devanagari character split across tokens", () => {
    expect(clip.displayTokens([49406, 7410, 356, 49407])).toEqual([
      "<|startoftext|>",
      "१ ",
      "",
      "<|endoftext|>",
    ]);
  });
});

describe("displayTexts", () => {
  it("closes a group at an invalid continuation", () => {
    expect(
      displayTexts([Uint8Array.of(0xe4, 0xb8), Uint8Array.of(0xad), Uint8Array.of(0x61)]),
    ).toEqual(["中", "", "a"]);
    expect(displayTexts([Uint8Array.of(0xe4), Uint8Array.of(0x61)])).toEqual(["\ufffd", "a"]);
  });

  it("keeps a group open across a token that ends mid-character", () => {
    // "中文": e4 b8 ad e6 96 87, cut as [e4 b8] [ad e6] [96 87].
    const tokens = [
      Uint8Array.of(0xe4, 0xb8),
      Uint8Array.of(0xad, 0xe6),
      Uint8Array.of(0x96, 0x87),
    ];
    expect(displayTexts(tokens)).toEqual(["中文", "", ""]);
  });

  it("rejects surrogate encodings as continuations", () => {
    // ED A0 80 would encode U+D800, which UTF-8 forbids.
    expect(displayTexts([Uint8Array.of(0xed), Uint8Array.of(0xa0, 0x80)])).toEqual([
      "\ufffd",
      "\ufffd\ufffd",
    ]);
  });

  it("returns an empty list for no tokens", () => {
    expect(displayTexts([])).toEqual([]);
  });
});
