// Public entry of the LLaVA caption backends.
export * from "./chat-response.ts";
export * from "./circuit-breaker.ts";
export * from "./errors.ts";
export * from "./image-check.ts";
export * from "./input.ts";
export * from "./openai-chat.ts";
export * from "./options.ts";
export * from "./resilient-call.ts";
export * from "./retry.ts";
export * from "./types.ts";
export * from "./workers-ai.ts";
