// Renders the caption as one button per displayed token, with a roving tabindex: Tab enters the row
// at one token, and the arrow keys, Home and End move between tokens.
import { mergeMaps } from "./heatmap.ts";
import type { CaptionToken } from "./response.ts";

/** A button's text and the attention it shows (averaged over the tokens it joins). */
export interface TokenGroup {
  text: string;
  attention: number[] | null;
  imageMass: number | null;
}

/**
 * Joins each token with empty text into the token before it. The attention schema gives tokens that
 * form one character the joined text on the first and "" on the rest.
 */
export function groupTokens(tokens: readonly CaptionToken[]): TokenGroup[] {
  const groups: { text: string; members: CaptionToken[] }[] = [];
  for (const token of tokens) {
    const last = groups[groups.length - 1];
    if (token.text === "" && last !== undefined) last.members.push(token);
    else groups.push({ text: token.text, members: [token] });
  }

  return groups.map(({ text, members }) => {
    const maps = members.flatMap((member) => (member.attention === null ? [] : [member.attention]));
    const masses = members.flatMap((member) =>
      member.imageMass === null ? [] : [member.imageMass],
    );
    return {
      text,
      attention: maps.length === members.length ? mergeMaps(maps) : null,
      imageMass:
        masses.length > 0 ? masses.reduce((sum, mass) => sum + mass, 0) / masses.length : null,
    };
  });
}

/** Fills `container` with the token buttons and returns them in caption order. */
export function renderTokenButtons(
  container: HTMLElement,
  groups: readonly TokenGroup[],
): HTMLButtonElement[] {
  container.replaceChildren();
  const buttons: HTMLButtonElement[] = [];

  groups.forEach((group, index) => {
    // GPT-2 tokens carry their leading space. It goes between the buttons, not inside one, and is
    // dropped before the first button, as the service trims it from the caption text.
    const word = group.text.trimStart();
    const space = group.text.slice(0, group.text.length - word.length);
    if (space !== "" && word !== "" && index > 0) container.append(document.createTextNode(space));

    const button = document.createElement("button");
    button.type = "button";
    button.className = "token";
    button.setAttribute("part", "token");
    button.dataset.index = String(index);
    button.tabIndex = index === 0 ? 0 : -1;
    button.textContent = word === "" ? group.text : word;
    container.append(button);
    buttons.push(button);
  });
  return buttons;
}

/** Returns the index that a navigation key moves to, or null for other keys. */
export function nextTokenIndex(key: string, current: number, count: number): number | null {
  switch (key) {
    case "ArrowRight":
    case "ArrowDown":
      return Math.min(count - 1, current + 1);
    case "ArrowLeft":
    case "ArrowUp":
      return Math.max(0, current - 1);
    case "Home":
      return 0;
    case "End":
      return count - 1;
    default:
      return null;
  }
}
