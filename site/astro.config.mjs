// Astro config of the report site. Build from the repository root with `astro build --root site`;
// the report data folder comes from EDGECAP_REPORT_DATA (see src/lib/data.ts).
import { defineConfig } from "astro/config";

export default defineConfig({
  // The Worker serves the built files as static assets under /report/, so every link and asset
  // URL carries this base.
  base: "/report",
  trailingSlash: "ignore",
  outDir: "./dist",
  build: {
    // report/configs/index.html rather than report/configs.html, so URLs end in a slash and a
    // static asset server needs no rewrite rules.
    format: "directory",
  },
});
