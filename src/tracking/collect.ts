// POST /api/collect: the tracker's events, through a pipeline of named steps that each may stop the event.
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { ApiError, badRequest, errorResponse } from "../http/errors.ts";
import { cachedProjectByToken, getProjectByToken, type Project } from "../projects/service.ts";
import { blankToNull } from "./attribution-context.ts";
import { countryOfIp } from "./ip-country.ts";
import { storeHit, visitorLock, type Hit, type Landing, type StoredHit } from "./journey.ts";
import { noteTrackerHost } from "./tracker-hosts.ts";
import { eventNameSchema, propsSchema, scriptIdentifySchema } from "./model.ts";
import { identifyHashValid } from "./identify-signature.ts";
import { pricingPathMatcher } from "./pricing-pattern.ts";
import { classifyUserAgent, detectBot } from "./user-agent.ts";
import { cachedSalts, cookielessVisitorIds, loadSalts, VISITOR_ID_PATTERN, type Salts } from "./visitors.ts";

export const MAX_COLLECT_BYTES = 32 * 1024;

export const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-allow-headers": "content-type",
  "access-control-max-age": "86400",
};

const hitSchema = z.object({
  t: z.string().min(1).max(100),
  n: eventNameSchema,
  u: z.url({ protocol: /^https?$/ }).max(4096),
  r: z.string().max(4096).nullish(),
  p: propsSchema.nullish(),
  v: z.string().regex(VISITOR_ID_PATTERN).nullish(),
  s: z.string().max(64).nullish(),
  i: scriptIdentifySchema.optional(),
});

type ParsedHit = z.infer<typeof hitSchema>;

/** The whole pipeline; the handler reads as its table of contents. */
export async function collect(ctx: AppContext, request: Request): Promise<Response> {
  try {
    const body = await readBody(request);
    const hit = parseHit(body);
    const project = cachedProjectByToken(ctx.storage, hit.t) ?? (await resolveProject(ctx, hit.t));
    const pageUrl = checkHostname(project, hit.u);
    const identify = checkIdentifyHash(project, hit.i, ctx.now());
    const bot = detectBot(request);
    if (bot) return answer(202, { dropped: bot });
    const now = ctx.now();
    const salts = hit.v ? null : (cachedSalts(ctx.storage, now) ?? (await loadSalts(ctx.storage, now)));
    const visit = describeHit(ctx, request, project, hit, pageUrl, identify, now, salts);
    const stored = await ctx.writes.job(function* (tx) {
      const hitStored = yield* storeHit(tx, visit);
      yield* noteTrackerHost(tx, project.id, pageUrl.hostname, Boolean(hit.v), visit.ts);
      return hitStored;
    }, { locks: [visitorLock(visit)] });
    return answer(200, sessionAnswer(stored));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const response = errorResponse(error.httpStatus, error.code, error.message);
    for (const [name, value] of Object.entries(CORS_HEADERS)) response.headers.set(name, value);
    return response;
  }
}

/** Everything the journey needs, derived from the request: user-agent class, visitor ids, landing context, pricing page. */
/** `salts`: the cookieless id's, null when the tracker sent its own id. */
function describeHit(ctx: AppContext, request: Request, project: Project, hit: ParsedHit, pageUrl: URL, identify: Hit["identify"], now: number, salts: Salts | null): Hit {
  const userAgent = request.headers.get("user-agent") ?? "";
  // Resolved at most once, and only when a cookieless id or the country needs it (a proxy's country header and a tracker's id need none).
  let ip: string | null | undefined;
  const clientIp = () => (ip === undefined ? (ip = ctx.clientIp(request)) : ip);
  return {
    projectId: project.id,
    ts: now,
    name: hit.n,
    path: pageUrl.pathname,
    props: hit.p ?? null,
    visitorIds: salts ? cookielessVisitorIds(salts, project.id, clientIp(), userAgent) : [hit.v!],
    sessionHint: hit.v ? (hit.s ?? null) : null,
    landing: readLanding(pageUrl, hit.r, project),
    agent: classifyUserAgent(userAgent),
    country: countryOf(ctx, request, clientIp),
    isPricingPage: pricingPathMatcher(project.pricingPathPattern)(pageUrl.pathname),
    identify,
  };
}

/** An identify with a valid hash is trusted, one without is unsigned; a wrong hash is refused and changes nothing (SPEC §3). */
function checkIdentifyHash(project: Project, identify: ParsedHit["i"], now: number): Hit["identify"] {
  if (!identify) return null;
  const { hash, ...input } = identify;
  if (!hash) return { ...input, trust: "unsigned" };
  if (!identifyHashValid(project, input.id, hash, now)) {
    throw new ApiError(403, "invalid_identify_hash", "hash is not the HMAC-SHA256 of this id with the project's identify secret");
  }
  return { ...input, trust: "trusted" };
}

