// Parsing of OpenAI chat completion responses and error bodies into captions, usage and excerpts.
import { BackendResponseError, redactExcerpt } from "./errors.ts";
import type { Caption, ChatBackendKind, TokenUsage } from "./types.ts";

export interface ParsedChatCompletion {
  /** In `index` order, which vLLM's beam search makes best first. */
  captions: Caption[];
  usage: TokenUsage | null;
}

/**
 * Reads `choices[i].message.content` (trimmed) and `finish_reason`, and `usage` when present.
 * Throws BackendResponseError when the body is not a chat completion or has fewer than
 * `expectedChoices` choices, which means the server ignored `n`.
 */
export function parseChatCompletion(
  kind: ChatBackendKind,
  bodyText: string,
  expectedChoices: number,
  secrets: readonly string[],
): ParsedChatCompletion {
  const malformed = (what: string) =>
    new BackendResponseError(
      kind,
      `Backend ${kind} returned a malformed chat completion: ${what}.`,
      {
        status: 200,
        excerpt: redactExcerpt(bodyText, secrets),
      },
    );

  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch (error) {
    throw new BackendResponseError(kind, `Backend ${kind} returned a body that is not JSON.`, {
      status: 200,
      excerpt: redactExcerpt(bodyText, secrets),
      cause: error,
    });
  }
  if (!isRecord(body)) throw malformed("the body is not an object");
  if (!Array.isArray(body.choices) || body.choices.length === 0)
    throw malformed("`choices` is missing or empty");

  const indexed: { index: number; caption: Caption }[] = [];
  for (const [position, choice] of body.choices.entries()) {
    if (!isRecord(choice) || !isRecord(choice.message))
      throw malformed(`choices[${position}].message is missing`);
    const content = choice.message.content;
    if (typeof content !== "string")
      throw malformed(`choices[${position}].message.content is not a string`);
    const finishReason = choice.finish_reason;
    if (finishReason !== undefined && finishReason !== null && typeof finishReason !== "string") {
      throw malformed(`choices[${position}].finish_reason is not a string`);
    }
    const index = typeof choice.index === "number" ? choice.index : position;
    indexed.push({ index, caption: { text: content.trim(), finishReason: finishReason ?? null } });
  }
  if (indexed.length < expectedChoices) {
    throw new BackendResponseError(
      kind,
      `Backend ${kind} returned ${indexed.length} choices for n = ${expectedChoices}, so it ignored n. ` +
        "Request one caption per call or use a server that supports n.",
      { status: 200 },
    );
  }
  indexed.sort((left, right) => left.index - right.index);

  return {
    captions: indexed.map((entry) => entry.caption),
    usage: parseUsage(body.usage, malformed),
  };
}

function parseUsage(usage: unknown, malformed: (what: string) => Error): TokenUsage | null {
  if (usage === undefined || usage === null) return null;
  if (!isRecord(usage) || !isCount(usage.prompt_tokens))
    throw malformed("usage.prompt_tokens is not a count");
  // vLLM declares completion_tokens optional; a missing value is reported as 0.
  const completion = usage.completion_tokens ?? 0;
  if (!isCount(completion)) throw malformed("usage.completion_tokens is not a count");
  return { promptTokens: usage.prompt_tokens, completionTokens: completion };
}

/**
 * Extracts the message of an error body: `{"error": {"message"}}` (OpenAI, current vLLM),
 * `{"message"}` (vLLM before its error shape followed OpenAI's), `{"error": "..."}` or `{"detail"}`,
 * falling back to the raw text. The result is redacted and shortened.
 */
export function extractErrorExcerpt(bodyText: string, secrets: readonly string[]): string {
  let message: unknown = bodyText;
  try {
    const body: unknown = JSON.parse(bodyText);
    if (isRecord(body)) {
      if (isRecord(body.error) && typeof body.error.message === "string")
        message = body.error.message;
      else if (typeof body.error === "string") message = body.error;
      else if (typeof body.message === "string") message = body.message;
      else if (typeof body.detail === "string") message = body.detail;
    }
  } catch {
    // Not JSON: a proxy's HTML or plain text page is excerpted as it is.
  }
  return redactExcerpt(String(message), secrets);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
