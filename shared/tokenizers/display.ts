// Per-token display text that never shows a broken UTF-8 fragment.
//
// Byte-level BPE tokens may end inside a character: "日" is three bytes that GPT-2 can spread
// over two tokens. Tokens are therefore grouped until their bytes end on a character boundary.
// The group's text goes on its first token and "" on the rest, so joining the display texts
// gives the decoded caption.
import { concatBytes } from "./byte-level.ts";

const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

// Accepted range of the second byte after each lead byte (RFC 3629 table 3-7); every later
// continuation byte is 0x80..0xBF.
function secondByteRange(lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

/**
 * Returns the continuation bytes that the end of `bytes` still waits for: the number missing
 * and the accepted range of the next byte, or null when `bytes` ends on a character boundary
 * or with bytes that no continuation can repair.
 */
export function pendingContinuation(
  bytes: Uint8Array,
): { missing: number; next: [number, number] } | null {
  // A UTF-8 character is at most 4 bytes, so the unfinished one starts in the last 3.
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const start = bytes.length - back;
    const lead = bytes[start] as number;
    if (lead >= 0x80 && lead <= 0xbf) {
      continue;
    }

    const length = sequenceLength(lead);
    if (length <= back) {
      return null;
    }
    for (let i = start + 1; i < bytes.length; i++) {
      const [low, high] = i === start + 1 ? secondByteRange(lead) : [0x80, 0xbf];
      const byte = bytes[i] as number;
      if (byte < low || byte > high) {
        return null;
      }
    }
    return { missing: length - back, next: back === 1 ? secondByteRange(lead) : [0x80, 0xbf] };
  }
  return null;
}

/**
 * Builds the display text of each token from its bytes.
 *
 * A token joins the group before it only while that group waits for continuation bytes and the
 * token starts with an accepted one; otherwise the group is closed and decoded with U+FFFD for
 * invalid bytes, as TextDecoder and Python's errors="replace" do.
 */
export function displayTexts(tokenBytes: readonly Uint8Array[]): string[] {
  const texts = new Array<string>(tokenBytes.length).fill("");
  let groupStart = 0;
  let group: Uint8Array[] = [];

  const closeGroup = () => {
    if (group.length > 0) {
      texts[groupStart] = UTF8.decode(concatBytes(group));
    }
    group = [];
  };

  for (const [index, bytes] of tokenBytes.entries()) {
    const pending = group.length > 0 ? pendingContinuation(concatBytes(group)) : null;
    const first = bytes[0];
    const continues =
      pending !== null &&
      first !== undefined &&
      first >= pending.next[0] &&
      first <= pending.next[1];

    if (!continues) {
      closeGroup();
      groupStart = index;
    }
    group.push(bytes);

    if (pendingContinuation(concatBytes(group)) === null) {
      closeGroup();
    }
  }
  closeGroup();
  return texts;
}
