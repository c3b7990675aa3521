// Stores one tracker hit: picks the visitor, continues or starts the session (30 min idle, first
// attribution context kept), links clicks and profiles, then records the event(s) with their rollups.
import type { Database } from "bun:sqlite";
import {
  contextFromColumns,
  contextValues,
  EMPTY_CONTEXT,
  isEmptyContext,
  sameContext,
  type AttributionContext,
  type ContextColumns,
} from "./attribution-context.ts";
import { bumpRollup, recordEvent } from "./events.ts";
import { noteWrite } from "../reports/writes.ts";
import { identifyProfile, profileIdOfVisitor, type IdentifyInput, type IdentifyTrust } from "./profiles.ts";
import { prepared, timeOrderedId } from "./statements.ts";
import type { UserAgentClass } from "./user-agent.ts";

export const SESSION_IDLE_MS = 30 * 60_000;
// A session's last_seen_at is rewritten only once it is this far behind: rewriting it on every hit
// dirtied a random page per hit. Only a visit coming back right at the 30-minute mark then needs the
// visitor's latest event to tell whether the session is still live.
const LAST_SEEN_STEP_MS = 60_000;

/** What a landing URL and referrer say about where the visitor came from. */
export interface Landing {
  clickId: string | null;
  utm: { source: string | null; medium: string | null; campaign: string | null; content: string | null };
  /** The referring host when it is another site, else null. */
  referrerHost: string | null;
}

export interface Hit {
  projectId: string;
  ts: number;
  name: string;
  path: string;
  props: Record<string, unknown> | null;
  /** The persisted visitor id, or the cookieless ids (today's salt first, then yesterday's). */
  visitorIds: string[];
  sessionHint: string | null;
  landing: Landing;
  agent: UserAgentClass;
  country: string | null;
  isPricingPage: boolean;
  identify: (IdentifyInput & { trust: IdentifyTrust }) | null;
}

export interface StoredHit {
  visitorId: string;
  sessionId: string;
  profileId: string | null;
  context: AttributionContext;
}

interface SessionRow extends ContextColumns {
  id: string;
  visitor_id: string;
  last_seen_at: number;
}

// CAST: see BOUND_FOR_ORDER_BY in statements.ts.
const LIVE_SESSION = `SELECT id, visitor_id, last_seen_at, link_id, campaign_id, source, medium, content, lead_id FROM sessions
  WHERE project_id = CAST(? AS TEXT) AND visitor_id = CAST(? AS TEXT) AND last_seen_at >= ? ORDER BY started_at DESC LIMIT 1`;

const HINTED_SESSION = `SELECT id, visitor_id, last_seen_at, link_id, campaign_id, source, medium, content, lead_id FROM sessions
  WHERE id = ? AND project_id = ? AND visitor_id = ? AND last_seen_at >= ?`;

const ACTIVE_SINCE = "SELECT 1 AS yes FROM events WHERE project_id = ? AND visitor_id = ? AND ts >= ? LIMIT 1";

