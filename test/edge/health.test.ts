import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";

it("healthz returns ok", async () => {
  const response = await SELF.fetch("http://edgecap.test/healthz");
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ status: "ok" });
});
