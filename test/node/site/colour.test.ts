import { interpolateViridis } from "d3-scale-chromatic";
import { describe, expect, it } from "vitest";
import {
  attentionColour,
  colourPixels,
  colourStops,
  colourTable,
  parseHexColour,
} from "../../../site/src/lib/colour.ts";

describe("attentionColour", () => {
  it("follows viridis", () => {
    expect(attentionColour(0)).toBe(interpolateViridis(0));
    expect(attentionColour(1)).toBe(interpolateViridis(1));
  });

  it("clamps out-of-range values", () => {
    expect(attentionColour(-1)).toBe(attentionColour(0));
    expect(attentionColour(2)).toBe(attentionColour(1));
    expect(attentionColour(Number.NaN)).toBe(attentionColour(0));
  });
});

describe("colourStops", () => {
  it("spans 0 to 1", () => {
    const stops = colourStops(3);
    expect(stops.map((stop) => stop.offset)).toEqual([0, 0.5, 1]);
    expect(stops[2]?.colour).toBe(attentionColour(1));
  });

  it("rejects fewer than two stops", () => {
    expect(() => colourStops(1)).toThrow(/at least 2 stops/);
  });
});

describe("colourPixels", () => {
  const table = colourTable();

  it("matches the legend colours at both ends", () => {
    const pixels = colourPixels([0, 1], table, 200, 100);
    expect(Array.from(pixels.slice(0, 3))).toEqual(parseHexColour(attentionColour(0)));
    expect(Array.from(pixels.slice(4, 7))).toEqual(parseHexColour(attentionColour(1)));
  });

  it("raises opacity with the value", () => {
    const pixels = colourPixels([0, 0.5, 1], table, 200, 100);
    expect([pixels[3], pixels[7], pixels[11]]).toEqual([100, 150, 200]);
  });
});

describe("parseHexColour", () => {
  it("reads #rrggbb", () => {
    expect(parseHexColour("#fde725")).toEqual([253, 231, 37]);
  });

  it("rejects other forms", () => {
    expect(() => parseHexColour("rgb(1, 2, 3)")).toThrow(/expected a #rrggbb colour/);
  });
});
