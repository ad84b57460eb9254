// A port of the parts of ftfy 6.3.1's fix_text that change caption-like text, so that CLIP's
// text cleaning (which starts with ftfy.fix_text) gives the same token ids in TypeScript.
//
// Each pass runs, in ftfy's order: HTML unescaping, mojibake repair, C1 controls, Latin
// ligatures, character width, curly quotes, line breaks, surrogates, terminal escapes, control
// characters and NFC. Passes repeat until the text stops changing, and fix_text works one line
// at a time.
import { ftfyUnescapeHtml, windows1252FromC1 } from "./html-unescape.ts";

// Latin ligatures that ftfy splits; every other ligature is kept.
const LATIN_LIGATURES =
  "\u0132\u0133\u013f\u0140\u0149\u01c4\u01c5\u01c6\u01c7\u01c8\u01c9\u01ca\u01cb\u01cc\u01f1\u01f2\u01f3\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06";
const LATIN_LIGATURE_PATTERN = new RegExp(`[${LATIN_LIGATURES}]`, "g");

// ftfy maps U+3000 and U+FF01..U+FFEF to their NFKC forms.
const WIDTH_PATTERN = /[\u3000\uff01-\uffef]/g;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the terminal escapes that ftfy removes.
const ANSI_ESCAPE = /\u001b\[((?:\d|;)*)([a-zA-Z])/g;
// ftfy's remove_control_chars set; tab, LF, FF and CR stay.
const CONTROL_CHARACTERS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
const C1_CONTROLS = /[\u0080-\u009f]/g;

// Windows-1252 characters of bytes 0x80..0x9F. "Sloppy" Windows-1252, as ftfy calls it, maps
// the five undefined bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) to the C1 code points.
const SLOPPY_1252_BYTE = new Map<string, number>();
for (let byte = 0x80; byte <= 0x9f; byte++) {
  SLOPPY_1252_BYTE.set(windows1252FromC1(byte), byte);
}

function sloppyWindows1252Byte(char: string): number | undefined {
  const code = char.codePointAt(0) as number;
  // Latin-1 covers U+0000..U+00FF, including C1 controls left by a Latin-1 decoder.
  if (code <= 0xff) {
    return code;
  }
  return SLOPPY_1252_BYTE.get(char);
}

// Character class of the Windows-1252 (and Latin-1) characters of the bytes 0x80..0xBF, which
// are UTF-8 continuation bytes.
const CONTINUATION_CLASS = (() => {
  const chars: string[] = [];
  for (let byte = 0x80; byte <= 0x9f; byte++) {
    chars.push(windows1252FromC1(byte));
  }
  return `[\\u0080-\\u009f\\u00a0-\\u00bf${chars.join("")}]`;
})();

// A UTF-8 character that was decoded byte by byte as Windows-1252: a lead byte followed by the
// number of continuation bytes it announces (for example "Ã©" for "é", "â€™" for "’").
const MOJIBAKE_SEQUENCE = new RegExp(
  `[\\u00c2-\\u00df]${CONTINUATION_CLASS}|[\\u00e0-\\u00ef]${CONTINUATION_CLASS}{2}|[\\u00f0-\\u00f4]${CONTINUATION_CLASS}{3}`,
  "g",
);

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decodeMojibake(sequence: string): string | null {
  const bytes: number[] = [];
  for (const char of sequence) {
    const byte = sloppyWindows1252Byte(char);
    if (byte === undefined) {
      return null;
    }
    bytes.push(byte);
  }
  try {
    return STRICT_UTF8.decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}

/**
 * Repairs UTF-8 text that was decoded as Windows-1252 or Latin-1 ("cafÃ©" becomes "café").
 *
 * NOTE: ftfy decides with a scored heuristic over ten single-byte encodings (badness.py). This
 * port only re-decodes sequences that form complete UTF-8 characters in sloppy Windows-1252, so
 * mojibake through MacRoman, Windows-1250/1251 or cp437, and ftfy's byte-A0 repairs, stay as they
 * are.
 */
export function fixMojibake(text: string): string {
  return text.replace(MOJIBAKE_SEQUENCE, (sequence) => decodeMojibake(sequence) ?? sequence);
}

// Lone UTF-16 surrogates become U+FFFD, as ftfy's fix_surrogates does; pairs are already one
// character in a JavaScript string.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function fixSurrogates(text: string): string {
  return text.replace(LONE_SURROGATE, "\ufffd");
}

function fixLineBreaks(text: string): string {
  return text.replace(/\r\n|[\r\u2028\u2029\u0085]/g, "\n");
}

function uncurlQuotes(text: string): string {
  return text.replace(/[\u201c-\u201f]/g, '"').replace(/[\u02bc\u2018-\u201b]/g, "'");
}

function fixSegmentOnce(text: string, unescapeEntities: boolean): string {
  let fixed = unescapeEntities ? ftfyUnescapeHtml(text) : text;
  fixed = fixMojibake(fixed);
  fixed = fixed.replace(C1_CONTROLS, (char) => windows1252FromC1(char.codePointAt(0) as number));
  fixed = fixed.replace(LATIN_LIGATURE_PATTERN, (char) => char.normalize("NFKC"));
  fixed = fixed.replace(WIDTH_PATTERN, (char) =>
    char === "\u3000" ? " " : char.normalize("NFKC"),
  );
  fixed = uncurlQuotes(fixed);
  fixed = fixLineBreaks(fixed);
  fixed = fixSurrogates(fixed);
  fixed = fixed.replace(ANSI_ESCAPE, "");
  fixed = fixed.replace(CONTROL_CHARACTERS, "");
  return fixed.normalize("NFC");
}

function fixSegment(text: string, unescapeEntities: boolean): string {
  let current = text;
  for (;;) {
    const fixed = fixSegmentOnce(current, unescapeEntities);
    if (fixed === current) {
      return fixed;
    }
    current = fixed;
  }
}

/**
 * Cleans text like ftfy.fix_text with its default options (ftfy 6.3.1), within the limits noted
 * at fixMojibake.
 *
 * HTML references are decoded only until the first line that contains "<", because such text
 * is probably HTML whose references must stay as written.
 */
export function fixText(text: string): string {
  const segments: string[] = [];
  let unescapeEntities = true;
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf("\n", start);
    const end = newline === -1 ? text.length : newline + 1;
    const segment = text.slice(start, end);

    if (segment.includes("<")) {
      unescapeEntities = false;
    }
    segments.push(fixSegment(segment, unescapeEntities));
    start = end;
  }
  return segments.join("");
}
