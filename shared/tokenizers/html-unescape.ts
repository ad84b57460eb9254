// HTML character references, decoded the way CLIP's text cleaning does: Python's html.unescape
// (3.11) and ftfy 6.3's stricter unescape_html. Named references come from the `entities`
// package's HTML5 table. Numeric references follow Python's rules, because Python drops some
// code points that the package keeps.
import { DecodingMode, decodeHTML } from "entities/decode";

// Python html.unescape's reference pattern: a number with an optional ";", or up to 32 name
// characters with an optional ";".
const PYTHON_CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

// Python html._invalid_charrefs: the C1 range maps through Windows-1252 (bytes it leaves
// undefined keep their code point), NUL becomes U+FFFD and CR stays CR.
const WINDOWS_1252_C1 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152,
  0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122,
  0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

/** Returns the Windows-1252 character of a C1 code point (U+0080 to U+009F). */
export function windows1252FromC1(codePoint: number): string {
  return String.fromCodePoint(WINDOWS_1252_C1[codePoint - 0x80] ?? codePoint);
}

// Python html._invalid_codepoints: references to these decode to nothing.
function isDroppedCodePoint(codePoint: number): boolean {
  return (
    (codePoint >= 0x1 && codePoint <= 0x8) ||
    codePoint === 0xb ||
    (codePoint >= 0xe && codePoint <= 0x1f) ||
    (codePoint >= 0x7f && codePoint <= 0x9f) ||
    (codePoint >= 0xfdd0 && codePoint <= 0xfdef) ||
    (codePoint & 0xfffe) === 0xfffe
  );
}

function decodeNumericReference(reference: string): string {
  const digits = reference.replace(/;$/, "");
  const codePoint =
    digits[1] === "x" || digits[1] === "X"
      ? Number.parseInt(digits.slice(2), 16)
      : Number.parseInt(digits.slice(1), 10);

  if (codePoint === 0) {
    return "\ufffd";
  }
  if (codePoint === 0x0d) {
    return "\r";
  }
  if (codePoint >= 0x80 && codePoint <= 0x9f) {
    return windows1252FromC1(codePoint);
  }
  if ((codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint > 0x10ffff) {
    return "\ufffd";
  }
  if (isDroppedCodePoint(codePoint)) {
    return "";
  }
  return String.fromCodePoint(codePoint);
}

/** Decodes character references like Python's html.unescape, including legacy names without ";" such as "&amp". */
export function unescapeHtml(text: string): string {
  if (!text.includes("&")) {
    return text;
  }
  return text.replace(PYTHON_CHARREF, (match: string, reference: string) => {
    if (reference.startsWith("#")) {
      return decodeNumericReference(reference);
    }
    // The package applies the HTML5 rule that Python also follows: the longest known name wins
    // and the rest of the match stays as text ("&notit;" becomes "¬it;").
    return decodeHTML(match, DecodingMode.Legacy);
  });
}

// ftfy's pattern: only references closed by ";" are decoded.
const FTFY_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;

/**
 * Decodes HTML5 references that end in ";" like ftfy.fixes.unescape_html (ftfy 6.3), plus the
 * all-caps spelling of lowercase names ("&EACUTE;" becomes "É").
 */
export function ftfyUnescapeHtml(text: string): string {
  if (!text.includes("&")) {
    return text;
  }
  return text.replace(FTFY_ENTITY, (reference: string) => {
    if (reference.startsWith("&#")) {
      // ftfy keeps the reference when html.unescape leaves its ";" behind.
      const decoded = unescapeHtml(reference);
      return decoded.includes(";") ? reference : decoded;
    }

    const decoded = decodeHTML(reference, DecodingMode.Strict);
    if (decoded !== reference) {
      return decoded;
    }

    // ftfy also maps "&NAME;" to the upper-cased character of "&name;" when "&NAME;" means
    // nothing to html.unescape.
    const lower = reference.toLowerCase();
    if (
      reference === reference.toUpperCase() &&
      lower !== reference &&
      unescapeHtml(reference) === reference
    ) {
      const lowerDecoded = decodeHTML(lower, DecodingMode.Strict);
      if (lowerDecoded !== lower) {
        return lowerDecoded.toUpperCase();
      }
    }
    return reference;
  });
}
