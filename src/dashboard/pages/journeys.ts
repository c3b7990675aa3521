// Profiles (identified users) with their journey and payments, and live events that update without reloading.
import { html } from "../html.ts";
import { DashboardError, renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import { loadPayments } from "../../payments/service.ts";
import { findProfile, latestEvents, listProfiles, profileJourney, visitorJourney } from "./journeys.sql.ts";
import { profileIdOfVisitor } from "../../tracking/profiles.ts";
import { readJob } from "../../db/storage/jobs.ts";
import { loadPaymentLinks } from "./payments.ts";
import { field } from "../../../views/components.ts";
import { dataPage } from "../../../views/pages/parts.ts";
import { journey, liveFeed, profilesTable } from "../../../views/pages/journeys.ts";
import { paymentsTable } from "../../../views/pages/payments.ts";

function traitsOf(json: string): [string, string][] {
  try {
    const traits = JSON.parse(json) as Record<string, unknown>;
    return Object.entries(traits).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]);
  } catch {
    return [];
  }
}

async function feed(req: DashboardRequest) {
  return liveFeed(await latestEvents(req.ctx.storage, req.project.id), req.project.timezone, req.href("/live/feed"), (id) => req.href(`/profiles/${encodeURIComponent(id)}`));
}

export function journeyPages(router: DashboardRouter): void {
  router
    .get("/profiles", async (req) => {
      const search = req.query.get("q")?.slice(0, 200) ?? "";
      const profiles = await listProfiles(req.ctx.storage, req.project.id, { search, limit: 100 });
      const body = html`<form method="get" action="${req.url.pathname}" class="toolbar" role="search">
          ${field({ label: "Email or user id starts with", name: "q", type: "search", value: search })}
          <button type="submit">Search</button>
        </form>
        ${profilesTable(profiles, (id) => req.href(`/profiles/${encodeURIComponent(id)}`, { q: null }), req.project.timezone, search !== "")}`;
      return renderPage(req, { title: "Profiles", body: dataPage(body) });
    })
    .get("/profiles/:profileId", async (req) => {
      const { storage } = req.ctx;
      const profile = await findProfile(storage, req.project.id, req.params.profileId ?? "");
      if (!profile) throw new DashboardError(404, "There is no such profile in this project.");
      const traits = traitsOf(profile.traits);
      const [payments, events] = await Promise.all([
        profile.email ? loadPayments(storage, req.project.id, { email: profile.email, limit: 50 }).then((page) => page.payments) : [],
        profileJourney(storage, req.project.id, profile.id),
      ]);
      const links = await loadPaymentLinks(req, payments);
      const body = html`<section class="card">
          <dl class="facts">
            <dt>User id</dt><dd><code>${profile.id}</code></dd>
            <dt>Email</dt><dd>${profile.email ?? html`<span class="muted">unknown</span>`}</dd>
            <dt>Name</dt><dd>${profile.name ?? html`<span class="muted">unknown</span>`}</dd>
            ${traits.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}
          </dl>
        </section>
        <section class="card"><h2>Payments</h2>${paymentsTable(payments, links, "No payment with this email.")}</section>
        <section class="card"><h2>Journey</h2>${journey(events, req.project.timezone)}</section>`;
      return renderPage(req, { title: profile.name || profile.email || profile.id, body: dataPage(body) });
    })
    .get("/visitors/:visitorId", async (req) => {
      const visitorId = req.params.visitorId ?? "";
      const events = await visitorJourney(req.ctx.storage, req.project.id, visitorId);
      if (events.length === 0) throw new DashboardError(404, "This project has no events of such a visitor.");
      const profileId = await readJob(req.ctx.storage, (tx) => profileIdOfVisitor(tx, req.project.id, visitorId));
      const body = html`<section class="card">
          <dl class="facts">
            <dt>Visitor</dt><dd><code>${visitorId}</code></dd>
            <dt>Profile</dt><dd>${profileId ? html`<a href="${req.href(`/profiles/${encodeURIComponent(profileId)}`)}">${profileId}</a>` : html`<span class="muted">never identified</span>`}</dd>
          </dl>
        </section>
        <section class="card"><h2>Journey</h2>${journey(events, req.project.timezone)}</section>`;
      return renderPage(req, { title: `Visitor ${visitorId}`, body: dataPage(body) });
    })
    .get("/live", async (req) => {
      const body = html`<p class="muted">The latest 50 events; this list refreshes every 3 seconds.
          <a href="${req.href("/export/events.csv")}" download>Export the events of ${req.range.fromDate} – ${req.range.toDate} as CSV</a></p>
        ${await feed(req)}`;
      return renderPage(req, { title: "Live events", body: dataPage(body) });
    })
    .get("/live/feed", feed);
}
