// Reads the image and the raw caption options from the three request forms:
//   multipart/form-data   field `image` (a file), options as further fields
//   application/json      {"image_base64": "...", ...options}
//   image/* raw body      the file itself, options as query parameters
// Options from form fields and query parameters arrive as text and are read as JSON values where
// they parse ("5" -> 5, "true" -> true), else kept as strings. The service never fetches an image
// from a URL, so `image_url` anywhere is rejected.
import { ProblemError } from "../problem.ts";

export interface ImageUpload {
  image: Uint8Array;
  options: Record<string, unknown>;
}

const IMAGE_URL_DETAIL =
  "image_url is not supported: this service never fetches images from URLs. Send the image bytes as a multipart field `image`, as a raw image body, or base64 in `image_base64`.";

function rejectImageUrl(options: Record<string, unknown>): void {
  if ("image_url" in options) {
    throw new ProblemError(400, "invalid-request", "Image URLs are not fetched", IMAGE_URL_DETAIL, [
      { path: "/image_url", message: "image URLs are not fetched; send the bytes" },
    ]);
  }
}

function textValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function decodeBase64(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, "");
  const withoutPrefix = compact.replace(/^data:[^,]*;base64,/, "");
  let binary: string;
  try {
    binary = atob(withoutPrefix);
  } catch {
    throw new ProblemError(
      400,
      "invalid-request",
      "Invalid base64",
      "image_base64 is not valid base64. Encode the file bytes with standard base64 (RFC 4648).",
      [{ path: "/image_base64", message: "not valid base64" }],
    );
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function readMultipart(request: Request): Promise<ImageUpload> {
  let form: FormData;
  try {
    form = await request.formData();
  } catch (error) {
    throw new ProblemError(
      400,
      "invalid-request",
      "Invalid multipart body",
      `The multipart/form-data body could not be parsed: ${error instanceof Error ? error.message : String(error)}.`,
    );
  }
  const options: Record<string, unknown> = {};
  let image: Uint8Array | null = null;
  for (const [name, value] of form.entries()) {
    if (name === "image") {
      image =
        typeof value === "string"
          ? new TextEncoder().encode(value)
          : new Uint8Array(await value.arrayBuffer());
    } else {
      options[name] = typeof value === "string" ? textValue(value) : value.name;
    }
  }
  rejectImageUrl(options);
  if (image === null) {
    throw new ProblemError(
      400,
      "invalid-request",
      "Image missing",
      "The multipart body has no `image` field. Send the file as a field named image.",
      [{ path: "/image", message: "missing" }],
    );
  }
  return { image, options };
}

async function readJson(request: Request, field: string): Promise<ImageUpload> {
  let body: unknown;
  try {
    body = await request.json();
  } catch (error) {
    throw new ProblemError(
      400,
      "invalid-json",
      "Invalid JSON",
      `The request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}.`,
    );
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ProblemError(
      400,
      "invalid-request",
      "Invalid request",
      `The JSON body must be an object with ${field}.`,
    );
  }
  const { [field]: encoded, ...options } = body as Record<string, unknown>;
  rejectImageUrl(options);
  if (typeof encoded !== "string") {
    throw new ProblemError(
      400,
      "invalid-request",
      "Image missing",
      `${field} is missing or not a string. Send the image file as base64 text in ${field}.`,
      [
        {
          path: `/${field}`,
          message: encoded === undefined ? "missing" : "must be a base64 string",
        },
      ],
    );
  }
  return { image: decodeBase64(encoded), options };
}

async function readRaw(request: Request): Promise<ImageUpload> {
  const options: Record<string, unknown> = {};
  for (const [name, value] of new URL(request.url).searchParams) options[name] = textValue(value);
  rejectImageUrl(options);
  return { image: new Uint8Array(await request.arrayBuffer()), options };
}

/** Reads the upload in whichever form the Content-Type names; 415 for any other type. */
export async function readImageUpload(request: Request): Promise<ImageUpload> {
  const contentType = (request.headers.get("content-type") ?? "").toLowerCase();
  if (contentType.startsWith("multipart/form-data")) return readMultipart(request);
  if (contentType.startsWith("application/json")) return readJson(request, "image_base64");
  if (contentType.startsWith("image/") || contentType.startsWith("application/octet-stream")) {
    return readRaw(request);
  }
  throw new ProblemError(
    415,
    "unsupported-media-type",
    "Unsupported Content-Type",
    `Content-Type ${JSON.stringify(contentType || "(none)")} is not accepted. Send multipart/form-data with an image field, application/json with image_base64, or the image itself with its image/* type.`,
  );
}
