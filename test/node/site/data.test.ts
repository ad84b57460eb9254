import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { imageFilePath, isCocoDataset, readSiteData } from "../../../site/src/lib/data.ts";
import { REPO_ROOT } from "../../helpers/paths.ts";

const FIXTURE = join(REPO_ROOT, "test/fixtures/report");

describe("readSiteData", () => {
  it("loads the fixture", () => {
    const data = readSiteData(FIXTURE);
    expect(data.report.experiment.id).toBe("report-site-fixture");
    expect([...data.datasets.keys()]).toEqual(["coco-val-sample", "demo-test", "llava-sample"]);
  });

  it("loads the LLaVA sample's attention", () => {
    const data = readSiteData(FIXTURE);
    const llava = data.attention.filter((entry) => entry.model.family === "llava");
    expect(llava).toHaveLength(1);
    expect(llava[0]?.document.grid).toEqual({ rows: 24, cols: 24 });
    expect(llava[0]?.synthetic).toBe(true);
  });

  it("marks every fixture attention entry synthetic", () => {
    const data = readSiteData(FIXTURE);
    expect(data.attention.length).toBeGreaterThan(0);
    expect(data.attention.every((entry) => entry.synthetic)).toBe(true);
  });

  it("resolves image files against imageRoot", () => {
    const data = readSiteData(FIXTURE);
    const demo = data.report.images.find((image) => image.dataset === "demo-test");
    expect(demo).toBeDefined();
    expect(imageFilePath(data, demo as NonNullable<typeof demo>)).toBe(
      join(FIXTURE, "images/demo-test", demo?.file ?? ""),
    );
    const llava = data.report.images.find((image) => image.dataset === "llava-sample");
    expect(imageFilePath(data, llava as NonNullable<typeof llava>)).toBeNull();
  });

  it("rejects a missing folder", () => {
    expect(() => readSiteData(join(tmpdir(), "edgecap-no-such-report"))).toThrow(
      /report\.json does not exist; set EDGECAP_REPORT_DATA/,
    );
  });

  it("rejects an invalid report", () => {
    const folder = mkdtempSync(join(tmpdir(), "edgecap-report-"));
    writeFileSync(join(folder, "report.json"), JSON.stringify({ schema: "edgecap.report/v1" }));
    expect(() => readSiteData(folder)).toThrow(/not a valid edgecap\.report\/v1 document/);
  });
});

describe("isCocoDataset", () => {
  it("recognises the COCO sample", () => {
    const data = readSiteData(FIXTURE);
    expect(isCocoDataset(data.datasets.get("coco-val-sample") as never)).toBe(true);
    expect(isCocoDataset(data.datasets.get("demo-test") as never)).toBe(false);
  });
});
