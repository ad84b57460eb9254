// Banned next tokens for no_repeat_ngram_size, found with a rolling integer hash over the token
// history instead of string keys per n-gram.

const HASH_BASE = 0x01000193; // FNV-1a 32-bit prime, used here as a polynomial base modulo 2^32.

function powerModulo32(base: number, exponent: number): number {
  let result = 1;
  for (let i = 0; i < exponent; i++) result = Math.imul(result, base);
  return result;
}

/**
 * Returns the tokens that would complete an n-gram already present in `history`: every token that
 * followed an earlier occurrence of the last n - 1 tokens. Same rule as transformers'
 * NoRepeatNGramLogitsProcessor. With n = 1 every token seen so far is banned.
 */
export function findBannedNgramTokens(history: Int32Array, n: number): number[] {
  const length = history.length;
  const prefixLength = n - 1;
  if (n < 1 || length < prefixLength) return [];

  const banned: number[] = [];
  const windowCount = length - prefixLength; // windows that have a following token
  if (prefixLength === 0) {
    for (let i = 0; i < length; i++) banned.push(history[i] as number);
    return banned;
  }

  // Hash of the window [start, start + prefixLength) is sum(token * base^(prefixLength - 1 - j)) mod 2^32.
  let suffixHash = 0;
  for (let i = length - prefixLength; i < length; i++) {
    suffixHash = (Math.imul(suffixHash, HASH_BASE) + (history[i] as number)) | 0;
  }
  const leadingPower = powerModulo32(HASH_BASE, prefixLength - 1);

  let windowHash = 0;
  for (let i = 0; i < prefixLength; i++) {
    windowHash = (Math.imul(windowHash, HASH_BASE) + (history[i] as number)) | 0;
  }

  for (let start = 0; start < windowCount; start++) {
    // A hash match is verified token by token, so a collision cannot ban a wrong token.
    if (windowHash === suffixHash && windowMatchesSuffix(history, start, prefixLength)) {
      banned.push(history[start + prefixLength] as number);
    }

    const outgoing = Math.imul(history[start] as number, leadingPower);
    const incoming = history[start + prefixLength] as number;
    windowHash = (Math.imul((windowHash - outgoing) | 0, HASH_BASE) + incoming) | 0;
  }
  return banned;
}

function windowMatchesSuffix(history: Int32Array, start: number, prefixLength: number): boolean {
  const suffixStart = history.length - prefixLength;
  for (let j = 0; j < prefixLength; j++) {
    if (history[start + j] !== history[suffixStart + j]) return false;
  }
  return true;
}
