// Browser tests of the report site: built from the fixture data, served on loopback and visited in
// headless Chromium through playwright-core. Screenshots go to test-results/site/.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../helpers/paths.ts";
import { buildSite, listPages, SITE_BASE, type StaticServer, serveFolder } from "./site-harness.ts";

const FIXTURE = join(REPO_ROOT, "test/fixtures/report");
const SCREENSHOTS = join(REPO_ROOT, "test-results/site");
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
/** JavaScript a page may load, gzipped. */
const PAGE_JS_BUDGET_BYTES = 100 * 1024;
const LLAVA_PAGE = `${SITE_BASE}attention/llava-sample/synthetic-llava-fixture/synthetic-000001/`;
const COCO_PAGE = `${SITE_BASE}attention/coco-val-sample/demo-lora-r16/000000000139/`;

let outDir: string;
let server: StaticServer;
let context: BrowserContext;
let profiles: string[] = [];
const pageJsBytes = new Map<string, number>();

async function launch(options: { javaScriptEnabled: boolean }): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), "edgecap-chromium-"));
  profiles.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1200, height: 900 },
    javaScriptEnabled: options.javaScriptEnabled,
  });
}

function screenshotName(path: string): string {
  const name = path
    .slice(SITE_BASE.length)
    .replace(/\/$/, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_");
  return `${name === "" ? "index" : name}.png`;
}

interface Visit {
  page: Page;
  problems: string[];
  scriptBytes: number;
}

/** Opens a page and records console errors, page errors, failed requests and the gzipped script size. */
async function visit(path: string): Promise<Visit> {
  const page = await context.newPage();
  const problems: string[] = [];
  const scripts: Promise<number>[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) =>
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`),
  );
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    if (response.request().resourceType() === "script") {
      scripts.push(response.body().then((body) => gzipSync(body).length));
    }
  });

  await page.goto(`${server.origin}${path}`, { waitUntil: "networkidle" });
  // Lazy images below the fold would otherwise never be requested, hiding a broken image link.
  await page.$$eval("img[loading='lazy']", (images) => {
    for (const image of images) (image as HTMLImageElement).loading = "eager";
  });
  await page.waitForLoadState("networkidle");
  const inline = await page.$$eval("script:not([src])", (elements) =>
    elements
      .filter((element) =>
        ["", "module", "text/javascript"].includes(element.getAttribute("type") ?? ""),
      )
      .map((element) => element.textContent ?? ""),
  );
  const external = (await Promise.all(scripts)).reduce((total, bytes) => total + bytes, 0);
  const inlineBytes = inline.reduce((total, text) => total + gzipSync(text).length, 0);
  return { page, problems, scriptBytes: external + inlineBytes };
}

async function canvasState(page: Page): Promise<{ pixels: string; token: string | undefined }> {
  return page.$eval("[data-token-explorer] canvas", (canvas) => ({
    pixels: (canvas as HTMLCanvasElement).toDataURL(),
    token: (canvas as HTMLCanvasElement).dataset.token,
  }));
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}; install it with scripts/setup-test-deps.sh (Debian package chromium)`,
    );
  }
  outDir = buildSite(FIXTURE);
  server = await serveFolder(outDir);
  context = await launch({ javaScriptEnabled: true });
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  for (const folder of [outDir, ...profiles])
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  profiles = [];
  if (pageJsBytes.size > 0) {
    console.log(
      `gzipped JavaScript per page (bytes): ${JSON.stringify(Object.fromEntries(pageJsBytes))}`,
    );
  }
});

