// Site-relative links. The site is served under a base path (`/report/` behind the Worker), so
// every internal link goes through `sitePath` instead of starting with a bare `/`.

/**
 * Joins the site's base path and a path inside the site. `base` is Astro's
 * `import.meta.env.BASE_URL`, with or without a trailing slash.
 */
export function sitePath(base: string, path: string): string {
  const head = base.endsWith("/") ? base : `${base}/`;
  const tail = path.startsWith("/") ? path.slice(1) : path;
  return `${head}${tail}`;
}

/**
 * Turns an id into one URL path segment: letters, digits, `.`, `_` and `-` stay, anything else
 * becomes `-`. Ids of models and images are already this shape in practice, but a model id such
 * as `org/name` must not add a folder level.
 */
export function slug(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[.-]+/, "");
  if (cleaned === "") throw new Error(`id ${JSON.stringify(id)} has no characters usable in a URL`);
  return cleaned;
}
