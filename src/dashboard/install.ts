// The install page a new project lands on: the snippet, and a check that turns green once the
// first event arrives (htmx polls /install/check until it does).
import type { Storage } from "../db/storage/storage.ts";
import { html, type Html } from "./html.ts";
import { renderPage, type DashboardRequest, type DashboardRouter } from "./routing.ts";
import { snippetBlock } from "../../views/snippet.ts";
import { formatDateTime } from "../../views/components.ts";

interface LatestEvent {
  name: string;
  path: string | null;
  ts: number;
}

function latestEvent(storage: Storage, projectId: string): Promise<LatestEvent | null> {
  return storage.get<LatestEvent>("SELECT name, path, ts FROM events WHERE project_id = ? ORDER BY ts DESC LIMIT 1", [projectId]);
}

export async function installCheck(req: DashboardRequest): Promise<Html> {
  const event = await latestEvent(req.ctx.storage, req.project.id);
  if (event) {
    return html`<div id="install-check" class="check ok" role="status">
      <strong>Receiving events.</strong> Latest: <code>${event.name}</code>${event.path ? html` on <code>${event.path}</code>` : null}
      at ${formatDateTime(event.ts, req.project.timezone)}. <a href="/dashboard/${req.project.id}">Open the overview</a>
    </div>`;
  }
  return html`<div id="install-check" class="check pending" role="status" hx-get="/dashboard/${req.project.id}/install/check" hx-trigger="every 2s" hx-swap="outerHTML">
    <span class="spinner" aria-hidden="true"></span> Waiting for the first event… Open your site in a browser after adding the snippet.
  </div>`;
}

export function installPages(router: DashboardRouter): void {
  router
    .get("/install", async (req) =>
      renderPage(req, {
        title: "Install the tracker",
        body: html`<section class="card">
          ${snippetBlock(req.baseUrl, req.project.token)}
          <h3>Check</h3>
          ${await installCheck(req)}
          <p class="hint" id="install-automation">
            Test with an ordinary browser window. Visits from automated and headless browsers (Playwright, Puppeteer, Selenium,
            headless Chrome), crawlers, link previews and prefetches are left out of every count on purpose, so they never turn this check green.
          </p>
        </section>
        <section class="card">
          <h2>Next steps</h2>
          <ol>
            <li><a href="/dashboard/${req.project.id}/settings/integrations">Connect a payment provider</a> so payments arrive and are attributed.</li>
            <li><a href="/dashboard/${req.project.id}/links">Create a tracked link</a> for a campaign, a post or a lead.</li>
            <li><a href="/dashboard/${req.project.id}/settings">Check the settings</a>: allowed hostnames, currency (${req.project.currency}), timezone (${req.project.timezone}).</li>
          </ol>
        </section>`,
      }),
    )
    .get("/install/check", (req) => installCheck(req));
}
