// Reads the bytes of an image that the host page shows, so the widget can post bytes and never a
// URL. Same-origin images and cross-origin images served with CORS headers can be read. Other
// cross-origin images cannot, because the browser hides their bytes from scripts.

export class HostImageError extends Error {
  override name = "HostImageError";
}

/**
 * Returns the URL of the `<img>` with this id, waiting for it to pick a source if it has none yet.
 */
export async function imageUrlForId(id: string, root: Document): Promise<string> {
  const element = root.getElementById(id);
  if (!(element instanceof HTMLImageElement)) {
    throw new HostImageError(
      `No <img> with id "${id}" on this page. Set the widget's \`for\` attribute to the id of an <img>.`,
    );
  }
  if (element.currentSrc || element.src) return element.currentSrc || element.src;

  await new Promise<void>((resolve) =>
    element.addEventListener("load", () => resolve(), { once: true }),
  );
  return element.currentSrc || element.src;
}

/** Fetches the image bytes, or throws HostImageError with the reason and the fix. */
export async function fetchHostImage(source: string, signal: AbortSignal): Promise<Blob> {
  const url = new URL(source, document.baseURI);
  const crossOrigin = url.origin !== location.origin;

  let response: Response;
  try {
    response = await fetch(url, { mode: "cors", credentials: "same-origin", signal });
  } catch (error) {
    if (signal.aborted) throw error;
    if (crossOrigin) {
      throw new HostImageError(
        `The image ${url.href} is on another origin (${url.origin}) that does not allow this page to read it (no CORS header), or it is unreachable. Serve it with Access-Control-Allow-Origin, or drop the file into the widget instead.`,
      );
    }
    throw new HostImageError(
      `The image ${url.href} could not be loaded: the network request failed.`,
    );
  }

  if (!response.ok) {
    throw new HostImageError(`The image ${url.href} could not be loaded: HTTP ${response.status}.`);
  }
  return response.blob();
}
