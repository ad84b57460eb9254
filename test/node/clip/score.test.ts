import { describe, expect, it } from "vitest";

import {
  CLIP_SCORE_PAPER_PREFIX,
  type ClipEmbedder,
  clipScore,
  cosineSimilarity,
  refClipScore,
  referenceSimilarity,
  scoreCaptions,
  scoreEmbeddings,
} from "../../../shared/clip/index.ts";
import { loadClipTokenizer } from "../../../shared/tokenizers/index.ts";
import { buildClipJson } from "../tokenizers/tokenizer-files.ts";

describe("cosineSimilarity", () => {
  it("computes hand-checked values", () => {
    // (1,2,2)·(2,1,2) = 8, both norms 3.
    expect(cosineSimilarity([1, 2, 2], [2, 1, 2])).toBeCloseTo(8 / 9, 15);
    expect(cosineSimilarity([3, 4], [3, 4])).toBeCloseTo(1, 15);
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 0], [-1, 0])).toBe(-1);
  });

  it("ignores the vector lengths", () => {
    expect(cosineSimilarity([10, 20, 20], [0.2, 0.1, 0.2])).toBeCloseTo(8 / 9, 15);
  });

  it("accumulates float32 input in float64", () => {
    // 1e8 + 1 - 1e8 in float32 steps would lose the 1; float64 keeps it.
    const a = Float32Array.of(1e4, 1, 1e4);
    const b = Float32Array.of(1e4, 1, -1e4);
    expect(cosineSimilarity(a, b)).toBeCloseTo(1 / (1e8 + 1 + 1e8), 20);
  });

  it("rejects mismatched, empty and zero vectors", () => {
    expect(() => cosineSimilarity([1, 2], [1, 2, 3])).toThrow(/same length, got 2 and 3/);
    expect(() => cosineSimilarity([], [])).toThrow(/must not be empty/);
    expect(() => cosineSimilarity([0, 0], [1, 0])).toThrow(/all zeros/);
    expect(() => cosineSimilarity([Number.NaN, 0], [1, 0])).toThrow(/finite/);
  });
});

describe("clipScore", () => {
  it("is 2.5 times the cosine", () => {
    expect(clipScore([1, 2, 2], [2, 1, 2])).toBeCloseTo(2.5 * (8 / 9), 14);
    expect(clipScore([1, 0], [1, 0])).toBe(2.5);
  });

  it("clips negative cosines to 0", () => {
    expect(clipScore([1, 0], [-1, 1])).toBe(0);
  });
});

describe("referenceSimilarity", () => {
  it("takes the best reference without the 2.5 weight", () => {
    // cos with (1,0) = 0.6, with (0,1) = 0.8.
    expect(
      referenceSimilarity(
        [3, 4],
        [
          [1, 0],
          [0, 1],
        ],
      ),
    ).toBeCloseTo(0.8, 15);
  });

  it("clips at 0 when every reference points away", () => {
    expect(
      referenceSimilarity(
        [1, 0],
        [
          [-1, 0],
          [-1, -1],
        ],
      ),
    ).toBe(0);
  });

  it("rejects an empty reference list", () => {
    expect(() => referenceSimilarity([1, 0], [])).toThrow(/at least one reference/);
  });
});

describe("refClipScore", () => {
  it("is the harmonic mean", () => {
    expect(refClipScore(0.75, 0.5)).toBeCloseTo((2 * 0.75 * 0.5) / 1.25, 15);
    expect(refClipScore(1, 1)).toBe(1);
  });

  it("is 0 when both terms are 0", () => {
    expect(refClipScore(0, 0)).toBe(0);
    expect(refClipScore(0, 0.9)).toBe(0);
  });
});

