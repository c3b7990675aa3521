// Views of raw events: the live feed (polled by htmx) and a profile's journey; profiles list and header.
import { formatDateTime } from "../components.ts";
import { html, type Html } from "../../src/dashboard/html.ts";
import type { EventRow, ProfileRow } from "../../src/dashboard/pages/journeys.sql.ts";
import { dataTable, formatCount } from "./parts.ts";

function contextLine(e: EventRow): Html | null {
  const parts = [e.linkId && `link ${e.linkId}`, e.campaignId && `campaign ${e.campaignId}`, e.source && `source ${e.source}`, e.medium && `medium ${e.medium}`, e.leadId && `lead ${e.leadId}`].filter(
    (x): x is string => Boolean(x),
  );
  return parts.length ? html`<div class="props">${parts.join(" · ")}</div>` : null;
}

/** Props exactly as stored, as text: a value like <img onerror> is shown, never run. */
function props(e: EventRow): Html | null {
  return e.props ? html`<div class="props"><code>${e.props}</code></div>` : null;
}

export function liveFeed(events: EventRow[], timezone: string, pollUrl: string, profileHref: (id: string) => string): Html {
  return html`<div id="live-feed" hx-get="${pollUrl}" hx-trigger="every 3s" hx-swap="outerHTML">
    ${dataTable({
      caption: "The latest events, newest first",
      rows: events,
      empty: "No events yet. They appear here within seconds of happening.",
      columns: [
        { key: "when", label: "When", cell: (e) => html`<time datetime="${new Date(e.ts).toISOString()}">${formatDateTime(e.ts, timezone)}</time>` },
        { key: "name", label: "Event", cell: (e) => html`<code>${e.name}</code>${props(e)}` },
        { key: "path", label: "Path", hideOnPhone: true, cell: (e) => (e.path ? html`<code>${e.path}</code>` : html`<span class="muted">—</span>`) },
        { key: "visitor", label: "Visitor", hideOnPhone: true, cell: (e) => html`${e.profileId ? html`<a href="${profileHref(e.profileId)}"><strong>${e.profileId}</strong></a><br>` : null}<code>${e.visitorId ?? "—"}</code>${contextLine(e)}` },
      ],
    })}
  </div>`;
}

export function journey(events: EventRow[], timezone: string): Html {
  if (events.length === 0) return html`<p class="muted">No events recorded for this profile's visitors.</p>`;
  return html`<ol class="journey">${events.map(
    (e) => html`<li><time datetime="${new Date(e.ts).toISOString()}">${formatDateTime(e.ts, timezone)}</time><code>${e.name}</code>${e.path ? html` <span class="muted">${e.path}</span>` : null}${contextLine(e)}${props(e)}</li>`,
  )}</ol>`;
}

export function profilesTable(profiles: ProfileRow[], href: (id: string) => string, timezone: string, searching: boolean): Html {
  return dataTable({
    caption: "Identified users, most recently updated first",
    rows: profiles,
    empty: searching ? "No profile matches this search." : "No identified users yet. Call bantico.identify({ id, email }) after sign-up.",
    columns: [
      { key: "key", label: "Profile", cell: (p) => html`<a href="${href(p.id)}">${p.name || p.email || p.id}</a>${p.name && p.email ? html`<div class="props">${p.email}</div>` : null}` },
      { key: "id", label: "User id", hideOnPhone: true, cell: (p) => html`<code>${p.id}</code>` },
      { key: "visitors", label: "Devices", numeric: true, cell: (p) => formatCount(p.visitors) },
      { key: "updated", label: "Last seen", cell: (p) => formatDateTime(p.updatedAt, timezone) },
    ],
  });
}
