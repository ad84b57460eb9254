import { defineConfig } from "astro/config";
export default defineConfig({ base: "/report", outDir: "./dist" });
