// Parses the JSON of `POST /v1/captions` into what the widget draws: the best caption, its tokens
// and, when the service returned `attention`, each token's map over the image (an
// `edgecap.attention/v1` document, docs/attention-schema.md). The checks are structural and small
// on purpose, because the bundle has a 15 KB gzipped budget and cannot carry zod.

/** One token of the caption as the widget shows it. */
export interface CaptionToken {
  text: string;
  /** Row-major attention over `grid`, summing to 1, or null when the response had no attention. */
  attention: number[] | null;
  /** Share of the token's attention row that fell on image patches, 0..1. */
  imageMass: number | null;
}

/** The crop box of the original image that the attention grid covers, in original pixels. */
export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface CaptionView {
  text: string;
  modelId: string;
  tokens: CaptionToken[];
  grid: { rows: number; cols: number } | null;
  crop: CropBox | null;
  /** Width and height of the original image, the coordinate system of `crop`. */
  imageSize: { width: number; height: number } | null;
}

/** Raised when a 2xx body does not have the caption response shape. */
export class ResponseShapeError extends Error {
  override name = "ResponseShapeError";
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readNumber(value: unknown, fallback: number | null): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function requireObject(value: unknown, path: string): Json {
  if (!isObject(value)) throw new ResponseShapeError(`Expected an object at ${path}.`);
  return value;
}

/** Reads the best hypothesis of an attention document, or returns null when it has none. */
function readAttention(document: unknown): {
  tokens: CaptionToken[];
  grid: { rows: number; cols: number };
  crop: CropBox;
  imageSize: { width: number; height: number };
} | null {
  if (!isObject(document) || document.schema !== "edgecap.attention/v1") return null;
  const grid = requireObject(document.grid, "attention.grid");
  const crop = requireObject(document.crop, "attention.crop");
  const image = requireObject(document.image, "attention.image");
  const hypotheses = document.hypotheses;
  if (!Array.isArray(hypotheses)) throw new ResponseShapeError("Expected attention.hypotheses.");

  const rows = readNumber(grid.rows, 0) ?? 0;
  const cols = readNumber(grid.cols, 0) ?? 0;
  const best = hypotheses.find((hypothesis) => isObject(hypothesis) && hypothesis.rank === 0);
  if (rows <= 0 || cols <= 0 || !isObject(best) || !Array.isArray(best.tokens)) return null;

  const tokens = best.tokens.map((raw, index): CaptionToken => {
    const token = requireObject(raw, `attention.hypotheses[0].tokens[${index}]`);
    const values = token.attention;
    if (!Array.isArray(values) || values.length !== rows * cols) {
      throw new ResponseShapeError(
        `Expected ${rows * cols} attention values for token ${index}, got ${Array.isArray(values) ? values.length : "none"}.`,
      );
    }
    return {
      text: typeof token.text === "string" ? token.text : "",
      attention: values.map((value) => readNumber(value, 0) ?? 0),
      imageMass: readNumber(token.image_mass, null),
    };
  });

  return {
    tokens,
    grid: { rows, cols },
    crop: {
      left: readNumber(crop.left, 0) ?? 0,
      top: readNumber(crop.top, 0) ?? 0,
      width: readNumber(crop.width, 0) ?? 0,
      height: readNumber(crop.height, 0) ?? 0,
    },
    imageSize: {
      width: readNumber(image.width, 0) ?? 0,
      height: readNumber(image.height, 0) ?? 0,
    },
  };
}

/**
 * Converts a caption response body into the view, or throws ResponseShapeError on a wrong shape.
 */
export function parseCaptionResponse(body: unknown): CaptionView {
  const root = requireObject(body, "the response root");
  const captions = root.captions;
  if (!Array.isArray(captions) || captions.length === 0) {
    throw new ResponseShapeError("Expected a non-empty `captions` array in the response.");
  }
  const best = requireObject(captions[0], "captions[0]");
  const text = typeof best.text === "string" ? best.text : "";
  const modelId = isObject(root.model) && typeof root.model.id === "string" ? root.model.id : "";

  const attention = readAttention(root.attention);
  if (attention !== null) return { text, modelId, ...attention };

  // Without attention the tokens still become buttons, so the caption reads the same either way.
  const rawTokens = Array.isArray(best.tokens) ? best.tokens : [];
  const tokens = rawTokens.map((raw) => ({
    text: isObject(raw) && typeof raw.text === "string" ? raw.text : "",
    attention: null,
    imageMass: null,
  }));
  return { text, modelId, tokens, grid: null, crop: null, imageSize: null };
}
