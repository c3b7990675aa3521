// Stores one tracker hit: picks the visitor, continues or starts the session (30 min idle, first
// attribution context kept), links clicks and profiles, then records the event(s) with their rollups.
// A write job: the same code on SQLite and PostgreSQL.
import { answered, type JobSteps, type JobTx } from "../db/storage/jobs.ts";
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
import { timeOrderedId } from "./statements.ts";
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
export function landingContext(tx: JobTx, projectId: string, landing: Landing): JobSteps<{ context: AttributionContext; click: LandedClick | null }> {
  // Most hits name no click: no query, and no generator for one.
  return landing.clickId ? landedClick(tx, projectId, landing, landing.clickId) : answered(utmLanding(landing));
}

function* landedClick(tx: JobTx, projectId: string, landing: Landing, clickId: string): JobSteps<{ context: AttributionContext; click: LandedClick | null }> {
  const click = yield* tx.get<ContextColumns & { visitor_id: string | null; ts: number }>(CLICK_CONTEXT, [clickId, projectId]);
  return click ? { context: contextFromColumns(click), click: { id: clickId, visitorId: click.visitor_id, ts: click.ts } } : utmLanding(landing);
}

function utmLanding({ utm }: Landing): { context: AttributionContext; click: null } {
  return {
    context: { linkId: null, campaignId: utm.campaign, source: utm.source, medium: utm.medium, content: utm.content, leadId: null },
    click: null,
  };
}

function* findLiveSession(tx: JobTx, hit: Hit): JobSteps<SessionRow | null> {
  const since = hit.ts - SESSION_IDLE_MS;
  // Sessions whose recorded last_seen_at may lag their last hit by up to a step.
  const candidatesSince = since - LAST_SEEN_STEP_MS;
  if (hit.sessionHint) {
    const hinted = yield* stillLive(tx, hit, since, yield* tx.get<SessionRow>(HINTED_SESSION, [hit.sessionHint, hit.projectId, hit.visitorIds[0]!, candidatesSince]));
    if (hinted) return hinted;
  }
  for (const visitorId of hit.visitorIds) {
    const found = yield* stillLive(tx, hit, since, yield* tx.get<SessionRow>(LIVE_SESSION, [hit.projectId, visitorId, candidatesSince]));
    if (found) return found;
  }
  return null;
}

/** The session, if it is live at `since`: its last_seen_at says so, or, when that lags, the visitor's latest event. */
function stillLive(tx: JobTx, hit: Hit, since: number, row: SessionRow | null): JobSteps<SessionRow | null> {
  return !row || row.last_seen_at >= since ? answered(row) : activeSince(tx, hit, since, row);
}

function* activeSince(tx: JobTx, hit: Hit, since: number, row: SessionRow): JobSteps<SessionRow | null> {
  return (yield* tx.get(ACTIVE_SINCE, [hit.projectId, row.visitor_id, since])) !== null ? row : null;
}

function* startSession(tx: JobTx, hit: Hit, visitorId: string, clickId: string | null, context: AttributionContext): JobSteps<string> {
  const sessionId = `ses_${timeOrderedId(hit.ts)}`;
  yield* tx.run(CREATE_SESSION, [
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
  ]);
  yield* bumpRollup(tx, hit.projectId, hit.ts, context, { sessions: 1 });
  return sessionId;
}

/**
 * The lock a job storing `hit` names (JobOptions.locks). PostgreSQL commits a few batches at once, and each
 * node its own, where SQLite has one writer: without it, two hits of one visitor arriving together (a page
 * view and the events queued before the script loaded) each found no live session and started their own.
 */
export const visitorLock = (hit: Hit): string => `${hit.projectId}/${hit.visitorIds[0]}`;

export function* storeHit(tx: JobTx, hit: Hit): JobSteps<StoredHit> {
  const live = yield* findLiveSession(tx, hit);
  const visitorId = live?.visitor_id ?? hit.visitorIds[0]!;
  const landing = yield* landingContext(tx, hit.projectId, hit.landing);
  const clickId = landing.click?.id ?? null;
  const incoming = landing.context;

  let sessionId: string;
  let context: AttributionContext;
  const liveContext = live ? contextFromColumns(live) : EMPTY_CONTEXT;
  if (!live || (!isEmptyContext(incoming) && !isEmptyContext(liveContext) && !sameContext(incoming, liveContext))) {
    // A new tracked click or campaign mid-session starts a new session, so each session keeps one context.
    context = isEmptyContext(incoming) && hit.landing.referrerHost ? { ...EMPTY_CONTEXT, source: hit.landing.referrerHost } : incoming;
    sessionId = yield* startSession(tx, hit, visitorId, clickId, context);
  } else if (!isEmptyContext(incoming) && isEmptyContext(liveContext)) {
    context = incoming;
    sessionId = live.id;
    yield* tx.run(ADOPT_CONTEXT, [clickId, ...contextValues(context), hit.ts, sessionId]);
  } else {
    context = liveContext;
    sessionId = live.id;
    if (hit.ts - live.last_seen_at >= LAST_SEEN_STEP_MS) yield* tx.run("UPDATE sessions SET last_seen_at = ? WHERE id = ?", [hit.ts, sessionId]);
  }

  if (landing.click) yield* attachClickToVisitor(tx, hit.projectId, landing.click, visitorId);

  const profileId = hit.identify
    ? (yield* identifyProfile(tx, hit.projectId, hit.identify, visitorId, hit.ts, hit.identify.trust)).id
    : yield* profileIdOfVisitor(tx, hit.projectId, visitorId);

  const event = { projectId: hit.projectId, ts: hit.ts, visitorId, sessionId, profileId, path: hit.path, context };
  yield* recordEvent(tx, { ...event, name: hit.name, props: hit.props });
  if (hit.name === "page_view" && hit.isPricingPage) yield* recordEvent(tx, { ...event, name: "pricing_view" });
  return { visitorId, sessionId, profileId, context };
}

/** The click was recorded with the cookieless id of the moment; the landing page knows the real visitor. */
function* attachClickToVisitor(tx: JobTx, projectId: string, click: LandedClick, visitorId: string): JobSteps<void> {
  if (click.visitorId === visitorId) return;
  yield* tx.run("UPDATE clicks SET visitor_id = ? WHERE id = ?", [visitorId, click.id]);
  if (click.visitorId) {
    yield* tx.run("UPDATE events SET visitor_id = ? WHERE project_id = ? AND visitor_id = ? AND ts = ? AND name = 'link_clicked'", [
      visitorId,
      projectId,
      click.visitorId,
      click.ts,
    ]);
    yield* tx.note(noteWrite, projectId, click.ts);
  }
}
