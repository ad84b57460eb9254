import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two projects: `node` runs the runtime-agnostic code and the CLI under Node; `edge` runs the Hono
// app inside workerd through the Workers Vitest integration, with the bindings of wrangler.toml.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          testTimeout: 120_000,
        },
      },
      {
        // The API key is a test value: the edge tests check the 401 and 403 responses against it.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: { EDGECAP_API_KEY: "edge-test-api-key" } },
          }),
        ],
        test: {
          name: "edge",
          include: ["test/edge/**/*.test.ts"],
          testTimeout: 120_000,
        },
      },
    ],
  },
});
