// The byte-to-symbol table of GPT-2's and CLIP's byte-level BPE (`bytes_to_unicode()` in
// openai/gpt-2 src/encoder.py and openai/CLIP simple_tokenizer.py). Printable bytes map to the
// character with the same code point. The other 68 bytes map to U+0100 onwards in byte order, so
// a space (0x20) becomes "Ġ" (U+0120).

function isPrintableByte(byte: number): boolean {
  return (
    (byte >= 0x21 && byte <= 0x7e) ||
    (byte >= 0xa1 && byte <= 0xac) ||
    (byte >= 0xae && byte <= 0xff)
  );
}

/** Symbol of each byte value, indexed by byte. */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const symbols: string[] = [];
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) {
    if (isPrintableByte(byte)) {
      symbols.push(String.fromCharCode(byte));
    } else {
      symbols.push(String.fromCharCode(256 + shifted));
      shifted++;
    }
  }
  return symbols;
})();

/** Byte value of each symbol of BYTE_TO_UNICODE. */
export const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(
  BYTE_TO_UNICODE.map((symbol, byte) => [symbol, byte]),
);

/** Maps a byte-level token string (such as "Ġphoto") back to its bytes, or returns null when a character is outside the table. */
export function tokenToBytes(token: string): Uint8Array | null {
  const bytes = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const byte = UNICODE_TO_BYTE.get(token[i] as string);
    if (byte === undefined) {
      return null;
    }
    bytes[i] = byte;
  }
  return bytes;
}

/** Joins byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
