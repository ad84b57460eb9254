// <edgecap-caption> in headless Chromium, cross-origin: a host page on one loopback origin embeds
// the widget script from the edgecap service (`npm start`, wrangler dev) on another, and the widget
// posts image bytes to that service's POST /v1/captions. Screenshots go to test-results/widget/.
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OWNER_DATA_DIR, REPO_ROOT } from "../../helpers/paths.ts";
import {
  type EdgeService,
  type RunningServer,
  startEdgeService,
  startHostServer,
} from "./servers.ts";

const SCREENSHOTS = join(REPO_ROOT, "test-results/widget");
const SECOND_PHOTO = join(OWNER_DATA_DIR, "data/coco-mini/val2017/000000000802.jpg");
const HTML_CAPTION = "<img src=x onerror=alert(1)>";
// vitest's expect.poll gives up after 1 s by default, shorter than a caption takes on a busy
// machine. This bound only ends a wait; no assertion depends on how fast the widget is.
const POLL = { timeout: 90_000, interval: 100 };

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

let edge: EdgeService | undefined;
let host: RunningServer | undefined;
let stranger: RunningServer | undefined;
let context: BrowserContext | undefined;
let userDataDir: string | undefined;

function edgeOrigin(): string {
  if (edge === undefined) throw new Error("The edge service is not running.");
  return edge.origin;
}

beforeAll(async () => {
  // The host page's origin is allowed by the service; the stranger's origin serves the same page
  // but is not in ALLOWED_ORIGINS.
  host = await startHostServer(edgeOrigin);
  stranger = await startHostServer(edgeOrigin);
  edge = await startEdgeService([host.origin]);
  await edge.ready;

  await mkdir(SCREENSHOTS, { recursive: true });
  userDataDir = await mkdtemp(join(tmpdir(), "edgecap-widget-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1000, height: 800 },
  });
  // Playwright's own waits (actions, waitForResponse) default to 30 s. Use the same bound as POLL.
  context.setDefaultTimeout(POLL.timeout);
}, 300_000);

afterAll(async () => {
  await context?.close();
  await edge?.close();
  await host?.close();
  await stranger?.close();
  if (userDataDir !== undefined) await rm(userDataDir, { recursive: true, force: true });
});

interface PageEvents {
  dialogs: string[];
  errors: string[];
}

