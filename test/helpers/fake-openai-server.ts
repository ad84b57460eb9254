// A fake OpenAI-compatible chat completions server that replaces the GPU server (vLLM serving
// LLaVA-1.5) in tests: node:http on 127.0.0.1 with an ephemeral port, no model and no network.
//
// It checks requests the way vLLM does and returns errors in vLLM's JSON shape: 401 without the
// API key, 400 for a missing or mistyped field, an invalid data URL or too many images, 404 for
// an unknown model, 400 for sampling parameters that vLLM's SamplingParams rejects (n > 1 with
// greedy sampling, top_p outside (0, 1], ...). The error shape is current vLLM's
// {"error": {"message", "type", "param", "code"}}, or with `errorShape: "legacy"` the flat
// {"object": "error", "message", "type", "param", "code"} of vLLM releases before it followed OpenAI.
// NOTE: messages of vLLM's pydantic validation and image loading errors are approximations; the
// status codes, types and the vLLM-defined messages quoted below match vLLM's source.
//
// A success returns a caption derived from the SHA-256 of the image bytes, with usage counted as
// LLaVA-1.5 does: prompt tokens = template and text tokens + 576 image tokens. Text tokens are
// approximated as one per word or punctuation mark. Tests script failures (429 with Retry-After,
// 500, 503, slow responses, dropped connections, malformed bodies) and a text-only mode in which the
// image is ignored, as by a server without the vision processor.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const FAKE_IMAGE_TOKENS = 576;

/** Tokens of LLaVA-1.5's template around the instruction: `<s>USER: <image>\n` and ` ASSISTANT:`. */
const TEMPLATE_TOKENS = 7;

/** One scripted response, consumed by the next request. */
export type FakeStep =
  | { kind: "status"; status: number; message?: string; retryAfter?: string }
  | { kind: "delay"; delayMs: number }
  | { kind: "drop" }
  | { kind: "raw"; status: number; body: string; contentType?: string };

export interface FakeServerOptions {
  /** Served model name; requests for another one get vLLM's 404. */
  model?: string;
  /** When set, requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  errorShape?: "openai" | "legacy";
  /** `text-only` ignores the image: no image tokens, and a caption that does not depend on it. */
  imageMode?: "vision" | "text-only";
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  bodyText: string;
}

export interface FakeOpenAIServer {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Appends scripted responses. Requests beyond the script are served normally. */
  enqueue(...steps: FakeStep[]): void;
  setImageMode(mode: "vision" | "text-only"): void;
  close(): Promise<void>;
}

class VllmHttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;

  constructor(status: number, type: string, message: string, param: string | null = null) {
    super(message);
    this.status = status;
    this.type = type;
    this.param = param;
  }
}

const badRequest = (message: string, param: string | null = null) =>
  new VllmHttpError(400, "BadRequestError", message, param);