const CREATE_SESSION = `INSERT INTO sessions (id, project_id, visitor_id, started_at, last_seen_at, click_id, link_id, campaign_id, source,
  medium, content, lead_id, referrer_host, entry_path, browser, os, device, country) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const ADOPT_CONTEXT = `UPDATE sessions SET click_id = ?, link_id = ?, campaign_id = ?, source = ?, medium = ?, content = ?, lead_id = ?,
  last_seen_at = ? WHERE id = ?`;

const CLICK_CONTEXT = `SELECT c.link_id, l.campaign_id, l.source, l.medium, l.content, l.lead_id, c.visitor_id, c.ts FROM clicks c
  LEFT JOIN links l ON l.id = c.link_id WHERE c.id = ? AND c.project_id = ?`;

/** A tracked click a landing names: its id, and the visitor and time it was recorded with. */
interface LandedClick {
  id: string;
  visitorId: string | null;
  ts: number;
}

/** The context a landing carries explicitly: the tracked link's, else the utm_* parameters; and the click it names, when found. */
export function landingContext(db: Database, projectId: string, landing: Landing): { context: AttributionContext; click: LandedClick | null } {
  if (landing.clickId) {
    const click = prepared<ContextColumns & { visitor_id: string | null; ts: number }, [string, string]>(db, CLICK_CONTEXT).get(landing.clickId, projectId);
    if (click) return { context: contextFromColumns(click), click: { id: landing.clickId, visitorId: click.visitor_id, ts: click.ts } };
  }
  const { utm } = landing;
  return {
    context: { linkId: null, campaignId: utm.campaign, source: utm.source, medium: utm.medium, content: utm.content, leadId: null },
    click: null,
  };
}

function findLiveSession(db: Database, hit: Hit): SessionRow | null {
  const since = hit.ts - SESSION_IDLE_MS;
  // Sessions whose recorded last_seen_at may lag their last hit by up to a step.
  const candidatesSince = since - LAST_SEEN_STEP_MS;
  const live = (row: SessionRow | null) =>
    row && (row.last_seen_at >= since || prepared(db, ACTIVE_SINCE).get(hit.projectId, row.visitor_id, since) !== null) ? row : null;
  if (hit.sessionHint) {
    const hinted = live(prepared<SessionRow, [string, string, string, number]>(db, HINTED_SESSION).get(hit.sessionHint, hit.projectId, hit.visitorIds[0]!, candidatesSince));
    if (hinted) return hinted;
  }
  for (const visitorId of hit.visitorIds) {
    const found = live(prepared<SessionRow, [string, string, number]>(db, LIVE_SESSION).get(hit.projectId, visitorId, candidatesSince));
    if (found) return found;
  }
  return null;
}

function startSession(db: Database, hit: Hit, visitorId: string, clickId: string | null, context: AttributionContext): string {
  const sessionId = `ses_${timeOrderedId(hit.ts)}`;
  prepared(db, CREATE_SESSION).run(
    sessionId,
    hit.projectId,
    visitorId,
    hit.ts,
    hit.ts,
    clickId,
    ...contextValues(context),
    hit.landing.referrerHost,
    hit.path,
    hit.agent.browser,
    hit.agent.os,
    hit.agent.device,
    hit.country,
  );
  bumpRollup(db, hit.projectId, hit.ts, context, { sessions: 1 });
  return sessionId;
}

/** Call inside a write. */
export function storeHit(db: Database, hit: Hit): StoredHit {
  const live = findLiveSession(db, hit);
  const visitorId = live?.visitor_id ?? hit.visitorIds[0]!;
  const landing = landingContext(db, hit.projectId, hit.landing);
  const clickId = landing.click?.id ?? null;
  const incoming = landing.context;

  let sessionId: string;
  let context: AttributionContext;
  const liveContext = live ? contextFromColumns(live) : EMPTY_CONTEXT;
  if (!live || (!isEmptyContext(incoming) && !isEmptyContext(liveContext) && !sameContext(incoming, liveContext))) {
    // A new tracked click or campaign mid-session starts a new session, so each session keeps one context.
    context = isEmptyContext(incoming) && hit.landing.referrerHost ? { ...EMPTY_CONTEXT, source: hit.landing.referrerHost } : incoming;
    sessionId = startSession(db, hit, visitorId, clickId, context);
  } else if (!isEmptyContext(incoming) && isEmptyContext(liveContext)) {
    context = incoming;
    sessionId = live.id;
    prepared(db, ADOPT_CONTEXT).run(clickId, ...contextValues(context), hit.ts, sessionId);
  } else {
    context = liveContext;
    sessionId = live.id;
    if (hit.ts - live.last_seen_at >= LAST_SEEN_STEP_MS) prepared(db, "UPDATE sessions SET last_seen_at = ? WHERE id = ?").run(hit.ts, sessionId);
  }

  if (landing.click) attachClickToVisitor(db, hit.projectId, landing.click, visitorId);

  const profileId = hit.identify
    ? identifyProfile(db, hit.projectId, hit.identify, visitorId, hit.ts, hit.identify.trust).id
    : profileIdOfVisitor(db, hit.projectId, visitorId);

  const event = { projectId: hit.projectId, ts: hit.ts, visitorId, sessionId, profileId, path: hit.path, context };
  recordEvent(db, { ...event, name: hit.name, props: hit.props });
  if (hit.name === "page_view" && hit.isPricingPage) recordEvent(db, { ...event, name: "pricing_view" });
  return { visitorId, sessionId, profileId, context };
}

/** The click was recorded with the cookieless id of the moment; the landing page knows the real visitor. */
function attachClickToVisitor(db: Database, projectId: string, click: LandedClick, visitorId: string): void {
  if (click.visitorId === visitorId) return;
  prepared(db, "UPDATE clicks SET visitor_id = ? WHERE id = ?").run(visitorId, click.id);
  if (click.visitorId) {
    prepared(db, "UPDATE events SET visitor_id = ? WHERE project_id = ? AND visitor_id = ? AND ts = ? AND name = 'link_clicked'").run(
      visitorId,
      projectId,
      click.visitorId,
      click.ts,
    );
    noteWrite(db, projectId, click.ts);
  }
}
