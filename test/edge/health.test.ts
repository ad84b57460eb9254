import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";

it("healthz returns ok", async () => {
  const response = await SELF.fetch("http://edgecap.test/healthz");
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ status: "ok", service: "edgecap" });
});

it("healthz carries security headers and a request id", async () => {
  const response = await SELF.fetch("http://edgecap.test/healthz");
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
  expect(response.headers.get("strict-transport-security")).toContain("max-age=");
  expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
});

it("unknown route returns problem+json 404", async () => {
  const response = await SELF.fetch("http://edgecap.test/v2/nothing");
  expect(response.status).toBe(404);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const body = (await response.json()) as { type: string; detail: string };
  expect(body.type).toBe("https://edgecap.dev/problems/not-found");
  expect(body.detail).toContain("/v2/nothing");
});
