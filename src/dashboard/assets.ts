// Dashboard assets embedded in the executable: htmx 4, the stylesheet and a small client script,
// served under content-versioned URLs so browsers may cache them for a year.
import { Elysia } from "elysia";
import htmxPath from "htmx.org/dist/htmx.min.js" with { type: "file" };
import css from "../../static/dashboard.css" with { type: "text" };
import clientScript from "../../static/dashboard.js" with { type: "text" };

const version = (text: string) => Bun.hash(text).toString(36).slice(0, 10);

export const HTMX_VERSION = "4.0.1";

export const ASSET_URLS = {
  htmx: `/static/htmx-${HTMX_VERSION}.min.js`,
  css: `/static/dashboard-${version(css)}.css`,
  js: `/static/dashboard-${version(clientScript)}.js`,
} as const;

const IMMUTABLE = "public, max-age=31536000, immutable";

export function dashboardAssets() {
  return new Elysia()
    .get(ASSET_URLS.htmx, () => new Response(Bun.file(htmxPath), { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": IMMUTABLE } }))
    .get(ASSET_URLS.css, () => new Response(css, { headers: { "content-type": "text/css; charset=utf-8", "cache-control": IMMUTABLE } }))
    .get(ASSET_URLS.js, () => new Response(clientScript, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": IMMUTABLE } }));
}