async function openHostPage(origin: string): Promise<{ page: Page; events: PageEvents }> {
  if (context === undefined) throw new Error("Chromium did not start.");
  const page = await context.newPage();
  const events: PageEvents = { dialogs: [], errors: [] };
  page.on("dialog", (dialog) => {
    events.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => events.errors.push(error.message));
  await page.goto(`${origin}/host.html`);

  // The host image widget posts as soon as the page loads. Waiting for its caption or error keeps
  // its response out of the next test step's waitForResponse.
  await expect
    .poll(async () => {
      const caption = await shadowText(page, "from-host", ".caption");
      const error = await shadowText(page, "from-host", ".error");
      return caption !== "" || error !== "";
    }, POLL)
    .toBe(true);
  return { page, events };
}

function isCaptionPost(url: string, method: string): boolean {
  return url === `${edgeOrigin()}/v1/captions` && method === "POST";
}

/**
 * A summary of the overlay canvas: whether it is shown, its size and placement, and a pixel hash.
 */
interface OverlayState {
  hidden: boolean;
  width: number;
  height: number;
  left: number;
  top: number;
  cssWidth: number;
  painted: number;
  hash: number;
}

function readOverlay(page: Page, widgetId: string): Promise<OverlayState> {
  return page.evaluate((id) => {
    const canvas = document.getElementById(id)?.shadowRoot?.querySelector("canvas");
    if (!canvas) throw new Error(`No overlay canvas in #${id}.`);
    const pixels = canvas.getContext("2d")?.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    // FNV-1a over the RGBA bytes: equal maps give equal hashes, different maps almost surely not.
    let hash = 0x811c9dc5;
    for (let i = 0; i < (pixels?.length ?? 0); i++) {
      const value = pixels?.[i] ?? 0;
      if (i % 4 === 3 && value > 0) painted++;
      hash = Math.imul(hash ^ value, 0x01000193) >>> 0;
    }
    return {
      hidden: canvas.hidden,
      width: canvas.width,
      height: canvas.height,
      left: Number.parseFloat(canvas.style.left),
      top: Number.parseFloat(canvas.style.top),
      cssWidth: Number.parseFloat(canvas.style.width),
      painted,
      hash,
    };
  }, widgetId);
}

function shadowText(page: Page, widgetId: string, selector: string): Promise<string> {
  return page.evaluate(
    ([id, query]) =>
      document
        .getElementById(id as string)
        ?.shadowRoot?.querySelector(query as string)
        ?.textContent?.trim() ?? "",
    [widgetId, selector],
  );
}

describe("<edgecap-caption> embedded from another origin", () => {
  it("captions the host image and draws attention per token", async () => {
    if (context === undefined) throw new Error("Chromium did not start.");
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const responsePromise = page.waitForResponse((response) =>
      isCaptionPost(response.url(), response.request().method()),
    );
    await page.goto(`${host?.origin}/host.html`);
    const response = await responsePromise;
    const body = await response.json();

    expect(response.status()).toBe(200);
    const request = response.request();
    expect(request.headers()["content-type"]).toMatch(/^multipart\/form-data/);

    const widget = page.locator("#from-host");
    const tokens = widget.locator("button.token");
    await expect.poll(() => tokens.count(), POLL).toBeGreaterThan(1);
    const captionText = await shadowText(page, "from-host", ".caption");
    expect(captionText).toBe(String(body.captions[0].text).trim());
    expect(await shadowText(page, "from-host", "[aria-live]")).toBe(
      `Caption: ${body.captions[0].text}`,
    );
    expect(await shadowText(page, "from-host", ".error")).toBe("");

    // Pick two tokens whose maps differ in the response, so their heatmaps must differ too.
    const maps: number[][] = body.attention.hypotheses[0].tokens.map(
      (token: { attention: number[] }) => token.attention,
    );
    const last = maps.length - 1;
    expect(JSON.stringify(maps[0])).not.toBe(JSON.stringify(maps[last]));

    await tokens.nth(0).hover();
    const first = await readOverlay(page, "from-host");
    expect(first.hidden).toBe(false);
    expect(first.painted).toBeGreaterThan(0);
    expect(await shadowText(page, "from-host", ".legend-label")).toMatch(
      /^[\d.]+% to [\d.]+% per patch/,
    );

    // The overlay covers the crop box scaled from original to displayed pixels.
    const displayedWidth = await widget.locator("img.image").evaluate((image) => image.clientWidth);
    const scale = displayedWidth / body.attention.image.width;
    expect(first.left).toBeCloseTo(body.attention.crop.left * scale, 1);
    expect(first.cssWidth).toBeCloseTo(body.attention.crop.width * scale, 1);
    await page.screenshot({ path: join(SCREENSHOTS, "hover-first-token.png") });

    await tokens.nth(last).hover();
    const lastHovered = await readOverlay(page, "from-host");
    expect(lastHovered.hidden).toBe(false);
    expect(lastHovered.hash).not.toBe(first.hash);

    // Keyboard: move the pointer away, focus a token, then step with the arrow keys.
    await page.mouse.move(0, 0);
    expect((await readOverlay(page, "from-host")).hidden).toBe(true);
    await tokens.nth(0).focus();
    const focusedFirst = await readOverlay(page, "from-host");
    expect(focusedFirst.hash).toBe(first.hash);
    await page.keyboard.press("End");
    const focusedIndex = await widget.evaluate(
      (element) => (element.shadowRoot?.activeElement as HTMLElement | null)?.dataset.index,
    );
    expect(focusedIndex).toBe(String((await tokens.count()) - 1));
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("ArrowRight");
    expect((await readOverlay(page, "from-host")).hash).toBe(lastHovered.hash);
    await page.keyboard.press("Home");
    expect((await readOverlay(page, "from-host")).hash).toBe(first.hash);
    await page.screenshot({ path: join(SCREENSHOTS, "keyboard-focus.png") });

    expect(dialogs).toEqual([]);
    await page.close();
  });

  it("captions a file the visitor chooses or drops", async () => {
    const { page, events } = await openHostPage(host?.origin as string);
    const widget = page.locator("#from-file");

    const chosen = page.waitForResponse((response) =>
      isCaptionPost(response.url(), response.request().method()),
    );
    await widget.locator("input[type=file]").setInputFiles(SECOND_PHOTO);
    const chosenBody = await (await chosen).json();
    await expect
      .poll(() => shadowText(page, "from-file", ".caption"), POLL)
      .toBe(String(chosenBody.captions[0].text).trim());
    await widget.screenshot({ path: join(SCREENSHOTS, "chosen-file.png") });

    // host.html styles this widget through ::part(caption) and --edgecap-accent.
    const captionWeight = await widget.evaluate((element) => {
      const caption = element.shadowRoot?.querySelector(".caption");
      return caption ? getComputedStyle(caption).fontWeight : "";
    });
    expect(captionWeight).toBe("600");
    const dropzoneBorder = await widget.evaluate((element) => {
      element.shadowRoot?.querySelector(".dropzone")?.classList.add("dragging");
      const dropzone = element.shadowRoot?.querySelector(".dropzone");
      return dropzone ? getComputedStyle(dropzone).borderTopColor : "";
    });
    expect(dropzoneBorder).toBe("rgb(10, 125, 79)");

    // A drop event with a DataTransfer built in the page, as a drag from the desktop delivers it.
    const dropped = page.waitForResponse((response) =>
      isCaptionPost(response.url(), response.request().method()),
    );
    const photo = [...(await readFile(SECOND_PHOTO))];
    const transfer = await page.evaluateHandle((bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], "dropped.jpg", { type: "image/jpeg" }));
      return data;
    }, photo);
    await widget.locator(".container").dispatchEvent("drop", { dataTransfer: transfer });
    const droppedBody = await (await dropped).json();
    expect(droppedBody.image.sha256).toBe(chosenBody.image.sha256);
    await expect.poll(() => widget.locator("button.token").count(), POLL).toBeGreaterThan(0);

    expect(events.errors).toEqual([]);
    await page.close();
  });

  it("renders an HTML-looking caption as text", async () => {
    if (context === undefined) throw new Error("Chromium did not start.");
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });

    // Rewrites the real service response: the demo model never writes markup.
    const pieces = ["<img", " src=x", " onerror=alert(1)>"];
    await page.route(`${edgeOrigin()}/v1/captions`, async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      const template = body.attention.hypotheses[0].tokens[0];
      body.captions[0].text = HTML_CAPTION;
      body.captions[0].tokens = pieces.map((text, index) => ({ id: index, text, logprob: -1 }));
      body.attention.hypotheses[0].caption = HTML_CAPTION;
      body.attention.hypotheses[0].tokens = pieces.map((text, index) => ({
        ...template,
        index,
        text,
      }));
      await route.fulfill({ response, json: body });
    });
    await page.goto(`${host?.origin}/host.html`);

    const widget = page.locator("#from-host");
    await expect.poll(() => shadowText(page, "from-host", ".caption"), POLL).toBe(HTML_CAPTION);
    expect(await widget.locator("button.token").allTextContents()).toEqual([
      "<img",
      "src=x",
      "onerror=alert(1)>",
    ]);
    const injectedImages = await widget.evaluate(
      (element) => element.shadowRoot?.querySelectorAll('img[src="x"], img[onerror]').length,
    );
    expect(injectedImages).toBe(0);

    await widget.locator("button.token").nth(0).hover();
    expect(await shadowText(page, "from-host", ".legend-label")).toContain('"<img"');
    await widget.screenshot({ path: join(SCREENSHOTS, "html-caption-as-text.png") });
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it("shows the problem detail of a rejected upload", async () => {
    const { page } = await openHostPage(host?.origin as string);
    const widget = page.locator("#from-file");

    const rejected = page.waitForResponse((response) =>
      isCaptionPost(response.url(), response.request().method()),
    );
    await widget.locator("input[type=file]").setInputFiles({
      name: "page.jpg",
      mimeType: "image/jpeg",
      buffer: Buffer.from("<!doctype html><html><body>not an image</body></html>"),
    });
    const response = await rejected;
    const problem = await response.json();

    expect(response.status()).toBeGreaterThanOrEqual(400);
    expect(response.headers()["content-type"]).toContain("application/problem+json");
    await expect
      .poll(() => shadowText(page, "from-file", ".error"), POLL)
      .toContain(problem.detail);
    expect(await shadowText(page, "from-file", ".error")).toContain(problem.title);
    await widget.screenshot({ path: join(SCREENSHOTS, "problem-detail.png") });
    await page.close();
  });

  it("cancels a running request when a new image arrives", async () => {
    const { page } = await openHostPage(host?.origin as string);
    await expect
      .poll(() => page.locator("#from-host button.token").count(), POLL)
      .toBeGreaterThan(0);
    const widget = page.locator("#from-file");

    // Holds the first upload in the browser until the second one has been sent.
    let seen = 0;
    let release = (): void => {};
    const firstRequestReleased = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(`${edgeOrigin()}/v1/captions`, async (route) => {
      seen++;
      if (seen === 1) await firstRequestReleased;
      await route.continue().catch(() => undefined);
    });
    const failed = page.waitForEvent("requestfailed", (request) =>
      isCaptionPost(request.url(), request.method()),
    );
    const completed = page.waitForResponse((response) =>
      isCaptionPost(response.url(), response.request().method()),
    );

    await widget
      .locator("input[type=file]")
      .setInputFiles(join(OWNER_DATA_DIR, "data/coco-mini/val2017/000000000139.jpg"));
    await expect.poll(() => seen, POLL).toBe(1);
    await widget.locator("input[type=file]").setInputFiles(SECOND_PHOTO);

    const cancelled = await failed;
    expect(cancelled.failure()?.errorText).toContain("ERR_ABORTED");
    const body = await (await completed).json();
    release();
    await expect
      .poll(() => shadowText(page, "from-file", ".caption"), POLL)
      .toBe(String(body.captions[0].text).trim());
    expect(await shadowText(page, "from-file", ".error")).toBe("");
    await page.close();
  });

  it("sends the decoding attributes", async () => {
    const { page } = await openHostPage(host?.origin as string);

    const captioned = page.waitForResponse((response) =>
      isCaptionPost(response.url(), response.request().method()),
    );
    await page.evaluate(() => {
      const widget = document.createElement("edgecap-caption");
      widget.id = "beams";
      widget.setAttribute("beams", "2");
      widget.setAttribute("max-tokens", "3");
      widget.setAttribute("src", "/photo.jpg");
      document.body.append(widget);
    });
    const body = await (await captioned).json();

    expect(body.strategy).toBe("beam_search");
    expect(body.captions[0].tokens.length).toBeLessThanOrEqual(3);
    await expect
      .poll(() => shadowText(page, "beams", ".caption"), POLL)
      .toBe(String(body.captions[0].text).trim());

    await page.evaluate(() => {
      const widget = document.getElementById("beams");
      widget?.setAttribute("beams", "two");
      widget?.setAttribute("src", "/photo.jpg?again");
    });
    await expect
      .poll(() => shadowText(page, "beams", ".error"), POLL)
      .toBe('The beams attribute must be a positive integer, got "two".');
    await page.close();
  });

  it("reports a host image that is cross-origin without CORS", async () => {
    const { page } = await openHostPage(host?.origin as string);
    const foreignPhoto = `${stranger?.origin}/photo.jpg`;

    await page.evaluate((src) => {
      const widget = document.createElement("edgecap-caption");
      widget.id = "foreign";
      widget.setAttribute("src", src);
      document.body.append(widget);
    }, foreignPhoto);

    await expect
      .poll(() => shadowText(page, "foreign", ".error"), POLL)
      .toContain(`The image ${foreignPhoto} is on another origin`);
    expect(await shadowText(page, "foreign", ".error")).toContain("Access-Control-Allow-Origin");
    await page.close();
  });

  it("shows an error on an origin the service does not allow", async () => {
    const { page } = await openHostPage(stranger?.origin as string);

    await expect
      .poll(() => shadowText(page, "from-host", ".error"), POLL)
      .toContain("ALLOWED_ORIGINS");
    expect(await shadowText(page, "from-host", ".error")).toContain(stranger?.origin as string);
    expect(await page.locator("#from-host button.token").count()).toBe(0);
    await page.locator("#from-host").screenshot({ path: join(SCREENSHOTS, "cors-rejected.png") });
    await page.close();
  });
});
