import { describe, expect, it } from "vitest";
import { ftfyUnescapeHtml, unescapeHtml } from "../../../shared/tokenizers/html-unescape.ts";
import { cleanClipText, fixText } from "../../../shared/tokenizers/index.ts";

// Expected values follow Python 3.11's html.unescape and ftfy 6.3.1's documented behaviour.
describe("unescapeHtml", () => {
  it.each([
    ["&amp;amp;", "&amp;"],
    ["&notit;", "\u00acit;"],
    ["&ampxyz", "&xyz"],
    ["&#38;amp;", "&amp;"],
    ["&#x263A;", "\u263a"],
    ["&#128;", "\u20ac"],
    ["&#1;", ""],
    ["&#65535;", ""],
    ["&#0;", "\ufffd"],
    ["&#xD800;", "\ufffd"],
    ["&#1114112;", "\ufffd"],
    ["&eacute", "\u00e9"],
    ["&EACUTE;", "&EACUTE;"],
    ["a &b c", "a &b c"],
  ])("decodes %s", (input, expected) => {
    expect(unescapeHtml(input)).toBe(expected);
  });
});

describe("ftfyUnescapeHtml", () => {
  it("decodes only references closed by a semicolon", () => {
    expect(ftfyUnescapeHtml("&eacute &eacute;")).toBe("&eacute \u00e9");
  });

  it("decodes all-caps names of lowercase entities", () => {
    expect(ftfyUnescapeHtml("P&EACUTE;REZ")).toBe("P\u00c9REZ");
    expect(ftfyUnescapeHtml("BUNDESSTRA&SZLIG;E")).toBe("BUNDESSTRASSE");
    expect(ftfyUnescapeHtml("&ntilde; &Ntilde; &NTILDE; &nTILDE;")).toBe(
      "\u00f1 \u00d1 \u00d1 &nTILDE;",
    );
  });
});

describe("fixText", () => {
  it("unescapes nested references until stable", () => {
    expect(fixText("&amp;amp;amp;")).toBe("&");
  });

  it("leaves references alone from the first line with <", () => {
    expect(fixText("&amp;\n<html>\n&amp;")).toBe("&\n<html>\n&amp;");
  });

  it("repairs Windows-1252 mojibake", () => {
    expect(fixText("caf\u00c3\u00a9 \u00e2\u20ac\u201d ok")).toBe("caf\u00e9 \u2014 ok");
  });

  it("maps C1 controls through Windows-1252", () => {
    expect(fixText("wait\u0085")).toBe("wait\u2026");
  });

  it("removes terminal escapes and control characters", () => {
    expect(fixText("\u001b[36;44mblue\u001b[0m\u0007")).toBe("blue");
  });
});

describe("cleanClipText", () => {
  it("unescapes three levels of references", () => {
    expect(cleanClipText("fish &amp;amp;amp; chips")).toBe("fish & chips");
  });

  it("unescapes twice when the text has a tag", () => {
    expect(cleanClipText("<b>&amp;amp;amp;</b>")).toBe("<b>&amp;</b>");
  });
});
