// Builds the widget's shadow tree with createElement and textContent only, so no string from the
// page, the visitor or the model is ever parsed as HTML.
import { WIDGET_CSS } from "./styles.ts";

/** Creates an element with a class, an exported part name and optional text. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  name: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = name;
  node.setAttribute("part", name);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The nodes that the element updates after building the tree once. */
export interface WidgetNodes {
  container: HTMLDivElement;
  dropzone: HTMLLabelElement;
  fileInput: HTMLInputElement;
  figure: HTMLElement;
  image: HTMLImageElement;
  overlay: HTMLCanvasElement;
  legend: HTMLDivElement;
  legendBar: HTMLSpanElement;
  legendLabel: HTMLSpanElement;
  caption: HTMLDivElement;
  status: HTMLParagraphElement;
  error: HTMLParagraphElement;
  announcer: HTMLParagraphElement;
}

export function buildWidgetTree(root: ShadowRoot, legendBackground: string): WidgetNodes {
  const style = document.createElement("style");
  style.textContent = WIDGET_CSS;

  const container = element("div", "container");
  const dropzone = element("label", "dropzone");
  const fileInput = element("input", "file-input");
  fileInput.type = "file";
  fileInput.accept = "image/*";
  dropzone.append(
    element("span", "dropzone-text", "Drop an image here or choose a file"),
    fileInput,
  );

  const figure = element("figure", "figure");
  figure.hidden = true;
  const image = element("img", "image");
  image.alt = "";
  const overlay = element("canvas", "overlay");
  overlay.hidden = true;
  overlay.setAttribute("aria-hidden", "true");
  figure.append(image, overlay);

  const legend = element("div", "legend");
  legend.hidden = true;
  const legendBar = element("span", "legend-bar");
  legendBar.style.background = legendBackground;
  const legendLabel = element("span", "legend-label");
  legend.append(legendBar, legendLabel);

  const caption = element("div", "caption");
  caption.setAttribute("role", "toolbar");
  caption.setAttribute("aria-label", "Caption tokens: arrow keys move between tokens");

  const status = element("p", "status");
  const error = element("p", "error");
  error.setAttribute("role", "alert");

  // Announces each new caption once as a sentence. The visible caption is a row of buttons, which
  // screen readers would otherwise read one token at a time.
  const announcer = element("p", "announcer");
  announcer.classList.add("visually-hidden");
  announcer.setAttribute("aria-live", "polite");

  container.append(dropzone, figure, legend, caption, status, error, announcer);
  root.append(style, container);
  return {
    container,
    dropzone,
    fileInput,
    figure,
    image,
    overlay,
    legend,
    legendBar,
    legendLabel,
    caption,
    status,
    error,
    announcer,
  };
}
