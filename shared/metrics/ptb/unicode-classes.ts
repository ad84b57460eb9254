// Character-class bodies for the PTB lexer patterns, written as `\uXXXX` ranges so that the patterns
// run without the `u` flag. Without it a regex walks UTF-16 code units, as the JFlex scanner behind
// CoreNLP 3.4.1 does: a surrogate half is never a letter, so an emoji falls to the delete rule.

/** Formats one code unit as a regex escape that is valid inside a character class. */
function escapeUnit(code: number): string {
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

// Every BMP code unit except the surrogates, in order, so a match offset maps back to a code unit.
const SURROGATE_COUNT = 0x800;
let bmpText: string | null = null;

function codeUnitAt(offset: number): number {
  return offset < 0xd800 ? offset : offset + SURROGATE_COUNT;
}

/**
 * Lists the Basic Multilingual Plane code units that `property` matches, as a class body of ranges.
 * Surrogates (U+D800..U+DFFF) are left out because a lone half has no letter or digit category.
 */
function bmpClassBody(property: RegExp): string {
  if (bmpText === null) {
    // Built in chunks because String.fromCharCode takes its code units as call arguments.
    const chunks: string[] = [];
    const chunkSize = 4096;
    for (let offset = 0; offset < 0x10000 - SURROGATE_COUNT; offset += chunkSize) {
      const units: number[] = [];
      for (
        let unit = offset;
        unit < Math.min(offset + chunkSize, 0x10000 - SURROGATE_COUNT);
        unit++
      ) {
        units.push(codeUnitAt(unit));
      }
      chunks.push(String.fromCharCode(...units));
    }
    bmpText = chunks.join("");
  }

  const parts: string[] = [];
  for (const match of bmpText.matchAll(property)) {
    const first = codeUnitAt(match.index);
    const last = codeUnitAt(match.index + match[0].length - 1);
    parts.push(first === last ? escapeUnit(first) : `${escapeUnit(first)}-${escapeUnit(last)}`);
  }
  return parts.join("");
}

/** JFlex `[:letter:]`, i.e. Java `Character.isLetter`: the general categories Lu, Ll, Lt, Lm, Lo. */
export const LETTER_BODY = bmpClassBody(/\p{L}+/gu);

/** JFlex `[:digit:]`, i.e. Java `Character.isDigit`: the general category Nd. */
export const DIGIT_BODY = bmpClassBody(/\p{Nd}+/gu);
