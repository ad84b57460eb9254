import { describe, expect, it } from "vitest";

import clipTokenizerJson from "../../models/tokenizers/clip/tokenizer.json";
import gpt2TokenizerJson from "../../models/tokenizers/gpt2/tokenizer.json";
import { loadClipTokenizer, loadTokenizer } from "../../shared/tokenizers/index.ts";

// Expected ids come from OpenAI's reference tokenizers (the golden cases of the Node tests).
describe("tokenizers inside workerd", () => {
  it("encodes a caption for CLIP", () => {
    const clip = loadClipTokenizer(clipTokenizerJson);
    const row = clip.encodeClip("A photo of a dog sitting on a red couch.");

    expect(row.length).toBe(77);
    expect(Array.from(row.subarray(0, 14))).toEqual([
      49406, 320, 1125, 539, 320, 1929, 4919, 525, 320, 736, 12724, 269, 49407, 0,
    ]);
  });

  it("cleans HTML and mojibake for CLIP", () => {
    const clip = loadClipTokenizer(clipTokenizerJson);
    expect(clip.decode(clip.encode("fish &amp; chips at the caf\u00c3\u00a9"))).toBe(
      "fish & chips at the caf\u00e9 ",
    );
  });

  it("encodes and displays a GPT-2 caption", () => {
    const gpt2 = loadTokenizer(gpt2TokenizerJson);
    const ids = gpt2.encode("a photo of a cat \u{1f355}");

    expect(Array.from(ids.subarray(0, 5))).toEqual([64, 4590, 286, 257, 3797]);
    expect(gpt2.decode(ids)).toBe("a photo of a cat \u{1f355}");
    expect(gpt2.displayTokens(ids).slice(5)).toEqual([" \u{1f355}", "", ""]);
  });
});
