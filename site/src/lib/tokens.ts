// Display of caption tokens. GPT-2 style tokens carry their leading space, and a token that only
// completes a character the previous token started has empty text (docs/attention-schema.md).

/** Visible text of a token: trimmed, with an empty token shown as a placeholder mark. */
export function tokenLabel(text: string): string {
  const trimmed = text.trim();
  if (trimmed !== "") return trimmed;
  return text === "" ? "(joined)" : "(space)";
}
