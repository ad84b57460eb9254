import { describe, expect, it } from "vitest";
import {
  parseEvaluationFiles,
  parseReferenceFile,
} from "../../../shared/formats/evaluation-input.ts";
import {
  ValidationError,
  type ValidationProblem,
} from "../../../shared/formats/validation-error.ts";

const references = {
  images: [
    { id: 139, file_name: "000000000139.jpg" },
    { id: 285, file_name: "000000000285.jpg" },
  ],
  annotations: [
    { image_id: 285, id: 1, caption: "A big brown bear." },
    { image_id: 139, id: 2, caption: "A living room with a couch." },
    { image_id: 139, id: 3, caption: "A room with a TV." },
  ],
};
const referencesText = JSON.stringify(references);

/** Runs the parser and returns the problems of the ValidationError it must throw. */
function problemsOf(predictions: string, referenceText = referencesText): ValidationProblem[] {
  try {
    parseEvaluationFiles(predictions, referenceText);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return [...(error as ValidationError).problems];
  }
  throw new Error("expected a ValidationError");
}

describe("parseEvaluationFiles layouts", () => {
  it("reads the homework object in reference order", () => {
    const input = parseEvaluationFiles(
      JSON.stringify({ "000000000285": "a bear", "000000000139": "a living room" }),
      referencesText,
    );
    expect(input.format).toBe("homework");
    expect(input.corpus).toEqual({
      imageIds: ["000000000139", "000000000285"],
      candidates: ["a living room", "a bear"],
      references: [["A living room with a couch.", "A room with a TV."], ["A big brown bear."]],
    });
    expect(input.warnings).toEqual([]);
  });

  it("reads a COCO results list by image id", () => {
    const input = parseEvaluationFiles(
      JSON.stringify([
        { image_id: 285, caption: "a bear" },
        { image_id: 139, caption: "a living room" },
      ]),
      referencesText,
    );
    expect(input.format).toBe("coco-results");
    expect(input.corpus.imageIds).toEqual(["139", "285"]);
    expect(input.corpus.candidates).toEqual(["a living room", "a bear"]);
  });

  it("accepts empty captions and a byte order mark", () => {
    const input = parseEvaluationFiles(
      `\ufeff${JSON.stringify({ "000000000139": "", "000000000285": "a bear" })}`,
      referencesText,
    );
    expect(input.corpus.candidates).toEqual(["", "a bear"]);
  });

  it("warns about annotations of unknown images", () => {
    const withStray = {
      ...references,
      annotations: [...references.annotations, { image_id: 999, caption: "stray" }],
    };
    const input = parseEvaluationFiles(
      JSON.stringify({ "000000000139": "x", "000000000285": "y" }),
      JSON.stringify(withStray),
    );
    expect(input.warnings).toEqual([
      {
        path: "references/annotations",
        message: expect.stringMatching(/1 annotation\(s\).*"999"/),
      },
    ]);
  });
});

describe("parseEvaluationFiles problems", () => {
  it("names invalid JSON with line and column in both files", () => {
    const problems = problemsOf('{\n  "000000000139": "a",\n}', "[1, 2");
    expect(problems).toEqual([
      {
        path: "predictions",
        message: "invalid JSON at line 2, column 22: trailing comma before the closing bracket",
      },
      { path: "references", message: "invalid JSON at line 1, column 6: unexpected end of input" },
    ]);
  });

  it("rejects a wrong top-level type", () => {
    const problems = problemsOf('"a caption"', "[]");
    expect(problems).toEqual([
      { path: "predictions", message: expect.stringContaining("got string") },
      { path: "references", message: expect.stringContaining("got array") },
    ]);
  });

  it("lists missing and extra images with counts", () => {
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`extra${i}`, "x"]));
    const problems = problemsOf(JSON.stringify(many));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toEqual({
      path: "predictions",
      message: '2 reference image(s) have no prediction: "000000000139", "000000000285"',
    });
    expect(problems[1]?.message).toMatch(
      /^12 prediction\(s\) name images that are not in the references: "extra0",/,
    );
    expect(problems[1]?.message).toMatch(/\(12 in all, first 10 shown\)$/);
  });

  it("hints when homework keys are COCO image ids", () => {
    const problems = problemsOf(JSON.stringify({ "139": "x", "285": "y" }));
    expect(problems[1]?.message).toMatch(/these are COCO image ids/);
  });

  it("names non-string captions by image", () => {
    const problems = problemsOf(JSON.stringify({ "000000000139": 42, "000000000285": null }));
    expect(problems).toEqual([
      {
        path: "predictions/000000000139",
        message: 'caption of image "000000000139" must be a string, got number 42',
      },
      {
        path: "predictions/000000000285",
        message: 'caption of image "000000000285" must be a string, got null',
      },
    ]);
  });

  it("finds duplicate keys that JSON.parse hides", () => {
    const problems = problemsOf('{"000000000139": "a", "000000000285": "b", "000000000139": "c"}');
    expect(problems).toEqual([
      {
        path: "predictions/000000000139",
        message: expect.stringMatching(/^duplicate image name "000000000139"/),
      },
    ]);
  });

  it("finds duplicate ids in a COCO results list", () => {
    const problems = problemsOf(
      JSON.stringify([
        { image_id: 139, caption: "a" },
        { image_id: 285, caption: "b" },
        { image_id: 139, caption: "c" },
        { image_id: 285 },
      ]),
    );
    expect(problems).toEqual([
      {
        path: "predictions/2/image_id",
        message: expect.stringMatching(/duplicate image id "139", first at predictions\/0/),
      },
      {
        path: "predictions/3/image_id",
        message: expect.stringMatching(/duplicate image id "285"/),
      },
    ]);
  });

  it("rejects images without references and bad annotations together", () => {
    const broken = {
      images: [
        { id: 139, file_name: "000000000139.jpg" },
        { id: 285, file_name: "000000000285.jpg" },
        { id: 285, file_name: "other.jpg" },
        { id: 632 },
      ],
      annotations: [
        { image_id: 139, caption: ["not", "a", "string"] },
        "text",
        { caption: "no id" },
      ],
    };
    const problems = problemsOf(
      JSON.stringify({ "000000000139": "a", "000000000285": "b" }),
      JSON.stringify(broken),
    );
    expect(problems.map((problem) => problem.path)).toEqual([
      "references/images/2/id",
      "references/images/3/file_name",
      "references/annotations/0/caption",
      "references/annotations/1",
      "references/annotations/2/image_id",
      "references/images",
    ]);
    expect(problems[2]?.message).toBe(
      'caption of image "139" must be a string, got array ["not","a","string"]',
    );
    expect(problems[5]?.message).toBe(
      '2 image(s) have no reference captions: "000000000139", "000000000285"; every scored image needs at least one',
    );
  });

  it("notices swapped files", () => {
    const problems = problemsOf(referencesText);
    expect(problems[0]?.message).toMatch(/swapped/);
  });

  it("summarises all problems in the error message", () => {
    let message = "";
    try {
      parseEvaluationFiles("{", "{");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      "predictions: invalid JSON at line 1, column 2: unexpected end of input (and 1 more problems)",
    );
  });
});

describe("parseReferenceFile", () => {
  it("keys images by id", () => {
    const { images } = parseReferenceFile(referencesText);
    expect(images.map((image) => [image.key, image.references.length])).toEqual([
      ["139", 2],
      ["285", 1],
    ]);
  });

  it("rejects a missing annotations list", () => {
    expect(() => parseReferenceFile(JSON.stringify({ images: references.images }))).toThrow(
      /references\/annotations: missing/,
    );
  });
});
