// A scanner that emulates the JFlex-generated PTBLexer of CoreNLP 3.4.1. At each position every rule
// is tried and the longest match wins, counting trailing context, with ties going to the earlier
// rule. Plain ASCII words and lone end punctuation skip the rule table because no rule can match
// them differently. Captions are mostly made of those, so the fast paths carry most of the work.

import { ABBREVIATION_WORDS } from "./patterns.ts";
import { LEXER_RULES } from "./rules.ts";

const SPACE = 0x20;
const TAB = 0x09;
const LINE_FEED = 0x0a;
const PERIOD = 0x2e;
const COMMA = 0x2c;
const END = -1;

/** Words that the assimilation rules split (gonna -> gon na); they must take the rule table. */
const ASSIMILATED_WORDS: ReadonlySet<string> = new Set([
  "cannot",
  "gonna",
  "gotta",
  "lemme",
  "gimme",
  "wanna",
]);

function isAsciiLetter(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
}

/** Checks for a code that can end a word token: a space, a tab, a line feed or the end of the input. */
function isBoundary(code: number): boolean {
  return code === SPACE || code === LINE_FEED || code === TAB || code === END;
}

function isClosingPunctuation(code: number): boolean {
  // . , ; : ! ?
  return (
    code === PERIOD ||
    code === COMMA ||
    code === 0x3b ||
    code === 0x3a ||
    code === 0x21 ||
    code === 0x3f
  );
}

/**
 * Returns the end of a plain ASCII word starting at `start` when the rule table would emit exactly
 * that word, or -1 when the rule table must decide. A word followed by a boundary is always a
 * WORD token. A word followed by one closing punctuation mark and a boundary is too, unless the mark
 * is a period and the word is a single letter or a listed abbreviation (those keep the period).
 */
function plainWordEnd(text: string, start: number): number {
  const length = text.length;
  let end = start + 1;
  while (end < length && isAsciiLetter(text.charCodeAt(end))) {
    end++;
  }
  const next = end < length ? text.charCodeAt(end) : END;
  if (!isBoundary(next)) {
    if (!isClosingPunctuation(next)) {
      return -1;
    }
    const afterNext = end + 1 < length ? text.charCodeAt(end + 1) : END;
    if (!isBoundary(afterNext)) {
      return -1;
    }
  }

  const wordLength = end - start;
  if (wordLength >= 5 && wordLength <= 6) {
    if (ASSIMILATED_WORDS.has(text.slice(start, end).toLowerCase())) {
      return -1;
    }
  }
  if (next === PERIOD) {
    if (wordLength < 2 || ABBREVIATION_WORDS.has(text.slice(start, end).toLowerCase())) {
      return -1;
    }
  }
  return end;
}

/**
 * Checks that the "." or "," at `position` is a token by itself. It is not when more periods follow
 * (an ellipsis such as ". . .") or a digit does (a number such as ".5" or ",000").
 */
function isLonePunctuation(text: string, position: number): boolean {
  const next = position + 1 < text.length ? text.charCodeAt(position + 1) : END;
  if (next === END || next === LINE_FEED) {
    return true;
  }
  if (next !== SPACE) {
    return false;
  }
  const afterSpace = position + 2 < text.length ? text.charCodeAt(position + 2) : END;
  return afterSpace !== PERIOD;
}

/**
 * Appends the PTB tokens of `caption` to `tokens`, before lower-casing and filtering. Line breaks
 * emit nothing. The reference pipeline scans each caption followed by "\n", except the last caption
 * of a call, which is followed by the end of the input. `followedByLineFeed` selects which, because
 * rules with trailing context see that character.
 */
export function scanPtbTokens(
  caption: string,
  followedByLineFeed: boolean,
  tokens: string[],
): void {
  const length = caption.length;
  // The rule table needs the real following character; the fast paths treat "\n" and the end alike.
  let ruleText: string | null = null;
  let position = 0;

  while (position < length) {
    const code = caption.charCodeAt(position);

    if (code === SPACE || code === LINE_FEED || code === TAB) {
      position++;
      continue;
    }

    if (isAsciiLetter(code)) {
      const end = plainWordEnd(caption, position);
      if (end >= 0) {
        tokens.push(caption.slice(position, end));
        position = end;
        continue;
      }
    } else if ((code === PERIOD || code === COMMA) && isLonePunctuation(caption, position)) {
      tokens.push(code === PERIOD ? "." : ",");
      position++;
      continue;
    }

    if (ruleText === null) {
      ruleText = followedByLineFeed ? `${caption}\n` : caption;
    }
    position = applyLongestRule(ruleText, position, tokens);
  }
}

/** Runs the rule table at `position`, emits the winning rule's token, and returns the next position. */
function applyLongestRule(text: string, position: number, tokens: string[]): number {
  let bestLength = 0;
  let bestToken = "";
  let bestRuleIndex = -1;

  for (let index = 0; index < LEXER_RULES.length; index++) {
    const regex = LEXER_RULES[index]?.regex;
    if (regex === undefined) {
      continue;
    }
    regex.lastIndex = position;
    const match = regex.exec(text);
    if (match !== null && match[0].length > bestLength) {
      bestLength = match[0].length;
      bestToken = match[1] ?? "";
      bestRuleIndex = index;
    }
  }

  const rule = LEXER_RULES[bestRuleIndex];
  if (rule === undefined || bestToken.length === 0) {
    // Unreachable: the last rule matches any character but "\n", which the newline rule takes.
    throw new Error(
      `PTB lexer failed: no rule matches U+${text.charCodeAt(position).toString(16)} at position ${position}`,
    );
  }

  const consumed = rule.keep === undefined ? bestToken.length : rule.keep(bestToken);
  const emitted = rule.emit(bestToken.slice(0, consumed));
  if (emitted !== null) {
    tokens.push(emitted);
  }
  return position + consumed;
}
