// Dashboard assets embedded in the executable: htmx 4, the stylesheet and a small client script,
// served under content-versioned URLs (cacheable for a year) and gzipped for browsers that accept it.
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

type Bytes = Uint8Array<ArrayBuffer>;

interface Encoded {
  plain: Bytes;
  gzip: Bytes;
}

function encode(bytes: Bytes): Encoded {
  return { plain: bytes, gzip: Bun.gzipSync(bytes, { level: 9 }) };
}

/** One asset: compressed once (lazily for the embedded htmx file), then answered from memory. */
function asset(contentType: string, load: () => Promise<Bytes>) {
  let encoded: Promise<Encoded> | null = null;
  return async ({ request }: { request: Request }) => {
    encoded ??= load().then(encode);
    const { plain, gzip } = await encoded;
    const acceptsGzip = /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");
    const headers: Record<string, string> = { "content-type": contentType, "cache-control": IMMUTABLE, vary: "accept-encoding" };
    if (acceptsGzip) headers["content-encoding"] = "gzip";
    return new Response(acceptsGzip ? gzip : plain, { headers });
  };
}

export function dashboardAssets() {
  const javascript = "text/javascript; charset=utf-8";
  return new Elysia()
    .get(ASSET_URLS.htmx, asset(javascript, () => Bun.file(htmxPath).bytes()))
    .get(ASSET_URLS.css, asset("text/css; charset=utf-8", async () => new TextEncoder().encode(css)))
    .get(ASSET_URLS.js, asset(javascript, async () => new TextEncoder().encode(clientScript)));
}
