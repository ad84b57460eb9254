import { mkdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { runExperimentCommand } from "../../../cli/commands/experiment.ts";
import {
  ConfigError,
  loadExperimentConfig,
  parseExperimentConfig,
} from "../../../cli/experiment/config.ts";
import { REPO_ROOT } from "../../helpers/paths.ts";
import {
  COCO_CAPTIONS,
  COCO_IMAGES,
  captureStream,
  cocoConfig,
  fakeFactories,
  workFolder,
  writeConfig,
} from "./doubles.ts";

const dir = workFolder("config");

/** Returns the problems of an invalid config as "path: message" lines. */
function problemsOf(config: unknown): string[] {
  try {
    parseExperimentConfig(config);
  } catch (error) {
    if (error instanceof ConfigError)
      return error.problems.map((problem) => `${problem.path}: ${problem.message}`);
    throw error;
  }
  throw new Error("expected the config to be rejected");
}

function withModels(
  models: unknown[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...cocoConfig(dir), models, ...extra };
}

describe("experiment config validation", () => {
  it("accepts the shared test config", () => {
    const config = parseExperimentConfig(cocoConfig(dir));
    expect(config.decoding.map((decoding) => decoding.id)).toEqual([
      "greedy",
      "beam3",
      "diverse4x2",
      "sampling",
    ]);
    expect(config.batchSize).toBe(3);
    expect(config.clip?.prefix).toBe("");
  });

  it("names a missing top-level field", () => {
    const { datasets: _datasets, ...config } = cocoConfig(dir);
    const problems = problemsOf(config);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^datasets: /);
  });

  it("names the wrong schema version", () => {
    expect(problemsOf({ ...cocoConfig(dir), schema: "edgecap.experiment/v0" })[0]).toMatch(
      /^schema: /,
    );
  });

  it("names an unknown field", () => {
    const problems = problemsOf({ ...cocoConfig(dir), decodings: [] });
    expect(problems[0]).toMatch(/decodings/);
  });

  it("names an id that cannot be a file name", () => {
    const config = cocoConfig(dir);
    (config.datasets as Record<string, unknown>[])[0] = { id: "coco/val", captions: "x.json" };
    expect(problemsOf(config)[0]).toMatch(/^datasets\/0\/id: /);
  });

  it("names an unknown model kind", () => {
    expect(problemsOf(withModels([{ id: "m", kind: "tflite", package: "p" }]))[0]).toMatch(
      /^models\/0\/kind: /,
    );
  });

  it("names duplicate ids", () => {
    const config = cocoConfig(dir);
    const decoding = config.decoding as Record<string, unknown>[];
    decoding.push({ id: "greedy", options: {} });
    expect(problemsOf(config)).toEqual([
      'decoding/4/id: duplicate id "greedy", first used at decoding/0',
    ]);
  });

  it("names an invalid generation option", () => {
    const config = cocoConfig(dir);
    (config.decoding as Record<string, unknown>[])[1] = { id: "beam3", options: { num_beam: 3 } };
    const problems = problemsOf(config);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^decoding\/1\/options\/num_beam: num_beam is not a generation option/,
    );
  });

  it("names an option that does not fit the strategy", () => {
    const config = cocoConfig(dir);
    (config.decoding as Record<string, unknown>[])[0] = { id: "greedy", options: { top_p: 0.5 } };
    expect(problemsOf(config)[0]).toMatch(/^decoding\/0\/options\/top_p: /);
  });

  it("names a dataset that a model refers to but the config lacks", () => {
    const problems = problemsOf(
      withModels([{ id: "m", kind: "onnx", package: "p", datasets: ["demo-test"] }]),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^models\/0\/datasets\/0: unknown dataset "demo-test"/),
    ]);
  });

  it("names a decoding config that a model refers to but the config lacks", () => {
    const problems = problemsOf(
      withModels([{ id: "m", kind: "onnx", package: "p", decoding: ["beam5"] }]),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^models\/0\/decoding\/0: unknown decoding config "beam5"/),
    ]);
  });

  it("requires instructions for a LLaVA backend", () => {
    const problems = problemsOf(
      withModels([{ id: "llava", kind: "llava-backend", backend: { kind: "vllm" } }]),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^instructions: model "llava" is a LLaVA backend/),
    ]);
  });

  it("rejects a decoding choice on an import", () => {
    const problems = problemsOf(
      withModels([{ id: "llava", kind: "llava-import", folder: "f", decoding: ["greedy"] }]),
    );
    expect(problems[0]).toMatch(/^models\/0\/decoding: model "llava" imports its runs/);
  });

  it("rejects a captioner on a dataset without images", () => {
    const config = withModels([{ id: "m", kind: "onnx", package: "p" }], {
      datasets: [{ id: "refs-only", captions: "captions.json" }],
    });
    const problems = problemsOf(config);
    expect(
      problems.some((problem) =>
        problem.startsWith('models/0/datasets: model "m" captions images'),
      ),
    ).toBe(true);
  });

  it("requires captions or image ids for a dataset", () => {
    const config = withModels([{ id: "llava", kind: "llava-import", folder: "f" }], {
      datasets: [{ id: "empty" }],
    });
    expect(problemsOf(config)).toEqual([
      expect.stringMatching(/^datasets\/0: dataset "empty" needs "captions"/),
    ]);
  });

  it("accepts a selection of images for attention dumps", () => {
    expect(
      parseExperimentConfig({ ...cocoConfig(dir), attention: { ids: ["000000397133"] } }).attention,
    ).toEqual({
      ids: ["000000397133"],
    });
    expect(problemsOf({ ...cocoConfig(dir), attention: { first: -1 } })[0]).toMatch(/^attention/);
  });

  it("names paths that do not exist", async () => {
    const config = cocoConfig(dir);
    (config.datasets as Record<string, unknown>[])[0] = {
      id: "coco",
      captions: "no-such-captions.json",
      images: "no-such-folder",
    };
    const path = writeConfig(dir, "missing-paths.json", config);
    const error = await loadExperimentConfig(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).problems.map((problem) => problem.path);
    expect(paths).toEqual(["datasets/0/captions", "datasets/0/images"]);
    expect((error as ConfigError).problems[0]?.message).toContain(
      join(dir, "no-such-captions.json"),
    );
  });

  it("resolves relative paths from baseDir", async () => {
    mkdirSync(join(dir, "configs"), { recursive: true });
    const config = {
      ...cocoConfig(dir),
      baseDir: "..",
      clip: { package: "clip-package" },
      datasets: [
        { id: "coco", captions: relative(dir, COCO_CAPTIONS), images: relative(dir, COCO_IMAGES) },
      ],
      models: [{ id: "demo", kind: "onnx", package: "demo-package" }],
    };
    const loaded = await loadExperimentConfig(
      writeConfig(join(dir, "configs"), "relative.json", config),
    );
    expect(loaded.baseDir).toBe(dir);
  });

  it("command prints every problem and exits 1", async () => {
    const config = cocoConfig(dir);
    (config.decoding as Record<string, unknown>[])[0] = {
      id: "greedy",
      options: { max_new_tokens: 0 },
    };
    (config.models as Record<string, unknown>[])[0] = {
      id: "demo",
      kind: "onnx",
      package: "p",
      datasets: ["nope"],
    };
    const stderr = captureStream();
    const status = await runExperimentCommand(
      ["--config", writeConfig(dir, "two-problems.json", config)],
      {
        factories: fakeFactories(),
        stderr,
      },
    );
    expect(status).toBe(1);
    expect(stderr.text()).toContain("(2 problems)");
    expect(stderr.text()).toContain("models/0/datasets/0: unknown dataset");
    expect(stderr.text()).toContain("decoding/0/options/max_new_tokens:");
  });

  it("command reports a config that is not JSON", async () => {
    const stderr = captureStream();
    const status = await runExperimentCommand(
      ["--config", writeConfig(dir, "broken.json", "{ not json")],
      {
        factories: fakeFactories(),
        stderr,
      },
    );
    expect(status).toBe(1);
    expect(stderr.text()).toContain("is not valid JSON");
  });
});

describe("shipped experiment configs", () => {
  it("default.json is valid", () => {
    const json = JSON.parse(readFileSync(join(REPO_ROOT, "experiments", "default.json"), "utf8"));
    const config = parseExperimentConfig(json);
    expect(config.decoding.map((decoding) => decoding.id)).toEqual([
      "greedy",
      "beam3",
      "diverse4x2",
      "sampling",
    ]);
    expect(config.models.find((model) => model.kind === "llava-import")?.synthetic).toBe(true);
  });
});
