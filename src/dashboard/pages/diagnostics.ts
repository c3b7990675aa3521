// The attribution doctor's page: each finding with what to change and links to the payments that show it.
import { html } from "../html.ts";
import { renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import { diagnose, type Finding } from "../../diagnostics/doctor.ts";
import { loadDoctorFacts } from "../../diagnostics/facts.ts";
import { dataPage } from "../../../views/pages/parts.ts";

const BADGES = { error: html`<span class="badge error">fix</span>`, warning: html`<span class="badge">check</span>`, info: html`<span class="badge ok">info</span>` };
const ORDER = { error: 0, warning: 1, info: 2 };

function finding(req: DashboardRequest, f: Finding) {
  return html`<li class="finding" id="finding-${f.code}">
    <p>${BADGES[f.severity]} ${f.message}</p>
    ${f.paymentIds.length
      ? html`<p class="muted">Payments: ${f.paymentIds.map((id, n) => html`${n ? ", " : ""}<a href="${req.href(`/payments/${id}`)}"><code>${id}</code></a>`)}</p>`
      : null}
  </li>`;
}

async function doctor(req: DashboardRequest) {
  const findings = diagnose(await loadDoctorFacts(req.ctx.storage, req.project.id, req.ctx.now())).sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
  return html`<section class="card">
    <h2>Findings</h2>
    <p class="muted">What Bantico's troubleshooting guide asks you to check, run on this project's last 60 days of payments and 30 days of tracking. The same list is at <code>GET /api/v1/diagnostics</code>.</p>
    ${findings.some((f) => f.severity !== "info") ? null : html`<p class="notice">Nothing to fix.</p>`}
    <ul class="findings">${findings.map((f) => finding(req, f))}</ul>
  </section>`;
}

export function diagnosticsPage(router: DashboardRouter): void {
  router.get("/diagnostics", async (req) => renderPage(req, { title: "Attribution doctor", body: dataPage(await doctor(req)) }));
}
