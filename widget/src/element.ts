// The <edgecap-caption> custom element: takes an image (a host <img>, a `src` URL, a dropped or
// chosen file), posts its bytes to the edgecap service, shows the caption as token buttons and
// overlays the attention map of the hovered or focused token.
import { type CaptionOptions, CaptionRequestError, requestCaption } from "./api.ts";
import { buildWidgetTree, type WidgetNodes } from "./dom.ts";
import { drawHeatmap, legendGradient, placeOverlay } from "./heatmap.ts";
import { fetchHostImage, imageUrlForId } from "./host-image.ts";
import type { CaptionView } from "./response.ts";
import { groupTokens, nextTokenIndex, renderTokenButtons, type TokenGroup } from "./tokens.ts";

/** An invalid attribute value or dropped file. The message names the value and what is accepted. */
class AttributeError extends Error {
  override name = "AttributeError";
}

function readPositiveInteger(element: HTMLElement, name: string): number | null {
  const raw = element.getAttribute(name);
  if (raw === null || raw.trim() === "") return null;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new AttributeError(`The ${name} attribute must be a positive integer, got "${raw}".`);
  }
  return value;
}

/** Formats a share (0..1) as a percentage with two significant digits for small values. */
function percent(share: number): string {
  const value = share * 100;
  return `${value.toFixed(value < 1 ? 2 : value < 10 ? 1 : 0)}%`;
}

export class EdgecapCaptionElement extends HTMLElement {
  static observedAttributes = ["src", "for"];

  /** Origin that served the widget script, which index.ts reads from document.currentScript. */
  static defaultEndpoint = "";

  readonly #nodes: WidgetNodes;
  #controller: AbortController | null = null;
  #previewUrl: string | null = null;
  #view: CaptionView | null = null;
  #groups: TokenGroup[] = [];
  #buttons: HTMLButtonElement[] = [];
  #hovered: number | null = null;
  #focused: number | null = null;
  #hostCaptionQueued = false;

  constructor() {
    super();
    const root = this.attachShadow({ mode: "open" });
    this.#nodes = buildWidgetTree(root, legendGradient());
    this.#listen();
  }

  /** The last caption shown, or null before the first one. */
  get result(): CaptionView | null {
    return this.#view;
  }

  /** The edgecap origin requests go to: the `endpoint` attribute, else the script's origin. */
  get endpoint(): string {
    return (
      this.getAttribute("endpoint") || EdgecapCaptionElement.defaultEndpoint || location.origin
    );
  }

  connectedCallback(): void {
    this.#queueHostCaption();
  }

  disconnectedCallback(): void {
    this.#controller?.abort();
  }

  attributeChangedCallback(_name: string, previous: string | null, next: string | null): void {
    if (previous !== next) this.#queueHostCaption();
  }

  /** Captions the given image bytes, cancelling any request still running. */
  captionImage(image: Blob): Promise<void> {
    return this.#run(async () => image);
  }

