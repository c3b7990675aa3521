// The tracker's public endpoints: the script and collect's CORS preflight (collect itself is a hot route, src/http/hot-routes.ts).
import { Elysia } from "elysia";
import { preflight } from "./collect.ts";
import { checkoutLinksAsset, serveAsset, trackerAsset, vitalsAsset } from "./script.ts";

export function trackingRoutes() {
  const tracker = trackerAsset();
  const vitals = vitalsAsset();
  const checkoutLinks = checkoutLinksAsset();
  return new Elysia()
    .get("/bantico.js", ({ request }) => serveAsset(tracker, request, "text/javascript; charset=utf-8"))
    .get("/bantico-vitals.js", ({ request }) => serveAsset(vitals, request, "text/javascript; charset=utf-8"))
    .get("/bantico-checkout.js", ({ request }) => serveAsset(checkoutLinks, request, "text/javascript; charset=utf-8"))
    .options("/api/collect", () => preflight());
}
