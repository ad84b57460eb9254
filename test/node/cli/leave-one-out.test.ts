import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { buildLeaveOneOutSplit } from "../../../scripts/leave-one-out.ts";
import { OWNER_DATA_DIR, REPO_ROOT } from "../../helpers/paths.ts";

it("leave-one-out takes the lowest annotation id as candidate", () => {
  const split = buildLeaveOneOutSplit({
    images: [
      { id: 7, file_name: "000000000007.jpg" },
      { id: 3, file_name: "000000000003.jpg" },
    ],
    annotations: [
      { id: 50, image_id: 7, caption: "seven b" },
      { id: 12, image_id: 3, caption: "three a" },
      { id: 40, image_id: 7, caption: "seven a" },
      { id: 60, image_id: 7, caption: "seven c" },
      { id: 13, image_id: 3, caption: "three b" },
    ],
  });
  expect(split.predictions).toEqual({ "000000000007": "seven a", "000000000003": "three a" });
  expect(split.references.images.map((image) => image.id)).toEqual([7, 3]);
  expect(split.references.annotations.map((annotation) => annotation.caption)).toEqual([
    "seven b",
    "seven c",
    "three b",
  ]);
});

it("leave-one-out rejects an image with one caption", () => {
  expect(() =>
    buildLeaveOneOutSplit({
      images: [{ id: 1, file_name: "1.jpg" }],
      annotations: [{ id: 1, image_id: 1, caption: "alone" }],
    }),
  ).toThrow(/image 1 has 1 caption\(s\); leave-one-out needs at least 2/);
});

it("leave-one-out files of COCO val2017 score with edgecap evaluate", () => {
  const outDir = mkdtempSync(join(tmpdir(), "edgecap-loo-"));
  const captions = join(OWNER_DATA_DIR, "data", "coco-val2017-captions.json");
  const script = spawnSync(
    process.execPath,
    [join(REPO_ROOT, "scripts", "leave-one-out.ts"), outDir, "--captions", captions],
    { encoding: "utf8" },
  );
  expect(script.status, script.stderr).toBe(0);
  expect(script.stdout).toContain("5000 images, 20014 references, one candidate each");

  const predictions = JSON.parse(readFileSync(join(outDir, "predictions.json"), "utf8"));
  expect(Object.keys(predictions)).toHaveLength(5000);

  const evaluate = spawnSync(
    process.execPath,
    [
      join(REPO_ROOT, "cli", "edgecap.mjs"),
      "evaluate",
      "--predictions",
      join(outDir, "predictions.json"),
      "--references",
      join(outDir, "references.json"),
      "--format",
      "json",
    ],
    { encoding: "utf8" },
  );
  expect(evaluate.status, evaluate.stderr).toBe(0);
  const output = JSON.parse(evaluate.stdout);
  expect(output.imageCount).toBe(5000);
  expect(output.bleuTotals.guess[0]).toBe(output.bleuTotals.testLength);
  for (const value of Object.values(output.scores) as number[]) {
    expect(value).toBeGreaterThan(0);
    expect(value).toBeLessThan(10);
  }
});
