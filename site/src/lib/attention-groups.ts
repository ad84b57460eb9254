// Grouping of the attention entries for the gallery: one page per dataset, model and image, with
// every config that dumped attention for that pair.
import type { AttentionEntry, SiteData } from "./data.ts";

export interface AttentionGroup {
  key: string;
  entries: AttentionEntry[];
}

/** Groups entries by dataset, model and image, in the report's order. */
export function groupAttention(data: SiteData): AttentionGroup[] {
  const groups = new Map<string, AttentionEntry[]>();
  for (const entry of data.attention) {
    const key = `${entry.dataset.id}/${entry.model.id}/${entry.image.id}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [entry]);
    else group.push(entry);
  }
  return [...groups].map(([key, entries]) => ({ key, entries }));
}

/** Returns the index of the token with the largest share of attention on the image (0 for no tokens). */
export function tokenWithMaxImageMass(tokens: readonly { image_mass: number }[]): number {
  let best = 0;
  tokens.forEach((token, index) => {
    if (token.image_mass > (tokens[best]?.image_mass ?? 0)) best = index;
  });
  return best;
}

/** Finds the attention entry of one caption, if the report has one. */
export function findAttention(
  data: SiteData,
  dataset: string,
  model: string,
  config: string,
  image: string,
): AttentionEntry | undefined {
  return data.attention.find(
    (entry) =>
      entry.dataset.id === dataset &&
      entry.model.id === model &&
      entry.config.id === config &&
      entry.image.id === image,
  );
}
