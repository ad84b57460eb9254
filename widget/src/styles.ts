// Shadow-root styles. Hosts restyle the widget through the --edgecap-* custom properties below and
// through the exported parts (container, dropzone, dropzone-text, file-input, figure, image,
// overlay, legend, legend-bar, legend-label, caption, token, status, error, announcer), which
// widget/README.md lists.
export const WIDGET_CSS = `
:host {
  display: block;
  font: var(--edgecap-font, 14px/1.4 system-ui, sans-serif);
  color: var(--edgecap-color, #1d1d1f);
  max-width: var(--edgecap-max-width, 40rem);
}
:host([hidden]) { display: none; }
.container {
  display: grid;
  /* minmax(0, 1fr) lets a large image shrink to the host's width instead of widening the column. */
  grid-template-columns: minmax(0, 1fr);
  gap: 0.5rem;
  padding: var(--edgecap-padding, 0.75rem);
  background: var(--edgecap-background, #fff);
  border: var(--edgecap-border, 1px solid #d0d0d7);
  border-radius: var(--edgecap-radius, 8px);
}
.dropzone {
  display: block;
  padding: 0.75rem;
  text-align: center;
  border: 2px dashed var(--edgecap-dropzone-border-color, #9a9aa5);
  border-radius: var(--edgecap-radius, 8px);
  cursor: pointer;
}
.dropzone.dragging {
  border-color: var(--edgecap-accent, #2f5bea);
  background: var(--edgecap-dropzone-active-background, #eef2ff);
}
.dropzone input { display: block; margin: 0.5rem auto 0; }
figure { position: relative; margin: 0; justify-self: start; line-height: 0; }
figure[hidden] { display: none; }
img {
  display: block;
  max-width: 100%;
  height: auto;
  border-radius: var(--edgecap-image-radius, 4px);
}
canvas {
  position: absolute;
  pointer-events: none;
  opacity: var(--edgecap-overlay-opacity, 0.85);
  mix-blend-mode: var(--edgecap-overlay-blend-mode, normal);
}
canvas[hidden] { display: none; }
/* The legend keeps its space while hidden, so hovering a token never moves the tokens. */
.legend { display: flex; align-items: center; gap: 0.5rem; font-size: 0.85em; min-height: 1.4em; }
.legend[hidden] { visibility: hidden; }
.legend-bar { flex: 0 0 8rem; height: 0.6rem; border-radius: 2px; }
/* One line at most, for the same reason: a wrapping label would change the legend's height. */
.legend-label { min-width: 0; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.caption { margin: 0; font-size: var(--edgecap-caption-font-size, 1.1em); white-space: pre-wrap; }
.token {
  font: inherit;
  color: inherit;
  margin: 0;
  padding: 0 0.1em;
  border: 0;
  border-radius: 3px;
  background: var(--edgecap-token-background, transparent);
  cursor: pointer;
}
.token:hover, .token:focus-visible, .token.active {
  background: var(--edgecap-token-active-background, #ffe8a3);
  outline: 2px solid var(--edgecap-accent, #2f5bea);
  outline-offset: 0;
}
.status {
  margin: 0;
  min-height: 1.2em;
  color: var(--edgecap-muted-color, #5c5c66);
  font-size: 0.9em;
}
.error { margin: 0; color: var(--edgecap-error-color, #b00020); }
.error:empty { display: none; }
.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip-path: inset(50%);
  white-space: nowrap;
}
`;
