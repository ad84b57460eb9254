// The llava-backend path: the CLI's OpenAI-compatible backend against a fake vLLM server on
// loopback, two instructions times two decoding configs on two COCO photos.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runExperimentCommand } from "../../../cli/commands/experiment.ts";
import { predictionRowSchema, reportSchema } from "../../../shared/report/schema.ts";
import { type FakeOpenAIServer, startFakeOpenAIServer } from "../../helpers/fake-openai-server.ts";
import { COCO_CAPTIONS, COCO_IMAGES, captureStream, workFolder, writeConfig } from "./doubles.ts";

const API_KEY_ENV = "EDGECAP_EXPERIMENT_TEST_LLAVA_KEY";
const INSTRUCTIONS = [
  "Describe this image using one or more simple sentences.",
  "What is in the picture?",
];

let server: FakeOpenAIServer;

beforeAll(async () => {
  server = await startFakeOpenAIServer({ apiKey: "test-key" });
  process.env[API_KEY_ENV] = "test-key";
});

afterAll(async () => {
  delete process.env[API_KEY_ENV];
  await server.close();
});

describe("experiment with a LLaVA backend", () => {
  it("runs every decoding config with every instruction", async () => {
    const dir = workFolder("llava-backend");
    const configPath = writeConfig(dir, "backend.json", {
      schema: "edgecap.experiment/v1",
      id: "llava-backend",
      datasets: [{ id: "coco", captions: COCO_CAPTIONS, images: COCO_IMAGES, limit: 2 }],
      models: [
        {
          id: "llava",
          kind: "llava-backend",
          backend: { kind: "vllm", baseUrl: server.baseUrl, apiKeyEnv: API_KEY_ENV },
        },
      ],
      decoding: [
        { id: "greedy", options: { max_new_tokens: 20 } },
        { id: "sampling", options: { do_sample: true, temperature: 0.7, top_p: 0.9, seed: 0 } },
      ],
      instructions: INSTRUCTIONS,
      attention: { first: 1 },
    });
    const outDir = join(dir, "out");
    const stderr = captureStream();

    const status = await runExperimentCommand(["--config", configPath, "--out", outDir], {
      stderr,
      stdout: captureStream(),
    });
    expect(stderr.text()).not.toContain("edgecap experiment:");
    expect(status).toBe(0);
    expect(server.requests).toHaveLength(8);

    const rows = readFileSync(join(outDir, "predictions", "coco", "llava.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => predictionRowSchema.parse(JSON.parse(line)));
    expect(rows.map((row) => row.config)).toEqual([
      "greedy-i0",
      "greedy-i1",
      "sampling-i0",
      "sampling-i1",
      "greedy-i0",
      "greedy-i1",
      "sampling-i0",
      "sampling-i1",
    ]);
    for (const row of rows) {
      expect(row.captions[0]).not.toBe("");
      // Serving engines return no attention weights, so no dump even for the chosen image.
      expect(row.attention).toBeNull();
    }

    const report = reportSchema.parse(
      JSON.parse(readFileSync(join(outDir, "report.json"), "utf8")),
    );
    expect(
      report.configs.map((config) => [config.id, config.decoding, config.instruction]),
    ).toEqual([
      ["greedy-i0", "greedy", INSTRUCTIONS[0]],
      ["greedy-i1", "greedy", INSTRUCTIONS[1]],
      ["sampling-i0", "sampling", INSTRUCTIONS[0]],
      ["sampling-i1", "sampling", INSTRUCTIONS[1]],
    ]);
    expect(report.models[0]).toMatchObject({
      kind: "llava-backend",
      family: "llava",
      sha256: null,
    });
    expect(report.results).toHaveLength(4);
  });
});