/** Starts the fake server; close it in afterEach or afterAll. */
export async function startFakeOpenAIServer(
  options: FakeServerOptions = {},
): Promise<FakeOpenAIServer> {
  const model = options.model ?? "llava-hf/llava-1.5-7b-hf";
  const errorShape = options.errorShape ?? "openai";
  let imageMode = options.imageMode ?? "vision";
  const script: FakeStep[] = [];
  const requests: RecordedRequest[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let completionCount = 0;

  const sendError = (
    response: ServerResponse,
    error: VllmHttpError,
    headers: Record<string, string> = {},
  ) => {
    const info = {
      message: error.message,
      type: error.type,
      param: error.param,
      code: error.status,
    };
    const body = errorShape === "openai" ? { error: info } : { object: "error", ...info };
    sendJson(response, error.status, body, headers);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const bodyText = await readBody(request);
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    requests.push({
      method: request.method ?? "",
      path,
      headers: { ...request.headers },
      bodyText,
    });

    // vLLM's API key middleware responds before routing, with a body of its own shape.
    if (
      options.apiKey !== undefined &&
      request.headers.authorization !== `Bearer ${options.apiKey}`
    ) {
      sendJson(response, 401, { error: "Unauthorized" });
      return;
    }
    if (request.method !== "POST" || path !== "/v1/chat/completions") {
      sendJson(response, 404, { detail: "Not Found" });
      return;
    }

    const step = script.shift();
    if (step !== undefined) {
      if (step.kind === "drop") {
        request.socket.destroy();
        return;
      }
      if (step.kind === "raw") {
        response.writeHead(step.status, { "content-type": step.contentType ?? "application/json" });
        response.end(step.body);
        return;
      }
      if (step.kind === "status") {
        const headers: Record<string, string> =
          step.retryAfter === undefined ? {} : { "retry-after": step.retryAfter };
        const type =
          step.status === 429
            ? "TooManyRequestsError"
            : step.status === 503
              ? "ServiceUnavailableError"
              : "InternalServerError";
        sendError(
          response,
          new VllmHttpError(step.status, type, step.message ?? defaultStatusMessage(step.status)),
          headers,
        );
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, step.delayMs);
        timers.add(timer);
      });
      if (response.destroyed || request.socket.destroyed) return;
    }

    try {
      completionCount += 1;
      const completion = completeChat(bodyText, model, imageMode, completionCount);
      sendJson(response, 200, completion);
    } catch (error) {
      if (error instanceof VllmHttpError) sendError(response, error);
      else sendError(response, new VllmHttpError(500, "InternalServerError", String(error)));
    }
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: String(error) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...steps) => {
      script.push(...steps);
    },
    setImageMode: (mode) => {
      imageMode = mode;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

function defaultStatusMessage(status: number): string {
  if (status === 429) return "Too many requests: the scheduler's waiting queue is full.";
  if (status === 503) return "The engine is not ready to accept requests.";
  return "EngineCore encountered an issue. See stack trace (above) for the root cause.";
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

interface ParsedMessages {
  text: string;
  images: Uint8Array[];
}

/** Validates the request like vLLM (field types, model, images, sampling parameters) and builds the completion. */
function completeChat(
  bodyText: string,
  servedModel: string,
  imageMode: "vision" | "text-only",
  sequence: number,
) {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    throw badRequest(
      "1 validation error:\n  {'type': 'json_invalid', 'loc': ('body', 0), 'msg': 'JSON decode error'}",
    );
  }
  if (!isRecord(body))
    throw badRequest(
      "1 validation error:\n  {'type': 'model_attributes_type', 'loc': ('body',), 'msg': 'Input should be a valid dictionary or object'}",
    );
  if (body.messages === undefined) {
    throw badRequest(
      "1 validation error:\n  {'type': 'missing', 'loc': ('body', 'messages'), 'msg': 'Field required'}",
    );
  }
  if (!Array.isArray(body.messages)) {
    throw badRequest(
      "1 validation error:\n  {'type': 'list_type', 'loc': ('body', 'messages'), 'msg': 'Input should be a valid list'}",
    );
  }
  const sampling = readSamplingFields(body);

  // vLLM checks the model before it renders the messages.
  if (body.model !== undefined && body.model !== servedModel) {
    throw new VllmHttpError(
      404,
      "NotFoundError",
      `The model \`${String(body.model)}\` does not exist.`,
      "model",
    );
  }

  const messages = parseMessages(body.messages);
  if (messages.images.length > 1) {
    throw badRequest(
      `At most 1 image(s) may be provided in one prompt, got ${messages.images.length}.`,
    );
  }
  validateSampling(sampling);

  const image = imageMode === "vision" ? messages.images[0] : undefined;
  const promptTokens =
    TEMPLATE_TOKENS + countTextTokens(messages.text) + (image ? FAKE_IMAGE_TOKENS : 0);
  const seedText = image
    ? createHash("sha256").update(image).digest("hex")
    : `text:${messages.text}`;

  const choices = [];
  let completionTokens = 0;
  for (let index = 0; index < sampling.n; index += 1) {
    // Greedy and beam search are deterministic; sampling varies with the seed and the choice index.
    const variant =
      sampling.useBeamSearch || sampling.temperature === 0
        ? `beam:${index}`
        : `sample:${sampling.seed ?? "none"}:${index}`;
    const words = captionWords(`${seedText}|${variant}`, image !== undefined);
    const truncated = words.length > sampling.maxTokens;
    const kept = truncated ? words.slice(0, sampling.maxTokens) : words;
    completionTokens += kept.length;
    choices.push({
      index,
      message: {
        role: "assistant",
        content: ` ${kept.join(" ").replace(/ ([.,])/g, "$1")}`,
        refusal: null,
        tool_calls: [],
        reasoning_content: null,
      },
      logprobs: null,
      finish_reason: truncated ? "length" : "stop",
      stop_reason: null,
    });
  }

  return {
    id: `chatcmpl-fake${sequence.toString(16).padStart(8, "0")}`,
    object: "chat.completion",
    created: 1_700_000_000 + sequence,
    model: servedModel,
    choices,
    usage: {
      prompt_tokens: promptTokens,
      total_tokens: promptTokens + completionTokens,
      completion_tokens: completionTokens,
      prompt_tokens_details: null,
    },
    prompt_logprobs: null,
  };
}

interface SamplingFields {
  maxTokens: number;
  n: number;
  temperature: number;
  topP: number;
  topK: number;
  minTokens: number;
  repetitionPenalty: number;
  seed: number | null;
  useBeamSearch: boolean;
}

function readSamplingFields(body: Record<string, unknown>): SamplingFields {
  const number = (name: string, fallback: number, integer: boolean): number => {
    const value = body[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "number" || (integer && !Number.isInteger(value))) {
      const type = integer ? "int_parsing" : "float_parsing";
      const expected = integer ? "a valid integer" : "a valid number";
      throw badRequest(
        `1 validation error:\n  {'type': '${type}', 'loc': ('body', '${name}'), 'msg': 'Input should be ${expected}'}`,
      );
    }
    return value;
  };
  const useBeamSearch = body.use_beam_search ?? false;
  if (typeof useBeamSearch !== "boolean") {
    throw badRequest(
      "1 validation error:\n  {'type': 'bool_parsing', 'loc': ('body', 'use_beam_search'), 'msg': 'Input should be a valid boolean'}",
    );
  }
  const seed = body.seed === undefined || body.seed === null ? null : number("seed", 0, true);
  return {
    // vLLM's default is the rest of the context; 16 keeps the fake captions short.
    maxTokens: number("max_tokens", 16, true),
    n: number("n", 1, true),
    temperature: number("temperature", 1, false),
    topP: number("top_p", 1, false),
    topK: number("top_k", 0, true),
    minTokens: number("min_tokens", 0, true),
    repetitionPenalty: number("repetition_penalty", 1, false),
    seed,
    useBeamSearch,
  };
}

/** Applies the checks of vLLM's SamplingParams._verify_args and _verify_greedy_sampling, with their messages. */
function validateSampling(sampling: SamplingFields): void {
  if (sampling.n < 1) throw badRequest(`n must be at least 1, got ${sampling.n}.`);
  if (sampling.repetitionPenalty <= 0) {
    throw badRequest(
      `repetition_penalty must be greater than zero, got ${sampling.repetitionPenalty}.`,
    );
  }
  if (sampling.temperature < 0) {
    throw badRequest(
      `temperature must be non-negative, got ${sampling.temperature}. (parameter=temperature, value=${sampling.temperature})`,
      "temperature",
    );
  }
  if (sampling.temperature > 2) {
    throw badRequest(
      `temperature must be in [0, 2], got ${sampling.temperature}. (parameter=temperature, value=${sampling.temperature})`,
      "temperature",
    );
  }
  if (!(sampling.topP > 0 && sampling.topP <= 1)) {
    throw badRequest(
      `top_p must be in (0, 1], got ${sampling.topP}. (parameter=top_p, value=${sampling.topP})`,
      "top_p",
    );
  }
  if (sampling.topK < -1)
    throw badRequest(`top_k must be 0 (disable), or at least 1, got ${sampling.topK}.`);
  if (sampling.maxTokens < 1) {
    throw badRequest(
      `max_tokens must be at least 1, got ${sampling.maxTokens}. (parameter=max_tokens, value=${sampling.maxTokens})`,
      "max_tokens",
    );
  }
  if (sampling.minTokens < 0)
    throw badRequest(`min_tokens must be greater than or equal to 0, got ${sampling.minTokens}.`);
  if (sampling.minTokens > sampling.maxTokens) {
    throw badRequest(
      `min_tokens must be less than or equal to max_tokens=${sampling.maxTokens}, got ${sampling.minTokens}.`,
    );
  }
  if (!sampling.useBeamSearch && sampling.temperature < 1e-5 && sampling.n > 1) {
    throw badRequest(`n must be 1 when using greedy sampling, got ${sampling.n}.`);
  }
}

function parseMessages(messages: unknown[]): ParsedMessages {
  const texts: string[] = [];
  const images: Uint8Array[] = [];
  for (const [messageIndex, message] of messages.entries()) {
    if (!isRecord(message) || typeof message.role !== "string") {
      throw badRequest(
        `1 validation error:\n  {'type': 'missing', 'loc': ('body', 'messages', ${messageIndex}, 'role'), 'msg': 'Field required'}`,
      );
    }
    if (typeof message.content === "string") {
      texts.push(message.content);
      continue;
    }
    if (!Array.isArray(message.content)) {
      throw badRequest(
        `1 validation error:\n  {'type': 'missing', 'loc': ('body', 'messages', ${messageIndex}, 'content'), 'msg': 'Field required'}`,
      );
    }
    for (const part of message.content) {
      if (isRecord(part) && part.type === "text" && typeof part.text === "string") {
        texts.push(part.text);
      } else if (
        isRecord(part) &&
        part.type === "image_url" &&
        isRecord(part.image_url) &&
        typeof part.image_url.url === "string"
      ) {
        images.push(decodeImageUrl(part.image_url.url));
      } else {
        throw badRequest(`Unknown part type: ${isRecord(part) ? String(part.type) : typeof part}`);
      }
    }
  }
  return { text: texts.join("\n"), images };
}

/** Decodes a base64 data URL as vLLM's media connector does; the fake never fetches http URLs. */
function decodeImageUrl(url: string): Uint8Array {
  if (!url.startsWith("data:")) {
    throw badRequest("The fake server does not fetch remote images; send a base64 data URL.");
  }
  const comma = url.indexOf(",");
  if (comma < 0) throw badRequest("Invalid data URL: missing ',' between the header and the data.");
  const header = url.slice("data:".length, comma);
  const [mediaType, encoding] = header.split(";", 2);
  if (encoding !== "base64") throw badRequest("Only base64 data URLs are supported for now.");
  if (!mediaType?.startsWith("image/")) throw badRequest(`Invalid image media type: ${mediaType}`);

  const payload = url.slice(comma + 1);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload) || payload.length % 4 !== 0) {
    throw badRequest("Failed to load image: invalid base64 data.");
  }
  const bytes = new Uint8Array(Buffer.from(payload, "base64"));
  if (!looksLikeImage(bytes)) throw badRequest("Failed to load image: cannot identify image file.");
  return bytes;
}

