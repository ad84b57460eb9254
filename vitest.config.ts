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
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: {
          name: "edge",
          include: ["test/edge/**/*.test.ts"],
          testTimeout: 120_000,
        },
      },
    ],
  },
});
