// Static endpoint: one PNG heatmap per token of every hypothesis in the report's attention dumps,
// at maps/<dataset>/<model>/<config>/<image>/<rank>-<token>.png.
import type { APIRoute, GetStaticPaths } from "astro";
import { loadSiteData } from "../../../../../../lib/data.ts";
import { renderHeatmapPng } from "../../../../../../lib/heatmap-png.ts";
import { slug } from "../../../../../../lib/paths.ts";

export const getStaticPaths = (() => {
  const data = loadSiteData();
  return data.attention.flatMap((entry) =>
    entry.document.hypotheses.flatMap((hypothesis) =>
      hypothesis.tokens.map((token, index) => ({
        params: {
          dataset: slug(entry.dataset.id),
          model: slug(entry.model.id),
          config: slug(entry.config.id),
          image: slug(entry.image.id),
          map: `${hypothesis.rank}-${index}`,
        },
        props: { attention: token.attention, grid: entry.document.grid, crop: entry.document.crop },
      })),
    ),
  );
}) satisfies GetStaticPaths;

export const GET: APIRoute = ({ props }) => {
  const { attention, grid, crop } = props as {
    attention: number[];
    grid: { rows: number; cols: number };
    crop: { left: number; top: number; width: number; height: number };
  };
  return new Response(renderHeatmapPng(attention, grid, crop), {
    headers: { "Content-Type": "image/png" },
  });
};