describe("scoreEmbeddings", () => {
  const images = [
    [1, 0, 0],
    [0, 1, 0],
  ];
  // Pair 0: cos = 0.6 -> CLIP-S 1.5. Pair 1: cos = -0.8 -> CLIP-S 0.
  const captions = [
    [0.6, 0.8, 0],
    [0, -0.8, 0.6],
  ];

  it("averages CLIP-S over pairs and reports the prefix", () => {
    const result = scoreEmbeddings({ images, captions, prefix: "" });
    expect(result.pairs.map((pair) => pair.clipScore)).toEqual([1.5, 0]);
    expect(result.clipScore).toBeCloseTo(0.75, 15);
    expect(result.refClipScore).toBeUndefined();
    expect(result.prefix).toBe("");
  });

  it("computes RefCLIP-S per pair", () => {
    // Pair 0 references: cos 0.8 and 0.6 -> 0.8; RefCLIP-S = 2*1.5*0.8/2.3.
    // Pair 1 references: cos 0.6 -> 0.6; CLIP-S is 0, so RefCLIP-S is 0.
    const references = [
      [
        [0, 1, 0],
        [1, 0, 0],
      ],
      [[0, 0, 1]],
    ];
    const result = scoreEmbeddings({
      images,
      captions,
      references,
      prefix: CLIP_SCORE_PAPER_PREFIX,
    });
    expect(result.pairs[0]?.refClipScore).toBeCloseTo((2 * 1.5 * 0.8) / 2.3, 14);
    expect(result.pairs[1]?.refClipScore).toBe(0);
    expect(result.refClipScore).toBeCloseTo((2 * 1.5 * 0.8) / 2.3 / 2, 14);
    expect(result.prefix).toBe("A photo depicts ");
  });

  it("rejects mismatched counts", () => {
    expect(() =>
      scoreEmbeddings({ images, captions: [captions[0] as number[]], prefix: "" }),
    ).toThrow(/2 image embeddings but 1 caption embeddings/);
    expect(() =>
      scoreEmbeddings({ images, captions, references: [[[1, 0, 0]]], prefix: "" }),
    ).toThrow(/reference lists for 1/);
    expect(() => scoreEmbeddings({ images: [], captions: [], prefix: "" })).toThrow(
      /at least one image-caption pair/,
    );
  });
});

// An embedder with fixed outputs, standing in for the ONNX CLIP model so that the pipeline's
// tokenisation, batching and regrouping can be checked by hand.
class TableEmbedder implements ClipEmbedder {
  readonly textRows: Int32Array[] = [];
  private readonly textVectors: Map<string, Float32Array>;
  private readonly imageVectors: Float32Array[];

  constructor(imageVectors: Float32Array[], textVectors: Map<string, Float32Array>) {
    this.imageVectors = imageVectors;
    this.textVectors = textVectors;
  }

  async embedImages(pixels: Float32Array, count: number): Promise<Float32Array[]> {
    expect(pixels.length).toBe(count * 3 * 224 * 224);
    return this.imageVectors.slice(0, count);
  }

  async embedTexts(ids: Int32Array, count: number): Promise<Float32Array[]> {
    expect(ids.length).toBe(count * 77);
    const vectors: Float32Array[] = [];
    for (let row = 0; row < count; row++) {
      const rowIds = ids.subarray(row * 77, (row + 1) * 77);
      this.textRows.push(rowIds);
      const vector = this.textVectors.get(Array.from(rowIds).join(","));
      if (vector === undefined) {
        throw new Error(`no vector for row ${Array.from(rowIds.subarray(0, 8))}`);
      }
      vectors.push(vector);
    }
    return vectors;
  }
}

describe("scoreCaptions", () => {
  const tokenizer = loadClipTokenizer(buildClipJson());
  const key = (text: string) => Array.from(tokenizer.encodeClip(text)).join(",");

  it("embeds prefixed captions and references", async () => {
    const embedder = new TableEmbedder(
      [Float32Array.of(1, 0)],
      new Map([
        [key("A photo depicts a cat"), Float32Array.of(0.6, 0.8)],
        [key("A photo depicts a kitten"), Float32Array.of(0.8, 0.6)],
        [key("A photo depicts a dog"), Float32Array.of(0, 1)],
      ]),
    );

    const result = await scoreCaptions(
      embedder,
      tokenizer,
      {
        pixels: new Float32Array(3 * 224 * 224),
        imageCount: 1,
        captions: ["a cat"],
        references: [["a kitten", "a dog"]],
      },
      { prefix: CLIP_SCORE_PAPER_PREFIX },
    );

    // CLIP-S = 2.5 * 0.6 = 1.5; reference term = cos((0.6,0.8),(0.8,0.6)) = 0.96.
    expect(result.clipScore).toBeCloseTo(1.5, 6);
    expect(result.refClipScore).toBeCloseTo((2 * 1.5 * 0.96) / 2.46, 6);
    expect(result.prefix).toBe("A photo depicts ");
    expect(embedder.textRows.every((row) => row[0] === 49406)).toBe(true);
  });

  it("uses no prefix by default", async () => {
    const embedder = new TableEmbedder(
      [Float32Array.of(1, 0)],
      new Map([[key("a cat"), Float32Array.of(1, 0)]]),
    );
    const result = await scoreCaptions(embedder, tokenizer, {
      pixels: new Float32Array(3 * 224 * 224),
      imageCount: 1,
      captions: ["a cat"],
    });
    expect(result.clipScore).toBeCloseTo(2.5, 6);
    expect(result.prefix).toBe("");
  });
});
