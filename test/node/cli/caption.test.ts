import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { attentionDocumentSchema } from "../../../shared/attention/schema.ts";
import { OWNER_DATA_DIR, REPO_ROOT } from "../../helpers/paths.ts";

const EDGECAP = join(REPO_ROOT, "cli", "edgecap.mjs");
const CAPTIONER = join(REPO_ROOT, "test/fixtures/packages/tiny-random");
const CLIP = join(REPO_ROOT, "test/fixtures/packages/tiny-random-clip");
const PHOTOS = join(OWNER_DATA_DIR, "data/coco-mini/val2017");
const PHOTO = join(PHOTOS, "000000000139.jpg");
const workDir = mkdtempSync(join(tmpdir(), "edgecap-caption-"));

function edgecap(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [EDGECAP, ...args], {
    encoding: "utf8",
    cwd: REPO_ROOT,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("edgecap caption", () => {
  const modes: [string, string[]][] = [
    ["greedy", []],
    ["beam", ["--beams", "3", "--num-return-sequences", "2"]],
    [
      "diverse beam",
      [
        "--beams",
        "4",
        "--beam-groups",
        "2",
        "--diversity-penalty",
        "0.5",
        "--num-return-sequences",
        "2",
      ],
    ],
    [
      "sampling",
      [
        "--sample",
        "--top-k",
        "40",
        "--top-p",
        "0.9",
        "--temperature",
        "0.7",
        "--seed",
        "3",
        "--num-return-sequences",
        "2",
      ],
    ],
  ];

  it.each(modes)("%s writes captions and attention", (_mode, flags) => {
    const attentionFile = join(workDir, `${_mode.replace(" ", "-")}.json`);
    const run = edgecap(
      "caption",
      PHOTO,
      "--model",
      CAPTIONER,
      "--max-new-tokens",
      "5",
      "--attention",
      attentionFile,
      ...flags,
    );

    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const expectedLines = flags.includes("--num-return-sequences") ? 2 : 1;
    expect(run.stdout.trim().split("\n")).toHaveLength(expectedLines);
    const document = attentionDocumentSchema.parse(JSON.parse(readFileSync(attentionFile, "utf8")));
    expect(document.hypotheses).toHaveLength(expectedLines);
    expect(document.image.id).toBe("000000000139");
  });

  it("json format returns tokens and timings", () => {
    const run = edgecap(
      "caption",
      PHOTO,
      "--model",
      CAPTIONER,
      "--max-new-tokens",
      "3",
      "--format",
      "json",
    );

    expect(run.status).toBe(0);
    const [result] = JSON.parse(run.stdout);
    expect(result.model.id).toBe("edgecap-tiny-random");
    expect(result.captions[0].tokens.length).toBeGreaterThan(0);
    expect(result.timings.steps).toBeGreaterThan(0);
  });

  it("invalid decoding option exits 2 naming it", () => {
    const run = edgecap(
      "caption",
      PHOTO,
      "--model",
      CAPTIONER,
      "--beams",
      "3",
      "--beam-groups",
      "2",
    );

    expect(run.status).toBe(2);
    expect(run.stderr).toContain("num_beam_groups");
  });

  it("non-image file exits 1 naming the file", () => {
    const fake = join(workDir, "page.jpg");
    writeFileSync(fake, "<!doctype html><html><body>not an image</body></html>");
    const run = edgecap("caption", fake, "--model", CAPTIONER);

    expect(run.status).toBe(1);
    expect(run.stderr).toContain("page.jpg");
  });

  it("missing package exits 1 naming manifest.json", () => {
    const run = edgecap("caption", PHOTO, "--model", join(workDir, "no-such-package"));

    expect(run.status).toBe(1);
    expect(run.stderr).toContain("manifest.json");
  });
});

describe("edgecap clipscore", () => {
  it("scores predictions against COCO photos", () => {
    const predictions = join(workDir, "predictions.json");
    writeFileSync(
      predictions,
      JSON.stringify({ "000000000139": "a living room", "000000000802": "a kitchen" }),
    );
    const run = edgecap(
      "clipscore",
      "--clip",
      CLIP,
      "--images",
      PHOTOS,
      "--predictions",
      predictions,
      "--format",
      "json",
    );

    expect(run.status).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.images).toBe(2);
    expect(summary.prefix).toBe("");
    expect(summary.clip_score).toBeGreaterThanOrEqual(0);
    expect(summary.clip_score).toBeLessThanOrEqual(2.5);
  });

  it("missing image file exits 1", () => {
    const predictions = join(workDir, "missing.json");
    writeFileSync(predictions, JSON.stringify({ "does-not-exist": "a cat" }));
    const run = edgecap(
      "clipscore",
      "--clip",
      CLIP,
      "--images",
      PHOTOS,
      "--predictions",
      predictions,
    );

    expect(run.status).toBe(1);
    expect(run.stderr).toContain("does-not-exist");
  });

  it("missing predictions file exits 2", () => {
    const missing = join(workDir, "no-predictions.json");
    const run = edgecap("clipscore", "--clip", CLIP, "--images", PHOTOS, "--predictions", missing);

    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`edgecap: cannot read --predictions "${missing}": file not found\n`);
  });
});

describe("edgecap caption output file", () => {
  it("missing attention directory exits 2", () => {
    const attention = join(workDir, "no-such-folder", "attention.json");
    const run = edgecap("caption", PHOTO, "--model", CAPTIONER, "--attention", attention);

    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      `edgecap caption: cannot write --attention "${attention}": the directory "${join(workDir, "no-such-folder")}" does not exist. Create it or choose another path\n`,
    );
  });
});

describe("edgecap evaluate with CLIPScore", () => {
  it("adds clip_score and ref_clip_score", () => {
    const predictions = join(workDir, "evaluate-predictions.json");
    const references = join(workDir, "evaluate-references.json");
    writeFileSync(
      predictions,
      JSON.stringify({ "000000000139": "a living room", "000000000802": "a kitchen" }),
    );
    writeFileSync(
      references,
      JSON.stringify({
        images: [
          { id: 1, file_name: "000000000139.jpg" },
          { id: 2, file_name: "000000000802.jpg" },
        ],
        annotations: [
          { image_id: 1, caption: "a living room with a couch" },
          { image_id: 2, caption: "a kitchen with an oven" },
        ],
      }),
    );
    const run = edgecap(
      "evaluate",
      "--predictions",
      predictions,
      "--references",
      references,
      "--images",
      PHOTOS,
      "--clip",
      CLIP,
      "--format",
      "json",
    );

    expect(run.status).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.scores.clip_score).toBeGreaterThanOrEqual(0);
    expect(summary.scores.ref_clip_score).toBeGreaterThanOrEqual(0);
    expect(summary.scores.cider_d).toBeGreaterThan(0);
  });

  it("--images without --clip exits 2", () => {
    const run = edgecap(
      "evaluate",
      "--predictions",
      "p.json",
      "--references",
      "r.json",
      "--images",
      PHOTOS,
    );

    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--clip");
  });
});
