// The tracker's public endpoints: the script and its collect endpoint.
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { collect, preflight } from "./collect.ts";
import { serveAsset, trackerAsset } from "./script.ts";

export function trackingRoutes(ctx: AppContext) {
  const tracker = trackerAsset();
  return new Elysia()
    .get("/bantico.js", ({ request }) => serveAsset(tracker, request, "text/javascript; charset=utf-8"))
    .options("/api/collect", () => preflight())
    .post("/api/collect", ({ request }) => collect(ctx, request), { parse: "none" });
}
