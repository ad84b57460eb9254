// The widget's DOM-free parts in Node: response parsing, token grouping, keyboard steps, the colour
// map and the multipart body that it posts.
import { describe, expect, it } from "vitest";
import { buildCaptionForm } from "../../../widget/src/api.ts";
import { COLOUR_STOPS, colourAt, mergeMaps } from "../../../widget/src/heatmap.ts";
import { parseCaptionResponse, ResponseShapeError } from "../../../widget/src/response.ts";
import { groupTokens, nextTokenIndex } from "../../../widget/src/tokens.ts";

function attentionToken(index: number, text: string, hot: number) {
  const attention = [0, 0, 0, 0];
  attention[hot] = 1;
  return { index, id: 100 + index, text, image_mass: 0.5, attention };
}

const RESPONSE = {
  model: { id: "edgecap-tiny-random", sha256: "ab" },
  image: { sha256: "cd", width: 640, height: 426 },
  captions: [
    {
      text: "a dog",
      score: -2,
      finishReason: "eos",
      tokens: [
        { id: 64, text: "a", logprob: -1 },
        { id: 3290, text: " dog", logprob: -1 },
      ],
    },
  ],
  attention: {
    schema: "edgecap.attention/v1",
    model: { id: "edgecap-tiny-random", sha256: "ab", family: "prefix-gpt2" },
    image: { id: "x", width: 640, height: 426 },
    config: {},
    grid: { rows: 2, cols: 2 },
    crop: { left: 107, top: 0, width: 426, height: 426 },
    layers: [0],
    sink_removed: false,
    hypotheses: [
      {
        rank: 0,
        caption: "a dog",
        score: -2,
        tokens: [attentionToken(0, "a", 0), attentionToken(1, " dog", 3)],
      },
    ],
  },
};

describe("parseCaptionResponse", () => {
  it("reads tokens and maps from attention", () => {
    const view = parseCaptionResponse(RESPONSE);

    expect(view.text).toBe("a dog");
    expect(view.modelId).toBe("edgecap-tiny-random");
    expect(view.tokens.map((token) => token.text)).toEqual(["a", " dog"]);
    expect(view.tokens[1]?.attention).toEqual([0, 0, 0, 1]);
    expect(view.grid).toEqual({ rows: 2, cols: 2 });
    expect(view.crop).toEqual({ left: 107, top: 0, width: 426, height: 426 });
    expect(view.imageSize).toEqual({ width: 640, height: 426 });
  });

  it("falls back to caption tokens without attention", () => {
    const view = parseCaptionResponse({ ...RESPONSE, attention: null });

    expect(view.tokens.map((token) => token.text)).toEqual(["a", " dog"]);
    expect(view.tokens[0]?.attention).toBeNull();
    expect(view.grid).toBeNull();
  });

  it("rejects a body without captions", () => {
    expect(() => parseCaptionResponse({ captions: [] })).toThrow(ResponseShapeError);
    expect(() => parseCaptionResponse("a dog")).toThrow(ResponseShapeError);
  });

  it("rejects a map of the wrong length", () => {
    const broken = structuredClone(RESPONSE);
    const token = broken.attention.hypotheses[0]?.tokens[0];
    if (token) token.attention = [1];

    expect(() => parseCaptionResponse(broken)).toThrow(/Expected 4 attention values for token 0/);
  });
});

describe("groupTokens", () => {
  it("joins empty-text tokens into the previous one", () => {
    const groups = groupTokens([
      { text: " caf", attention: [1, 0], imageMass: 0.2 },
      { text: "é", attention: [0, 1], imageMass: 0.4 },
      { text: "", attention: [1, 0], imageMass: 0.6 },
    ]);

    expect(groups.map((group) => group.text)).toEqual([" caf", "é"]);
    expect(groups[1]?.attention).toEqual([0.5, 0.5]);
    expect(groups[1]?.imageMass).toBeCloseTo(0.5);
  });

  it("keeps a leading empty token as its own group", () => {
    const groups = groupTokens([{ text: "", attention: null, imageMass: null }]);

    expect(groups).toEqual([{ text: "", attention: null, imageMass: null }]);
  });
});

describe("nextTokenIndex", () => {
  it.each([
    ["ArrowRight", 1, 2],
    ["ArrowDown", 1, 2],
    ["ArrowLeft", 1, 0],
    ["ArrowUp", 1, 0],
    ["ArrowRight", 3, 3],
    ["ArrowLeft", 0, 0],
    ["Home", 2, 0],
    ["End", 0, 3],
  ])("%s from %i moves to %i", (key, current, expected) => {
    expect(nextTokenIndex(key, current, 4)).toBe(expected);
  });

  it("ignores other keys", () => {
    expect(nextTokenIndex("Enter", 1, 4)).toBeNull();
  });
});

describe("colour map", () => {
  it("hits the first and last stops at 0 and 1", () => {
    expect(colourAt(0)).toEqual([...(COLOUR_STOPS[0] ?? [])]);
    expect(colourAt(1)).toEqual([...(COLOUR_STOPS[COLOUR_STOPS.length - 1] ?? [])]);
  });

  it("clamps values outside 0..1", () => {
    expect(colourAt(-3)).toEqual(colourAt(0));
    expect(colourAt(7)).toEqual(colourAt(1));
    expect(colourAt(Number.NaN)).toEqual(colourAt(0));
  });

  it("averages maps cell by cell", () => {
    const merged = mergeMaps([
      [0.2, 0.8],
      [0.6, 0.4],
    ]);

    expect(merged[0]).toBeCloseTo(0.4);
    expect(merged[1]).toBeCloseTo(0.6);
  });
});

describe("buildCaptionForm", () => {
  it("posts the bytes and the decoding fields", async () => {
    const image = new File([new Uint8Array([0xff, 0xd8, 0xff])], "photo.jpg", {
      type: "image/jpeg",
    });
    const form = buildCaptionForm(image, { model: "tiny-random", beams: 3, maxTokens: 12 });

    const sent = form.get("image");
    expect(sent).toBeInstanceOf(File);
    expect(new Uint8Array(await (sent as File).arrayBuffer())).toEqual(
      new Uint8Array([0xff, 0xd8, 0xff]),
    );
    expect(form.get("attention")).toBe("true");
    expect(form.get("model")).toBe("tiny-random");
    expect(form.get("num_beams")).toBe("3");
    expect(form.get("max_new_tokens")).toBe("12");
  });

  it("leaves unset options to the service", () => {
    const form = buildCaptionForm(new Blob([new Uint8Array([1])]), {
      model: null,
      beams: null,
      maxTokens: null,
    });

    expect([...form.keys()].sort()).toEqual(["attention", "image"]);
  });
});
