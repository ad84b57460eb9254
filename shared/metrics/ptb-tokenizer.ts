// Caption tokenization as the COCO caption evaluation (pycocoevalcap) does it, without Java: Stanford
// CoreNLP 3.4.1's PTBTokenizer run with -preserveLines -lowerCase, then every token that equals one
// of the punctuation marks below is dropped. The lexer emulation lives in ./ptb/.
//
// Known divergence: in the reference, a caption that contains a line separator (\r, \v, \f, U+2028,
// U+2029) produces an extra output line. Every later caption of that call then gets the tokens of
// the caption before it, and the last ones are lost. Here the separator acts as a space and only
// that caption is affected, as if the reference had read it on one line.

import { scanPtbTokens } from "./ptb/lexer.ts";

/** Tokens the reference wrapper removes (exact, case-sensitive whole-token matches). */
const REMOVED_TOKENS: ReadonlySet<string> = new Set([
  "''",
  "'",
  "``",
  "`",
  "-LRB-",
  "-RRB-",
  "-LCB-",
  "-RCB-",
  ".",
  "?",
  "!",
  ",",
  ":",
  "-",
  "--",
  "...",
  ";",
]);

/**
 * Tokenizes one caption line. `followedByLineFeed` is true for every caption of a reference call
 * but the last: the wrapper joins captions with "\n" and writes no final newline.
 */
function tokenizeLine(caption: string, followedByLineFeed: boolean): string {
  // The wrapper replaces "\n" inside a caption with a space before writing the file.
  const line = caption.includes("\n") ? caption.replaceAll("\n", " ") : caption;
  const tokens: string[] = [];
  scanPtbTokens(line, followedByLineFeed, tokens);

  // -lowerCase lower-cases each token, so "-LRB-" becomes "-lrb-" and survives the upper-case filter.
  let keptCount = 0;
  for (const token of tokens) {
    const lowered = token.toLowerCase();
    if (!REMOVED_TOKENS.has(lowered)) {
      tokens[keptCount++] = lowered;
    }
  }
  tokens.length = keptCount;
  return tokens.join(" ");
}

/** Tokenizes one caption as the reference pipeline does: lower-cased PTB tokens joined by single spaces, punctuation tokens dropped. */
export function ptbTokenize(caption: string): string {
  // A caption in the middle of a reference call, which is followed by "\n".
  return tokenizeLine(caption, true);
}

/**
 * Tokenizes a batch; same as mapping ptbTokenize, except where the reference batch behaves differently (document any such case).
 *
 * The one difference: the last caption of a reference call is followed by the end of the file, not
 * by "\n", and rules with trailing context then fail. A final "she'll" becomes "she ll" (the
 * apostrophe is read as an opening quote and dropped), and a final ":(" becomes "-lrb-" (":" and
 * "(" instead of a smiley). The last caption here is tokenized the same way. Pass the captions in
 * the order of one reference call (gts and res are two separate calls in pycocoevalcap).
 */
export function ptbTokenizeBatch(captions: readonly string[]): string[] {
  const lastIndex = captions.length - 1;
  return captions.map((caption, index) => tokenizeLine(caption, index !== lastIndex));
}
