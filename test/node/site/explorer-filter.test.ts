import { describe, expect, it } from "vitest";
import {
  type ExplorerFilter,
  matchesFilter,
  parseExplorerQuery,
} from "../../../site/src/lib/explorer-filter.ts";

const row = {
  text: "000000000139 A white square on a noisy background demo-lora-r8 Greedy",
  run: "coco/demo-lora-r8/greedy",
  scores: { cider_d: 0.05, clip_score: 0.4 },
};
const none: ExplorerFilter = { words: [], run: "", range: null };

describe("parseExplorerQuery", () => {
  it("reads a histogram bar's link", () => {
    expect(
      parseExplorerQuery("?run=a%2Fb%2Fc&metric=cider_d&min=0.2&max=0.4&includeMax=1"),
    ).toEqual({
      words: [],
      run: "a/b/c",
      range: { metric: "cider_d", min: 0.2, max: 0.4, includeMax: true },
    });
  });

  it("ignores a range with a non-numeric bound", () => {
    expect(parseExplorerQuery("?metric=cider_d&min=x&max=1").range).toBeNull();
  });

  it("ignores a range without a metric", () => {
    expect(parseExplorerQuery("?min=0&max=1").range).toBeNull();
  });

  it("splits the search words", () => {
    expect(parseExplorerQuery("?q=White%20%20Square").words).toEqual(["white", "square"]);
  });
});

describe("matchesFilter", () => {
  it("passes every row without a filter", () => {
    expect(matchesFilter(row, none)).toBe(true);
  });

  it("needs every search word", () => {
    expect(matchesFilter(row, { ...none, words: ["white", "square"] })).toBe(true);
    expect(matchesFilter(row, { ...none, words: ["white", "circle"] })).toBe(false);
  });

  it("filters by run", () => {
    expect(matchesFilter(row, { ...none, run: "coco/demo-lora-r8/greedy" })).toBe(true);
    expect(matchesFilter(row, { ...none, run: "coco/demo-lora-r8/beam3" })).toBe(false);
  });

  it("excludes the range's upper edge unless asked", () => {
    const range = { metric: "clip_score", min: 0.3, max: 0.4, includeMax: false };
    expect(matchesFilter(row, { ...none, range })).toBe(false);
    expect(matchesFilter(row, { ...none, range: { ...range, includeMax: true } })).toBe(true);
  });

  it("fails a row without the range's metric", () => {
    const range = { metric: "bleu_4", min: 0, max: 1, includeMax: true };
    expect(matchesFilter(row, { ...none, range })).toBe(false);
  });
});
