// GET /bantico.js (and its lazily loaded web vitals and checkout links add-ons): embedded in the executable, minified
// and compressed once at startup.
import { brotliCompressSync, constants } from "node:zlib";
import trackerSource from "../../static/bantico.js" with { type: "text" };
import vitalsSource from "../../static/bantico-vitals.js" with { type: "text" };
import checkoutLinksSource from "../../static/bantico-checkout.js" with { type: "text" };

export interface CompressedAsset {
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer>;
  brotli: Uint8Array<ArrayBuffer>;
  etag: string;
}

export function minifyScript(source: string): string {
  // `minify` (identifiers too) is accepted by Bun 1.4 though its types only list minifyWhitespace.
  const options = { loader: "js", minifyWhitespace: true, minify: { whitespace: true, identifiers: true, syntax: true } };
  const transpiler = new Bun.Transpiler(options as Bun.TranspilerOptions);
  return transpiler.transformSync(source).trim();
}

export function compressAsset(text: string): CompressedAsset {
  const body = new TextEncoder().encode(text);
  return {
    body,
    gzip: new Uint8Array(Bun.gzipSync(body, { level: 9 })),
    brotli: new Uint8Array(brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })),
    etag: `"${new Bun.CryptoHasher("sha256").update(body).digest("base64url").slice(0, 22)}"`,
  };
}

let tracker: CompressedAsset | null = null;
let vitals: CompressedAsset | null = null;
let checkoutLinks: CompressedAsset | null = null;

/** The core tracker as served; built on first use. */
export function trackerAsset(): CompressedAsset {
  return (tracker ??= compressAsset(minifyScript(trackerSource)));
}

export function vitalsAsset(): CompressedAsset {
  return (vitals ??= compressAsset(minifyScript(vitalsSource)));
}

export function checkoutLinksAsset(): CompressedAsset {
  return (checkoutLinks ??= compressAsset(minifyScript(checkoutLinksSource)));
}

/** Answers with brotli or gzip when accepted, and 304 when the client's copy is current. */
export function serveAsset(asset: CompressedAsset, request: Request, contentType: string): Response {
  const headers: Record<string, string> = {
    "content-type": contentType,
    // Short, so a new release reaches sites within the hour; revalidation is a cheap 304.
    "cache-control": "public, max-age=3600, stale-while-revalidate=86400",
    etag: asset.etag,
    vary: "Accept-Encoding",
    "access-control-allow-origin": "*",
    "cross-origin-resource-policy": "cross-origin",
  };
  const ifNoneMatch = request.headers.get("if-none-match");
  if (ifNoneMatch && ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === asset.etag)) {
    return new Response(null, { status: 304, headers });
  }
  const accepted = request.headers.get("accept-encoding") ?? "";
  if (/\bbr\b/.test(accepted)) return new Response(asset.brotli, { headers: { ...headers, "content-encoding": "br" } });
  if (/\bgzip\b/.test(accepted)) return new Response(asset.gzip, { headers: { ...headers, "content-encoding": "gzip" } });
  return new Response(asset.body, { headers });
}
