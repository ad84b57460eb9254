import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../shared/llava/circuit-breaker.ts";
import { BackendImageIgnoredError } from "../../../shared/llava/errors.ts";
import type { ImageCheckMode } from "../../../shared/llava/image-check.ts";
import { checkImageTokens, LLAVA15_IMAGE_TOKENS } from "../../../shared/llava/image-check.ts";
import { OpenAIChatBackend } from "../../../shared/llava/openai-chat.ts";
import { type FakeOpenAIServer, startFakeOpenAIServer } from "../../helpers/fake-openai-server.ts";
import { REPO_ROOT } from "../../helpers/paths.ts";
import { captionRequest, collectingLogger } from "./helpers.ts";

const PNG = new Uint8Array(readFileSync(join(REPO_ROOT, "test/fixtures/images/gray1bit.png")));

let server: FakeOpenAIServer;
beforeEach(async () => {
  server = await startFakeOpenAIServer();
});
afterEach(async () => {
  await server.close();
});

function backend(mode: ImageCheckMode, logger = collectingLogger()) {
  return new OpenAIChatBackend({
    kind: "vllm",
    baseUrl: server.baseUrl,
    circuitBreaker: new CircuitBreaker(),
    imageCheck: { mode },
    log: logger.log,
  });
}

describe("ignored image detection", () => {
  it("passes a prompt that contains the image", async () => {
    const result = await backend("warn").caption(
      captionRequest({}, { image: PNG, mediaType: "image/png" }),
    );
    expect(result.usage?.promptTokens).toBeGreaterThan(LLAVA15_IMAGE_TOKENS);
    expect(result.warnings).toEqual([]);
  });

  it("warns when the server drops the image", async () => {
    server.setImageMode("text-only");
    const logger = collectingLogger();
    const result = await backend("warn", logger).caption(captionRequest());

    expect(result.warnings).toHaveLength(1);
    const warning = result.warnings[0];
    expect(warning?.code).toBe("image_ignored");
    expect(warning?.promptTokens).toBe(result.usage?.promptTokens);
    expect(warning?.promptTokens).toBeLessThan(LLAVA15_IMAGE_TOKENS);
    expect(warning?.expectedImageTokens).toBe(576);
    expect(logger.lines.some((line) => line.msg === "llava backend ignored the image")).toBe(true);
  });

  it("throws in error mode", async () => {
    server.setImageMode("text-only");
    await expect(backend("error").caption(captionRequest())).rejects.toBeInstanceOf(
      BackendImageIgnoredError,
    );
  });

  it("skips the check when off", async () => {
    server.setImageMode("text-only");
    const result = await backend("off").caption(captionRequest());
    expect(result.warnings).toEqual([]);
  });

  it("cannot check without usage", () => {
    expect(
      checkImageTokens("workers-ai", null, { mode: "error", expectedImageTokens: 576 }),
    ).toBeNull();
  });

  it("uses the configured image token count", () => {
    const usage = { promptTokens: 600, completionTokens: 10 };
    expect(checkImageTokens("vllm", usage, { mode: "warn", expectedImageTokens: 576 })).toBeNull();
    expect(
      checkImageTokens("vllm", usage, { mode: "warn", expectedImageTokens: 2_304 })?.code,
    ).toBe("image_ignored");
  });
});

describe("fake server captions", () => {
  it("derives the caption from the image bytes", async () => {
    const adapter = backend("warn");
    const first = await adapter.caption(captionRequest({}, { image: PNG, mediaType: "image/png" }));
    const again = await adapter.caption(captionRequest({}, { image: PNG, mediaType: "image/png" }));
    const other = await adapter.caption(captionRequest());
    expect(again.captions).toEqual(first.captions);
    expect(first.usage).toEqual(again.usage);
    expect(other.captions[0]?.text).not.toBe("");
  });

  it("varies samples with the seed", async () => {
    const adapter = backend("warn");
    const sampling = { do_sample: true, temperature: 0.9, num_return_sequences: 3, seed: 1 };
    const first = await adapter.caption(captionRequest(sampling));
    const repeat = await adapter.caption(captionRequest(sampling));
    expect(first.captions).toHaveLength(3);
    expect(repeat.captions).toEqual(first.captions);
  });
});