describe("report site", () => {
  it("builds every section", () => {
    const pages = listPages(outDir);
    for (const section of [
      "",
      "configs/",
      "variants/",
      "attention/",
      "clipscore/",
      "distributions/",
      "images/",
    ]) {
      expect(pages).toContain(`${SITE_BASE}${section}`);
    }
    expect(pages).toContain(LLAVA_PAGE);
  });

  it("loads every page without errors", async () => {
    const problemsByPage: Record<string, string[]> = {};
    const links = new Set<string>();
    for (const path of listPages(outDir)) {
      const { page, problems, scriptBytes } = await visit(path);
      pageJsBytes.set(path, scriptBytes);
      // getAttribute, because the histogram bars are SVG anchors, whose `href` property is no string.
      for (const href of await page.$$eval("a[href]", (anchors) =>
        anchors.map((a) => a.getAttribute("href") ?? ""),
      )) {
        links.add(new URL(href, page.url()).href.split("#")[0] as string);
      }
      await page.screenshot({ path: join(SCREENSHOTS, screenshotName(path)), fullPage: true });
      await page.close();
      if (problems.length > 0) problemsByPage[path] = problems;
    }
    expect(problemsByPage).toEqual({});

    const broken: string[] = [];
    for (const link of links) {
      if (!link.startsWith(server.origin)) continue;
      const response = await fetch(link);
      if (response.status !== 200) broken.push(`${response.status} ${link}`);
    }
    expect(broken).toEqual([]);
  });

  it("keeps every page within the JavaScript budget", async () => {
    if (pageJsBytes.size === 0) {
      for (const path of listPages(outDir)) {
        const { page, scriptBytes } = await visit(path);
        pageJsBytes.set(path, scriptBytes);
        await page.close();
      }
    }
    for (const [path, bytes] of pageJsBytes) {
      expect(bytes, path).toBeLessThanOrEqual(PAGE_JS_BUDGET_BYTES);
    }
  });

  it("gives every image a text alternative", async () => {
    for (const path of [`${SITE_BASE}configs/`, `${SITE_BASE}clipscore/`, COCO_PAGE]) {
      const { page } = await visit(path);
      const missing = await page.$$eval("img", (images) =>
        images
          .filter((image) => !image.hasAttribute("alt"))
          .map((image) => image.getAttribute("src")),
      );
      const photosWithoutText = await page.$$eval("img:not(.overlay)", (images) =>
        images
          .filter((image) => (image.getAttribute("alt") ?? "").trim() === "")
          .map((image) => image.getAttribute("src")),
      );
      await page.close();
      expect(missing, path).toEqual([]);
      expect(photosWithoutText, path).toEqual([]);
    }
  });

  it("puts the skip link first", async () => {
    const { page } = await visit(`${SITE_BASE}configs/`);
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
    await page.keyboard.press("Enter");
    const hash = await page.evaluate(() => window.location.hash);
    await page.close();
    expect(focused).toBe("Skip to content");
    expect(hash).toBe("#main");
  });

  it("states the demo models' training on COCO pages", async () => {
    for (const path of [`${SITE_BASE}configs/`, COCO_PAGE, `${SITE_BASE}clipscore/`]) {
      const { page } = await visit(path);
      const text = await page.textContent("main");
      await page.close();
      expect(text, path).toContain("trained only on the synthetic demo domain");
    }
  });

  it("labels the LLaVA sample synthetic", async () => {
    const { page } = await visit(LLAVA_PAGE);
    const notice = await page.textContent("aside[aria-label='Synthetic data']");
    await page.close();
    expect(notice).toContain("synthetic");
  });

  it("tables the recorded training runs", async () => {
    const { page } = await visit(`${SITE_BASE}variants/`);
    const section = page.locator("section[aria-labelledby='training-runs']");
    const heading = await section.locator("h2").textContent();
    const sourceNote = await section.locator("p").first().textContent();
    const table = section.locator("table");
    const caption = await table.locator("caption").textContent();
    const headers = await table.locator("thead th").allTextContents();
    const rows = await table
      .locator("tbody tr")
      .evaluateAll((elements) =>
        elements.map((row) => [...row.children].map((cell) => cell.textContent?.trim() ?? "")),
      );
    const shipped = await table.locator("tbody tr.shipped th").allTextContents();
    await page.close();

    expect(heading).toBe("Recorded training runs");
    expect(sourceNote).toContain("models/logs/metrics.json");
    expect(sourceNote).toContain("does not re-measure them");
    expect(caption).toBe("Captioner training runs in models/logs/metrics.json");
    expect(headers).toContain("CIDEr-D (test split, greedy)");
    expect(headers).toContain("CIDEr-D as exported");
    expect(rows.map((row) => row[0]?.split(/\s/)[0])).toEqual([
      "lora-r4",
      "lora-r8",
      "lora-r16",
      "lora-r16-long",
    ]);
    expect(shipped).toHaveLength(3);
    expect(shipped[2]).toContain("shipped as Demo ViT + GPT-2, LoRA r=16 (synthetic)");

    const column = (header: string): number => headers.indexOf(header);
    const longRun = rows[3] ?? [];
    expect(longRun[column("Continued from")]).toBe("lora-r16");
    expect(longRun[column("Trainable parameters")]).toBe("2,290,176");
    expect(longRun[column("Grounding")]).toBe("22.6 %");
    expect(longRun[column("Hallucinated / kind words")]).toBe("341 / 563");
    expect(longRun[column("CIDEr-D as exported")]).toBe("—");
    expect(rows[0]?.[column("Continued from")]).toBe("—");
    expect(rows[1]?.[column("Continued from")]).toBe("none");
    expect(rows[2]?.[column("CIDEr-D (test split, greedy)")]).toBe("1.103");
    expect(rows[2]?.[column("CIDEr-D as exported")]).toBe("1.098");
  });
});