/** What `bantico.context()` returns: the ids a site puts into checkout metadata ('' where unknown). */
function sessionAnswer(stored: StoredHit) {
  const { context } = stored;
  return {
    visitorId: stored.visitorId,
    sessionId: stored.sessionId,
    linkId: context.linkId ?? "",
    campaignId: context.campaignId ?? "",
    source: context.source ?? "",
    medium: context.medium ?? "",
    content: context.content ?? "",
    leadId: context.leadId ?? "",
  };
}

export function preflight(): Response {
  return new Response(null, { status: 204, headers: CORS_HEADERS });
}

function answer(status: number, body: unknown): Response {
  return Response.json(body, { status, headers: { ...CORS_HEADERS, "cache-control": "no-store" } });
}

const utf8 = new TextDecoder();

/** text/plain (sendBeacon, no preflight) and application/json alike; more than 32 KB is refused unread. */
async function readBody(request: Request): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_COLLECT_BYTES) throw tooLarge();
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length > MAX_COLLECT_BYTES) throw tooLarge();
  return utf8.decode(bytes);
}

const tooLarge = () => new ApiError(413, "payload_too_large", `the body is larger than ${MAX_COLLECT_BYTES} bytes`);

function parseHit(body: string): ParsedHit {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw badRequest("the body is not valid JSON", "invalid_json");
  }
  const parsed = hitSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badRequest(`${issue.path.join(".") || "body"}: ${issue.message}`, "invalid_event");
  }
  return parsed.data;
}

async function resolveProject(ctx: AppContext, token: string): Promise<Project> {
  const project = await getProjectByToken(ctx.storage, token);
  if (!project) throw new ApiError(403, "unknown_token", "no project has this token");
  return project;
}

/** Allowed hostnames: exact names, or "*.example.com" for its subdomains; none listed allows any. */
export function hostnameAllowed(allowed: readonly string[], hostname: string): boolean {
  if (allowed.length === 0) return true;
  const host = hostname.toLowerCase();
  return allowed.some((entry) => {
    const rule = entry.trim().toLowerCase();
    return rule.startsWith("*.") ? host === rule.slice(2) || host.endsWith(rule.slice(1)) : host === rule;
  });
}

function checkHostname(project: Project, pageUrl: string): URL {
  const url = new URL(pageUrl);
  if (!hostnameAllowed(project.allowedHostnames, url.hostname)) {
    throw new ApiError(403, "hostname_not_allowed", `${url.hostname} is not among the project's allowed hostnames`);
  }
  return url;
}

/** bt_click and utm_* from the landing URL; the referring host when it is another site. */
export function readLanding(pageUrl: URL, referrer: string | null | undefined, project: Pick<Project, "allowedHostnames">): Landing {
  const query = pageUrl.searchParams;
  const clickId = blankToNull(query.get("bt_click"));
  return {
    clickId: clickId && /^[A-Za-z0-9_-]{1,64}$/.test(clickId) ? clickId : null,
    utm: {
      source: blankToNull(query.get("utm_source")?.slice(0, 200)),
      medium: blankToNull(query.get("utm_medium")?.slice(0, 200)),
      campaign: blankToNull(query.get("utm_campaign")?.slice(0, 100)),
      content: blankToNull(query.get("utm_content")?.slice(0, 200)),
    },
    referrerHost: externalReferrerHost(referrer, pageUrl.hostname, project.allowedHostnames),
  };
}

function externalReferrerHost(referrer: string | null | undefined, pageHost: string, allowed: readonly string[]): string | null {
  if (!referrer) return null;
  let host: string;
  try {
    const url = new URL(referrer);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    host = url.hostname.toLowerCase().replace(/^www\./, "");
  } catch {
    return null;
  }
  const own = pageHost.toLowerCase().replace(/^www\./, "");
  if (host === own || (allowed.length > 0 && hostnameAllowed(allowed, host))) return null;
  return host;
}

/**
 * The visitor's country: a trusted proxy's header wins, else the embedded IP-to-country database
 * looked up with the request's client IP (`clientIp`: the caller's, resolved at most once per request). The IP is not kept.
 */
export function countryOf(ctx: AppContext, request: Request, clientIp: () => string | null): string | null {
  const fromProxy = proxyCountryOf(ctx, request);
  if (fromProxy !== null) return fromProxy;
  const ip = clientIp();
  return ip === null ? null : countryOfIp(ip);
}

/** A country header is believed only from a trusted proxy in front of us (e.g. Cloudflare's CF-IPCountry). */
function proxyCountryOf(ctx: AppContext, request: Request): string | null {
  if (ctx.config.trustedProxies.length === 0) return null;
  const country = (request.headers.get("cf-ipcountry") ?? request.headers.get("x-country-code") ?? "").toUpperCase();
  return /^[A-Z]{2}$/.test(country) && country !== "XX" && country !== "T1" ? country : null;
}
