// Client script of TokenExplorer.astro: draws the chosen token's attention map on the canvas with
// the site's colour scale and keeps the token buttons, the legend and the live region in step.
import { colourPixels, colourTable } from "../lib/colour.ts";
import { formatPercent } from "../lib/format.ts";
import { maxValue, normaliseToMax } from "../lib/normalise.ts";
import { upsampleBilinear } from "../lib/upsample.ts";

interface TokenMaps {
  grid: { rows: number; cols: number };
  tokens: { label: string; imageMass: number; attention: number[] }[];
}

// Most opaque a map pixel gets (of 255), so the photo stays visible under the brightest patch.
const MAX_ALPHA = 200;

/** Wires every explorer on the page; an explorer with unreadable data stays hidden. */
export function startTokenExplorers(): void {
  const table = colourTable();
  for (const root of document.querySelectorAll<HTMLElement>("[data-token-explorer]")) {
    const source = root.querySelector("script[data-token-maps]");
    const canvas = root.querySelector<HTMLCanvasElement>("canvas[data-heatmap-canvas]");
    if (source?.textContent == null || canvas === null) continue;
    const maps = JSON.parse(source.textContent) as TokenMaps;
    startExplorer(root, canvas, maps, table);
    root.hidden = false;
  }
}

function startExplorer(
  root: HTMLElement,
  canvas: HTMLCanvasElement,
  maps: TokenMaps,
  table: Uint8Array,
): void {
  const buttons = [...root.querySelectorAll<HTMLButtonElement>("button[data-token]")];
  const status = root.querySelector<HTMLElement>("[data-token-status]");
  const maxLabel = root.querySelector<HTMLElement>("[data-legend-max]");
  const context = canvas.getContext("2d");
  if (context === null) return;

  const select = (index: number, focus: boolean): void => {
    const token = maps.tokens[index];
    const button = buttons[index];
    if (token === undefined || button === undefined) return;

    const values = upsampleBilinear(
      normaliseToMax(token.attention),
      maps.grid,
      canvas.width,
      canvas.height,
    );
    const pixels = colourPixels(values, table, MAX_ALPHA);
    context.putImageData(new ImageData(pixels, canvas.width, canvas.height), 0, 0);
    canvas.dataset.token = String(index);

    buttons.forEach((other, i) => {
      other.setAttribute("aria-pressed", i === index ? "true" : "false");
      other.tabIndex = i === index ? 0 : -1;
    });
    if (focus) button.focus();

    const peak = maxValue(token.attention);
    if (maxLabel !== null) maxLabel.textContent = `${formatPercent(peak)} of the map (peak patch)`;
    if (status !== null) {
      status.textContent = `Token ${index + 1} of ${maps.tokens.length}, "${token.label}": ${formatPercent(token.imageMass)} of its attention on the image; its most attended patch holds ${formatPercent(peak)} of that.`;
    }
  };

  buttons.forEach((button, index) => {
    button.addEventListener("click", () => select(index, false));
    button.addEventListener("keydown", (event) => {
      const last = buttons.length - 1;
      const next: Record<string, number> = {
        ArrowRight: Math.min(last, index + 1),
        ArrowDown: Math.min(last, index + 1),
        ArrowLeft: Math.max(0, index - 1),
        ArrowUp: Math.max(0, index - 1),
        Home: 0,
        End: last,
      };
      const target = next[event.key];
      if (target === undefined) return;
      event.preventDefault();
      select(target, true);
    });
  });

  select(0, false);
}