  #queueHostCaption(): void {
    if (this.#hostCaptionQueued) return;
    this.#hostCaptionQueued = true;

    // Attribute callbacks fire one by one while the parser upgrades the element. Waiting a
    // microtask turns `src` and `for` set together into one request.
    queueMicrotask(() => {
      this.#hostCaptionQueued = false;
      const id = this.getAttribute("for");
      const src = this.getAttribute("src");
      if (!this.isConnected || (!id && !src)) return;
      void this.#run(async (signal) => {
        const url = id ? await imageUrlForId(id, document) : (src as string);
        return fetchHostImage(url, signal);
      });
    });
  }

  #options(): CaptionOptions {
    return {
      model: this.getAttribute("model") || null,
      beams: readPositiveInteger(this, "beams"),
      maxTokens: readPositiveInteger(this, "max-tokens"),
    };
  }

  async #run(load: (signal: AbortSignal) => Promise<Blob>): Promise<void> {
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const { status, error } = this.#nodes;
    error.textContent = "";
    status.textContent = "Reading the image…";
    this.setAttribute("aria-busy", "true");

    try {
      const options = this.#options();
      const image = await load(controller.signal);
      this.#showPreview(image);
      this.#showCaption(null);
      status.textContent = "Captioning…";

      const view = await requestCaption(this.endpoint, image, options, controller.signal);
      this.#showCaption(view);
      status.textContent = view.modelId ? `Captioned by ${view.modelId}.` : "Captioned.";
      this.dispatchEvent(
        new CustomEvent("edgecap-result", { detail: view, bubbles: true, composed: true }),
      );
    } catch (failure) {
      // A newer image replaced this one: its request owns the status now.
      if (controller.signal.aborted) return;
      this.#showError(failure);
    } finally {
      if (this.#controller === controller) this.removeAttribute("aria-busy");
    }
  }

  #showError(failure: unknown): void {
    const message =
      failure instanceof Error && failure.name !== "Error"
        ? failure.message
        : `The widget failed unexpectedly: ${String(failure)}`;
    this.#nodes.status.textContent = "";
    this.#nodes.error.textContent = message;
    const status = failure instanceof CaptionRequestError ? failure.status : null;
    this.dispatchEvent(
      new CustomEvent("edgecap-error", {
        detail: { message, status },
        bubbles: true,
        composed: true,
      }),
    );
  }

  #showPreview(image: Blob): void {
    if (this.#previewUrl !== null) URL.revokeObjectURL(this.#previewUrl);
    this.#previewUrl = URL.createObjectURL(image);
    this.#nodes.image.src = this.#previewUrl;
    this.#nodes.figure.hidden = false;
  }

  #showCaption(view: CaptionView | null): void {
    this.#view = view;
    this.#groups = view === null ? [] : groupTokens(view.tokens);
    this.#buttons = renderTokenButtons(this.#nodes.caption, this.#groups);
    this.#hovered = null;
    this.#focused = null;
    this.#nodes.image.alt = view?.text ?? "";
    this.#nodes.announcer.textContent = view === null ? "" : `Caption: ${view.text}`;
    this.#drawActiveToken();
  }

  /** Draws the hovered token, else the focused one, else hides the overlay and legend. */
  #drawActiveToken(): void {
    const { overlay, legend, image } = this.#nodes;
    const index = this.#hovered ?? this.#focused;
    this.#buttons.forEach((button, i) => {
      button.classList.toggle("active", i === index);
    });

    const view = this.#view;
    const group = index === null ? undefined : this.#groups[index];
    const ready = image.complete && image.naturalWidth > 0;
    if (!view?.grid || !view.crop || !view.imageSize || !group?.attention || !ready) {
      overlay.hidden = true;
      const missing = view !== null && view.grid === null && index !== null;
      legend.hidden = !missing;
      if (missing) this.#setLegendLabel("This response has no attention maps.");
      return;
    }

    const size = placeOverlay(overlay, {
      imageSize: view.imageSize,
      crop: view.crop,
      displayed: { width: image.clientWidth, height: image.clientHeight },
    });
    const scale = drawHeatmap(overlay, view.grid, group.attention, size);
    overlay.hidden = false;
    legend.hidden = false;
    const mass =
      group.imageMass === null
        ? ""
        : `; ${percent(group.imageMass)} of its attention is on the image`;
    this.#setLegendLabel(
      `${percent(scale.min)} to ${percent(scale.max)} per patch for "${group.text.trim()}"${mass}`,
    );
  }

  #setLegendLabel(text: string): void {
    // The label is cut to one line, so the full text also goes into the tooltip.
    this.#nodes.legendLabel.textContent = text;
    this.#nodes.legendLabel.title = text;
  }

  #tokenIndex(target: EventTarget | null): number | null {
    if (!(target instanceof HTMLButtonElement) || target.dataset.index === undefined) return null;
    return Number(target.dataset.index);
  }

  #listen(): void {
    const { caption, fileInput, dropzone, container, image } = this.#nodes;

    caption.addEventListener("pointerover", (event) => {
      this.#hovered = this.#tokenIndex(event.target);
      this.#drawActiveToken();
    });
    caption.addEventListener("pointerleave", () => {
      this.#hovered = null;
      this.#drawActiveToken();
    });
    caption.addEventListener("focusin", (event) => {
      const index = this.#tokenIndex(event.target);
      this.#focused = index;
      this.#buttons.forEach((button, i) => {
        button.tabIndex = i === index ? 0 : -1;
      });
      this.#drawActiveToken();
    });
    caption.addEventListener("focusout", (event) => {
      if (this.#tokenIndex(event.relatedTarget) === null) this.#focused = null;
      this.#drawActiveToken();
    });
    caption.addEventListener("keydown", (event) => {
      const current = this.#tokenIndex(event.target);
      if (current === null) return;
      const next = nextTokenIndex(event.key, current, this.#buttons.length);
      if (next === null) return;
      event.preventDefault();
      this.#buttons[next]?.focus();
    });

    fileInput.addEventListener("change", () => {
      const file = fileInput.files?.[0];
      fileInput.value = "";
      if (file !== undefined) void this.captionImage(file);
    });

    container.addEventListener("dragover", (event) => {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
    container.addEventListener("dragleave", () => dropzone.classList.remove("dragging"));
    container.addEventListener("drop", (event) => {
      event.preventDefault();
      dropzone.classList.remove("dragging");
      const file = event.dataTransfer?.files[0];
      if (file === undefined) return;
      if (file.type !== "" && !file.type.startsWith("image/")) {
        this.#showError(
          new AttributeError(`The dropped file "${file.name}" is ${file.type}, not an image.`),
        );
        return;
      }
      void this.captionImage(file);
    });

    // Redraw when the preview loads or its laid-out size changes, since the overlay is placed in
    // displayed pixels.
    image.addEventListener("load", () => this.#drawActiveToken());
    // Bytes the browser cannot decode leave no broken-image box, and the service's error explains
    // them.
    image.addEventListener("error", () => {
      this.#nodes.figure.hidden = true;
    });
    new ResizeObserver(() => this.#drawActiveToken()).observe(image);
  }
}