describe("token view", () => {
  for (const path of [LLAVA_PAGE, COCO_PAGE]) {
    it(`changes the heatmap on click (${path.split("/").slice(-3, -1).join("/")})`, async () => {
      const { page } = await visit(path);
      const before = await canvasState(page);
      const buttons = page
        .locator("[data-token-explorer] button[data-token]")
        .first()
        .locator("xpath=..")
        .locator("button");
      await buttons.nth(1).click();
      const after = await canvasState(page);
      const pressed = await buttons.nth(1).getAttribute("aria-pressed");
      const status = await page.textContent("[data-token-status]");
      await page.screenshot({
        path: join(SCREENSHOTS, `token-click-${screenshotName(path)}`),
        fullPage: false,
      });
      await page.close();

      expect(before.token).toBe("0");
      expect(after.token).toBe("1");
      expect(after.pixels).not.toBe(before.pixels);
      expect(pressed).toBe("true");
      expect(status).toMatch(/^Token 2 of \d+/);
    });
  }

  it("reaches the token buttons by keyboard", async () => {
    const { page } = await visit(LLAVA_PAGE);
    let reached = false;
    for (let step = 0; step < 60 && !reached; step++) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(
        () => document.activeElement?.matches("[data-token-explorer] button[data-token]") ?? false,
      );
    }
    const before = await canvasState(page);
    await page.keyboard.press("ArrowRight");
    const afterArrow = await canvasState(page);
    const focusedToken = await page.evaluate(
      () => (document.activeElement as HTMLElement | null)?.dataset.token,
    );
    await page.keyboard.press("End");
    const afterEnd = await canvasState(page);
    const tokenCount = await page
      .locator("[data-token-explorer]")
      .first()
      .locator("button[data-token]")
      .count();
    await page.close();

    expect(reached).toBe(true);
    expect(afterArrow.token).toBe("1");
    expect(focusedToken).toBe("1");
    expect(afterArrow.pixels).not.toBe(before.pixels);
    expect(afterEnd.token).toBe(String(tokenCount - 1));
  });
});

describe("per-image explorer", () => {
  it("filters rows by search text", async () => {
    const { page } = await visit(`${SITE_BASE}images/`);
    const total = await page.locator("[data-explorer-table] tbody tr").count();
    await page.fill("#explorer-search", "purple star");
    const visible = await page.locator("[data-explorer-table] tbody tr:visible").count();
    const status = await page.textContent("[data-explorer-status]");
    await page.close();

    expect(visible).toBeGreaterThan(0);
    expect(visible).toBeLessThan(total);
    expect(status).toBe(`Showing ${visible} of ${total} captions.`);
  });

  it("applies a histogram bar's range", async () => {
    const { page: distributions } = await visit(`${SITE_BASE}distributions/`);
    const bar = distributions.locator("figure a").first();
    const label = (await bar.getAttribute("aria-label")) ?? "";
    await bar.click();
    await distributions.waitForURL(/images\/\?/);
    const visible = await distributions.locator("[data-explorer-table] tbody tr:visible").count();
    const range = await distributions.textContent("[data-explorer-range-text]");
    await distributions.close();

    const expected = Number(/: (\d+) images?$/.exec(label)?.[1]);
    expect(visible).toBe(expected);
    expect(range).toMatch(/from \d+\.\d\d to \d+\.\d\d/);
  });

  it("shows every row without JavaScript", async () => {
    const noScript = await launch({ javaScriptEnabled: false });
    const page = await noScript.newPage();
    await page.goto(`${server.origin}${SITE_BASE}images/`);
    const rows = await page.locator("[data-explorer-table] tbody tr").count();
    const visible = await page.locator("[data-explorer-table] tbody tr:visible").count();
    const formHidden = await page.locator("[data-explorer-form]").isHidden();
    await page.goto(`${server.origin}${COCO_PAGE}`);
    const gridMaps = await page.locator("ol img.overlay").count();
    await page.screenshot({
      path: join(SCREENSHOTS, "no-javascript-attention.png"),
      fullPage: true,
    });
    await noScript.close();

    expect(rows).toBeGreaterThan(0);
    expect(visible).toBe(rows);
    expect(formHidden).toBe(true);
    expect(gridMaps).toBeGreaterThan(0);
  });
});
