// Client script of the per-image explorer: reveals the filter form, applies the filter from the
// URL (the distributions page's bar links) and from the form, and announces the row count.
import {
  type ExplorerFilter,
  matchesFilter,
  parseExplorerQuery,
  splitWords,
} from "../lib/explorer-filter.ts";

const METRIC_LABELS: Record<string, string> = { cider_d: "CIDEr-D", clip_score: "CLIPScore" };

/** Wires the explorer's form and table; does nothing on a page without them. */
export function startImageExplorer(): void {
  const form = document.querySelector<HTMLFormElement>("[data-explorer-form]");
  const table = document.querySelector<HTMLTableElement>("[data-explorer-table]");
  const status = document.querySelector<HTMLElement>("[data-explorer-status]");
  if (form === null || table === null) return;

  const search = form.querySelector<HTMLInputElement>("input[name='q']");
  const run = form.querySelector<HTMLSelectElement>("select[name='run']");
  const rangeBox = form.querySelector<HTMLElement>("[data-explorer-range]");
  const rangeText = form.querySelector<HTMLElement>("[data-explorer-range-text]");
  const clearRange = form.querySelector<HTMLButtonElement>("[data-explorer-clear-range]");
  const rows = [...(table.tBodies[0]?.rows ?? [])].map((element) => ({
    element,
    values: {
      text: element.dataset.text ?? "",
      run: element.dataset.run ?? "",
      scores: {
        cider_d: readScore(element.dataset.cider_d),
        clip_score: readScore(element.dataset.clip_score),
      },
    },
  }));

  const filter: ExplorerFilter = parseExplorerQuery(window.location.search);
  if (search !== null) search.value = filter.words.join(" ");
  if (run !== null && [...run.options].some((option) => option.value === filter.run))
    run.value = filter.run;

  const apply = (): void => {
    let visibleCount = 0;
    for (const row of rows) {
      const match = matchesFilter(row.values, filter);
      row.element.hidden = !match;
      if (match) visibleCount++;
    }
    if (rangeBox !== null && rangeText !== null) {
      rangeBox.hidden = filter.range === null;
      if (filter.range !== null) {
        const { metric, min, max, includeMax } = filter.range;
        rangeText.textContent = `${METRIC_LABELS[metric] ?? metric} from ${min.toFixed(2)} to ${max.toFixed(2)}${includeMax ? " inclusive" : ""}.`;
      }
    }
    if (status !== null) status.textContent = `Showing ${visibleCount} of ${rows.length} captions.`;
  };

  search?.addEventListener("input", () => {
    filter.words = splitWords(search.value);
    apply();
  });
  run?.addEventListener("change", () => {
    filter.run = run.value;
    apply();
  });
  clearRange?.addEventListener("click", () => {
    filter.range = null;
    apply();
    search?.focus();
  });
  form.addEventListener("submit", (event) => event.preventDefault());

  form.hidden = false;
  apply();
}

function readScore(text: string | undefined): number | null {
  if (text === undefined || text === "") return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}
