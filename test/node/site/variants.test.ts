import { describe, expect, it } from "vitest";
import type { ReportModel, TrainingRun } from "../../../shared/report/schema.ts";
import {
  continuedFrom,
  exportedMeasurements,
  sharedRunValue,
  type TrainingRunRow,
  trainingRunTables,
} from "../../../site/src/lib/variants.ts";

const RUNS: Omit<TrainingRun, "isModelVariant">[] = [
  { name: "r16_a32", initFrom: null, testImages: 300, decoding: "greedy", ciderD: 0.59 },
  { name: "r64_a16", testImages: 300, decoding: "greedy", ciderD: 0.58 },
  {
    name: "r16_a32_long",
    initFrom: "models/work/captioner_r16_a32.pt",
    testImages: 300,
    decoding: "greedy",
    exported: { ciderD: 1.04, measured: "exported weights" },
  },
];

function model(
  id: string,
  variantName: string | null,
  metrics = "models/logs/metrics.json",
): ReportModel {
  return {
    id,
    label: `Model ${id}`,
    kind: "onnx",
    family: "prefix-gpt2",
    sha256: null,
    synthetic: false,
    variant: {
      source: metrics,
      trainingRuns: {
        metrics,
        runs: RUNS.map((run) => ({ ...run, isModelVariant: run.name === variantName })),
      },
    },
    datasets: [],
    configs: [],
  };
}

function rows(...runs: Omit<TrainingRun, "isModelVariant">[]): TrainingRunRow[] {
  return runs.map((run) => ({ run: { ...run, isModelVariant: false }, models: [] }));
}

describe("trainingRunTables", () => {
  it("merges models that share a metrics file", () => {
    const long = model("long", "r16_a32_long");
    const base = model("base", "r16_a32");
    const tables = trainingRunTables([long, base]);
    expect(tables).toHaveLength(1);
    expect(tables[0]?.metrics).toBe("models/logs/metrics.json");
    expect(tables[0]?.rows.map((row) => row.run.name)).toEqual([
      "r16_a32",
      "r64_a16",
      "r16_a32_long",
    ]);
    expect(tables[0]?.rows.map((row) => row.models.map((item) => item.id))).toEqual([
      ["base"],
      [],
      ["long"],
    ]);
  });

  it("keeps one table per metrics file", () => {
    const tables = trainingRunTables([
      model("first", "r16_a32", "a/metrics.json"),
      model("second", null, "b/metrics.json"),
    ]);
    expect(tables.map((table) => table.metrics)).toEqual(["a/metrics.json", "b/metrics.json"]);
    expect(tables[1]?.rows.every((row) => row.models.length === 0)).toBe(true);
  });

  it("skips models without training runs", () => {
    const plain: ReportModel = { ...model("plain", null), variant: { source: "config", rank: 8 } };
    const none: ReportModel = { ...model("none", null), variant: null };
    expect(trainingRunTables([plain, none])).toEqual([]);
  });
});

describe("sharedRunValue", () => {
  it("returns the value every run records", () => {
    expect(sharedRunValue(rows(...RUNS), "testImages")).toBe(300);
    expect(sharedRunValue(rows(...RUNS), "decoding")).toBe("greedy");
  });

  it("ignores runs without the value", () => {
    expect(sharedRunValue(rows({ name: "a" }, { name: "b", decoding: "beam3" }), "decoding")).toBe(
      "beam3",
    );
  });

  it("returns undefined when runs differ", () => {
    const mixed = rows({ name: "a", testImages: 300 }, { name: "b", testImages: 20 });
    expect(sharedRunValue(mixed, "testImages")).toBeUndefined();
    expect(sharedRunValue(rows({ name: "a" }), "testImages")).toBeUndefined();
  });
});

describe("continuedFrom", () => {
  const table = rows(...RUNS);

  it("names a recorded run's checkpoint", () => {
    expect(continuedFrom(table[2]?.run as TrainingRun, table)).toBe("r16_a32");
  });

  it("keeps an unknown checkpoint path", () => {
    const run = { name: "x", isModelVariant: false, initFrom: "elsewhere/captioner_r8.pt" };
    expect(continuedFrom(run, table)).toBe("elsewhere/captioner_r8.pt");
  });

  it("tells fresh from unknown", () => {
    expect(continuedFrom(table[0]?.run as TrainingRun, table)).toBe("none");
    expect(continuedFrom(table[1]?.run as TrainingRun, table)).toBe("—");
  });
});

describe("exportedMeasurements", () => {
  it("lists measurements with scores only", () => {
    const table = rows(...RUNS, {
      name: "r16_a8",
      exported: { measured: "trained weights, before rounding" },
    });
    expect(exportedMeasurements(table)).toEqual(["exported weights"]);
  });
});
