// zod schemas shared by the OpenAPI document of several routes: the problem+json error and the
// standard error responses.
import { z } from "@hono/zod-openapi";
import { PROBLEM_CONTENT_TYPE } from "./problem.ts";

export const problemSchema = z
  .object({
    type: z.string().openapi({ example: "https://edgecap.dev/problems/validation-failed" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().openapi({ example: "urn:edgecap:request:7f0c..." }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: "Every invalid value, as a JSON Pointer into the request." }),
  })
  .openapi("Problem");

function problem(description: string) {
  return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } } };
}

/** Error responses that every POST route can return. */
export const COMMON_ERRORS = {
  400: problem("Invalid request: the errors list names each invalid value."),
  413: problem("Body above EDGECAP_MAX_BODY_BYTES, or too many items."),
  415: problem("Unsupported Content-Type or image type."),
  429: problem("Rate limit exceeded; Retry-After gives the seconds to wait."),
  500: problem("Internal error; quote the instance id."),
} as const;

export { problem as problemResponse };