/** Magic numbers of JPEG, PNG, GIF, WebP and BMP. */
function looksLikeImage(bytes: Uint8Array): boolean {
  const startsWith = (...prefix: number[]) =>
    prefix.every((value, index) => bytes[index] === value);
  if (startsWith(0xff, 0xd8, 0xff)) return true;
  if (startsWith(0x89, 0x50, 0x4e, 0x47)) return true;
  if (startsWith(0x47, 0x49, 0x46, 0x38)) return true;
  if (startsWith(0x42, 0x4d)) return true;
  return (
    startsWith(0x52, 0x49, 0x46, 0x46) && String.fromCharCode(...bytes.subarray(8, 12)) === "WEBP"
  );
}

const COLOURS = ["red", "blue", "green", "yellow", "white", "black", "brown", "grey"];
const SUBJECTS = ["dog", "cat", "bus", "bicycle", "kite", "train", "horse", "clock"];
const PLACES = [
  "on a street",
  "in a field",
  "near a table",
  "under a tree",
  "by the water",
  "in a kitchen",
];

/** Picks caption words by the bytes of SHA-256(`key`). Without the image the caption admits it. */
function captionWords(key: string, sawImage: boolean): string[] {
  const digest = createHash("sha256").update(key).digest();
  const pick = <T>(list: readonly T[], byte: number): T =>
    list[(digest[byte] ?? 0) % list.length] as T;
  if (!sawImage)
    return [
      "I",
      "cannot",
      "see",
      "an",
      "image",
      "but",
      "it",
      "may",
      "show",
      "a",
      pick(SUBJECTS, 0),
    ];
  return ["A", pick(COLOURS, 0), pick(SUBJECTS, 1), ...pick(PLACES, 2).split(" "), "."];
}

function countTextTokens(text: string): number {
  return text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu)?.length ?? 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
