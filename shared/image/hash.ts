/** Returns the SHA-256 of the bytes as 64 lowercase hex digits, via Web Crypto (workerd, Node, browsers). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // Web Crypto rejects views on a SharedArrayBuffer, so those are copied first.
  const input =
    bytes.buffer instanceof ArrayBuffer
      ? (bytes as Uint8Array<ArrayBuffer>)
      : new Uint8Array(bytes);
  const digest = await crypto.subtle.digest("SHA-256", input);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
