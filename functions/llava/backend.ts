// Builds the LLaVA caption backend from the Worker's configuration: LLAVA_BACKEND_KIND picks the
// adapter, LLAVA_BASE_URL and LLAVA_MODEL address an OpenAI-compatible server, the LLAVA_API_KEY
// secret authenticates to it, and the AI binding serves kind "workers-ai".
import {
  type CaptionBackend,
  CHAT_BACKEND_KINDS,
  type ChatBackendKind,
  OpenAIChatBackend,
  WorkersAIBackend,
} from "../../shared/llava/index.ts";
import { type Bindings, readLimit } from "../env.ts";
import { logJson } from "../middleware/request-log.ts";
import { ProblemError } from "../problem.ts";

/** Builds the backend for a request; tests inject their own. */
export type LlavaBackendFactory = (env: Bindings) => CaptionBackend;

function notConfigured(detail: string): ProblemError {
  return new ProblemError(502, "backend-unavailable", "LLaVA backend not configured", detail);
}

export const createLlavaBackend: LlavaBackendFactory = (env) => {
  const kind = env.LLAVA_BACKEND_KIND ?? "vllm";
  const timeoutMs = readLimit(env.LLAVA_TIMEOUT_MS, 60_000);
  const log = logJson;

  if (kind === "workers-ai") {
    if (env.AI === undefined) {
      throw notConfigured(
        'LLAVA_BACKEND_KIND is "workers-ai" but the AI binding is missing. Add [ai] binding = "AI" to wrangler.toml.',
      );
    }
    return new WorkersAIBackend({ binding: env.AI, timeoutMs, log });
  }

  if (!(CHAT_BACKEND_KINDS as readonly string[]).includes(kind)) {
    throw notConfigured(
      `LLAVA_BACKEND_KIND ${JSON.stringify(kind)} is not a known backend. Use one of ${[...CHAT_BACKEND_KINDS, "workers-ai"].join(", ")}.`,
    );
  }
  const baseUrl = env.LLAVA_BASE_URL ?? "";
  if (baseUrl === "") {
    throw notConfigured(
      "LLAVA_BASE_URL is empty, so model llava has no server. Set it to the OpenAI-compatible server's root URL (docs/deploy.md).",
    );
  }
  return new OpenAIChatBackend({
    kind: kind as ChatBackendKind,
    baseUrl,
    ...(env.LLAVA_MODEL === undefined || env.LLAVA_MODEL === "" ? {} : { model: env.LLAVA_MODEL }),
    ...(env.LLAVA_API_KEY === undefined ? {} : { apiKey: env.LLAVA_API_KEY }),
    timeoutMs,
    log,
  });
};
