// The tracker's public endpoints: the script and its collect endpoint.
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { collect, preflight } from "./collect.ts";
import { serveAsset, trackerAsset, vitalsAsset } from "./script.ts";

export function trackingRoutes(ctx: AppContext) {
  const tracker = trackerAsset();
  const vitals = vitalsAsset();
  return new Elysia()
    .get("/bantico.js", ({ request }) => serveAsset(tracker, request, "text/javascript; charset=utf-8"))
    .get("/bantico-vitals.js", ({ request }) => serveAsset(vitals, request, "text/javascript; charset=utf-8"))
    .options("/api/collect", () => preflight())
    .post("/api/collect", ({ request }) => collect(ctx, request), { parse: "none" });
}
