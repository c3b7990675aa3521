// The settings page: tracker snippet, project settings, integrations, API keys, team, privacy.
import { html, type Html } from "../src/dashboard/html.ts";
import { copyInline, csrfInput as csrf, field, formatDateTime, type FieldErrors } from "./components.ts";
import { snippetBlock } from "./snippet.ts";
import type { IntegrationProvider } from "../src/payments/integrations.ts";
import { PROVIDER_GUIDES } from "../src/payments/guides.ts";

export interface IntegrationView {
  provider: IntegrationProvider;
  status: "connected" | "webhook_only" | "error" | "not_connected";
  message: string;
  credentialHint: string | null;
  hasCredential: boolean;
  hasWebhookSecret: boolean;
  lastEventAt: number | null;
  lastPullAt: number | null;
  lastError: string | null;
  backfill: { state: "none" | "running" | "done"; processed: number; progress: number; doneAt: number | null };
}

export interface SettingsView {
  projectId: string;
  token: string;
  baseUrl: string;
  csrfToken: string;
  timezone: string;
  canWrite: boolean;
  isOwner: boolean;
  currentUserId: string;
  project: { values: Record<string, string>; errors: FieldErrors };
  timezones: readonly string[];
  /** null: this build has no payment integrations. */
  integrations: IntegrationView[] | null;
  integrationErrors: Partial<Record<IntegrationProvider, FieldErrors>>;
  apiKeys: { id: string; name: string; prefix: string; createdAt: number; lastUsedAt: number | null; revokedAt: number | null }[];
  apiKeyErrors: FieldErrors;
  newApiKey: string | null;
  /** Everyone who sees this project, with their role on it. */
  team: { id: string; email: string; role: string; createdAt: number; everyProject: boolean }[];
  teamValues: Record<string, string>;
  teamErrors: FieldErrors;
  privacyValue: string;
  privacyErrors: FieldErrors;
  identify: { secret: string; previousValidUntil: number | null };
  rates: RatesView;
}

export interface RatesView {
  reportingCurrency: string;
  /** null: BANTICO_FX_URL is off. */
  feedUrl: string | null;
  feed: { lastAttemptAt: number | null; lastSuccessAt: number | null; lastError: string | null; failures: number; latestDay: string | null };
  manual: { currency: string; per: string; rate: string; from: string | null }[];
  unconverted: { currency: string; payments: number }[];
  progress: { done: number; total: number } | null;
  values: Record<string, string>;
  errors: FieldErrors;
}

const ROLE_OPTIONS = [
  { value: "viewer", label: "Viewer — reads, changes nothing" },
  { value: "admin", label: "Admin — changes settings, links, keys and members" },
  { value: "owner", label: "Owner — every project, manages the whole team" },
];
const SCOPE_OPTIONS = [
  { value: "project", label: "This project only" },
  { value: "every", label: "Every project, also those created later" },
];


/** The settings, one page each, in the order of their navigation. */
export const SETTINGS_SECTIONS = [
  { id: "project", label: "Project", path: "" },
  { id: "tracker", label: "Tracker", path: "/tracker" },
  { id: "integrations", label: "Integrations", path: "/integrations" },
  { id: "rates", label: "Exchange rates", path: "/rates" },
  { id: "api-keys", label: "API keys", path: "/api-keys" },
  { id: "team", label: "Team", path: "/team" },
  { id: "privacy", label: "Privacy", path: "/privacy" },
] as const;
export type SettingsSection = (typeof SETTINGS_SECTIONS)[number]["id"];

export function settingsPage(v: SettingsView, section: SettingsSection): Html {
  const base = `/dashboard/${v.projectId}/settings`;
  const sections: Record<SettingsSection, () => Html> = {
    project: () => html`
  <section class="card" id="project" aria-labelledby="project-h">
    <h2 id="project-h">Project</h2>
    <form method="post" action="${base}/project#project" novalidate>
      ${csrf(v.csrfToken)}
      <fieldset ${v.canWrite ? null : html`disabled`}>
        <div class="grid-2">
          ${field({ label: "Name", name: "name", value: v.project.values.name, error: v.project.errors.name, required: true })}
          ${field({ label: "Reporting currency", name: "currency", value: v.project.values.currency, error: v.project.errors.currency, required: true, hint: "ISO 4217 code. Revenue in other currencies is shown apart, never added up without a rate.", attrs: html`maxlength="3" autocapitalize="characters"` })}
          ${field({ label: "Timezone", name: "timezone", value: v.project.values.timezone, error: v.project.errors.timezone, options: v.timezones.map((tz) => ({ value: tz, label: tz })), hint: "Days in reports start at midnight here." })}
          ${field({ label: "Lookback window (days)", name: "lookbackDays", value: v.project.values.lookbackDays, error: v.project.errors.lookbackDays, type: "number", attrs: html`min="1" max="730" inputmode="numeric"`, hint: "How far back a payment looks for the visit that brought it." })}
        </div>
        ${field({ label: "Allowed hostnames", name: "allowedHostnames", value: v.project.values.allowedHostnames, error: v.project.errors.allowedHostnames, rows: 3, placeholder: "example.com\n*.example.com", hint: "One per line. Events from other hosts are refused. Leave empty to accept any host." })}
        <div class="field">
          <label><input type="checkbox" name="countRenewals" ${v.project.values.countRenewals === "on" ? html`checked` : null}> Count renewals in revenue totals</label>
          <p class="hint">Off: totals count first sales only; renewals still show in MRR and in the payments list.</p>
        </div>
        ${field({ label: "Pricing page pattern", name: "pricingPathPattern", value: v.project.values.pricingPathPattern, error: v.project.errors.pricingPathPattern, hint: html`Page views whose path matches count as <code>pricing_view</code>; <code>*</code> matches anything.` })}
        <div class="field checkbox">
          <label><input type="checkbox" name="verifiedEmailAttributionOnly" aria-describedby="f-verified-hint" ${v.project.values.verifiedEmailAttributionOnly ? html`checked` : null}> Attribute by email only from verified identify</label>
          <p class="hint" id="f-verified-hint">A payment is matched to a visitor by the customer's email only when that email came from the API or a <a href="${base}/tracker#identify">signed identify</a>: an unsigned <code>bantico.identify</code>, which anyone with the public token can send, then cannot claim someone's payment.</p>
        </div>
        <button type="submit" class="primary">Save settings</button>
      </fieldset>
    </form>
  </section>`,
    tracker: () => html`
  <section class="card" id="tracker" aria-labelledby="tracker-h">
    <h2 id="tracker-h">Tracker snippet</h2>
    ${snippetBlock(v.baseUrl, v.token)}
    <p><a href="/dashboard/${v.projectId}/install">Check that events arrive</a></p>
  </section>
  ${identifySecretSection(v, base)}`,
    integrations: () => html`
  <section class="card" id="integrations" aria-labelledby="integrations-h">
    <h2 id="integrations-h">Payment integrations</h2>
    ${v.integrations === null
      ? html`<p class="muted">Payment integrations are not available in this build.</p>`
      : v.integrations.map((i) => integrationBlock(v, i, v.integrationErrors[i.provider] ?? {}))}
  </section>`,
    rates: () => ratesSection(v, base),
    "api-keys": () => html`
  <section class="card" id="api-keys" aria-labelledby="keys-h">
    <h2 id="keys-h">API keys</h2>
    <p class="muted">Keys give full access to this project's REST API at <code>${v.baseUrl}/api/v1</code>.</p>
    ${v.newApiKey
      ? html`<div class="notice ok secret-once" role="status" id="new-api-key">
          <p><strong>Copy this key now.</strong> It is shown only once; Bantico keeps only its hash.</p>
          ${copyInline(v.newApiKey, "the new API key")}
        </div>`
      : null}
    ${apiKeyTable(v, base)}
    ${v.canWrite
      ? html`<form method="post" action="${base}/api-keys#new-api-key" class="inline-create" novalidate>
          ${csrf(v.csrfToken)}
          ${field({ label: "New key name", name: "name", id: "f-key-name", error: v.apiKeyErrors.name, placeholder: "e.g. backend", hint: "So you recognise it later." })}
          <button type="submit" class="primary">Create API key</button>
        </form>`
      : null}
  </section>`,
    team: () => html`
  <section class="card" id="team" aria-labelledby="team-h">
    <h2 id="team-h">Team</h2>
    <p class="muted">Owners see every project and manage the whole team. Someone added for this project only sees no other project; as admin they change its settings and members, as viewer they only read.</p>
    ${teamTable(v, base)}
    ${v.canWrite
      ? html`<h3>Add a teammate</h3>
        <form method="post" action="${base}/team#team" novalidate>
          ${csrf(v.csrfToken)}
          <div class="grid-2">
            ${field({ label: "Email", name: "email", type: "email", value: v.teamValues.email, error: v.teamErrors.email, required: true, autocomplete: "off" })}
            ${field({ label: "Initial password", name: "password", type: "password", error: v.teamErrors.password, autocomplete: "new-password", hint: "At least 8 characters; share it with them, they can change it under Account. Not needed for someone already on another project." })}
          </div>
          <div class="grid-2">
            ${field({ label: "Role", name: "role", value: v.teamValues.role ?? "viewer", error: v.teamErrors.role, options: v.isOwner ? ROLE_OPTIONS : ROLE_OPTIONS.filter((o) => o.value !== "owner") })}
            ${v.isOwner
              ? field({ label: "Access", name: "scope", value: v.teamValues.scope ?? "project", error: v.teamErrors.scope, options: SCOPE_OPTIONS })
              : html`<input type="hidden" name="scope" value="project">${v.teamErrors.scope ? html`<p class="notice error" role="alert">${v.teamErrors.scope}</p>` : null}`}
          </div>
          <button type="submit" class="primary">Add teammate</button>
        </form>`
      : null}
  </section>`,
    privacy: () => html`
  <section class="card" id="privacy" aria-labelledby="privacy-h">
    <h2 id="privacy-h">Delete a person's data</h2>
    <p class="muted">On request (GDPR art. 17): removes the person's profiles (with their name and traits) and links to visitors, and their email, name, phone, addresses and tax ids from payments, leads, checkout metadata, attribution explanations, event properties and raw provider events. Nothing readable stays in the database files. Counts, amounts and attribution stay in your books; backups taken earlier still hold the person until they age out.</p>
    <form method="post" action="${base}/privacy/delete-profile#privacy" data-confirm="Delete this person's personal data? This cannot be undone." novalidate>
      ${csrf(v.csrfToken)}
      <fieldset ${v.canWrite ? null : html`disabled`}>
        ${field({ label: "Profile id or email", name: "profile", value: v.privacyValue, error: v.privacyErrors.profile, required: true, autocomplete: "off" })}
        <button type="submit" class="danger">Delete personal data</button>
      </fieldset>
    </form>
  </section>`,
  };
  return html`
  <nav class="actions subnav" aria-label="Settings sections">
    ${SETTINGS_SECTIONS.map((s) => html`<a href="${base}${s.path}" ${s.id === section ? html`aria-current="page"` : null}>${s.label}</a> `)}
  </nav>
  ${v.canWrite ? null : html`<p class="notice" role="status">You are a viewer: you can read these settings but not change them.</p>`}
  ${sections[section]()}`;
}

function identifySecretSection(v: SettingsView, base: string): Html {
  return html`<section class="card" id="identify" aria-labelledby="identify-h">
    <h2 id="identify-h">Signed identify</h2>
    <p class="muted">Compute <code>hash</code>, the lowercase hex HMAC-SHA256 of the user's id keyed with this secret, on your server and pass it to <code>bantico.identify({ id, email, name, hash })</code>. Without a valid hash, an identify from the browser may create a profile and link the visitor, but never changes an existing profile's email, name or traits. Keep the secret on your server.</p>
    ${v.canWrite
      ? html`<p>Identify secret: ${copyInline(v.identify.secret, "the identify secret")}</p>
        ${v.identify.previousValidUntil !== null
          ? html`<p class="notice warn">The secret it replaced still verifies until ${formatDateTime(v.identify.previousValidUntil, v.timezone)}, so pages your servers rendered before switching keep working.</p>`
          : null}
        <div class="actions">
          <form method="post" action="${base}/identify-secret/rotate#identify" data-confirm="Create a new identify secret? The current one stays valid for 24 hours.">
            ${csrf(v.csrfToken)}<button type="submit">Rotate secret</button>
          </form>
          ${v.identify.previousValidUntil !== null
            ? html`<form method="post" action="${base}/identify-secret/revoke-previous#identify" data-confirm="Stop accepting the previous identify secret now?">
                ${csrf(v.csrfToken)}<button type="submit" class="danger">Stop accepting the previous secret now</button>
              </form>`
            : null}
        </div>`
      : html`<p class="muted">Only admins and owners see the identify secret.</p>`}
  </section>`;
}

function apiKeyTable(v: SettingsView, base: string): Html {
  if (v.apiKeys.length === 0) return html`<p class="muted">No API keys yet.</p>`;
  const rowContext = { base, csrfToken: v.csrfToken, canWrite: v.canWrite, timezone: v.timezone };
  return html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${v.apiKeys.map((k) => apiKeyRow(k, rowContext))}</tbody>
  </table></div>`;
}

/** One key's row; also the htmx answer to revoking it (the row swaps in place). */
export function apiKeyRow(
  k: SettingsView["apiKeys"][number],
  c: { base: string; csrfToken: string; canWrite: boolean; timezone: string },
): Html {
  const action = `${c.base}/api-keys/${k.id}/revoke`;
  return html`<tr id="key-${k.id}">
    <td>${k.name || html`<span class="muted">unnamed</span>`}</td>
    <td><code>${k.prefix}…</code></td>
    <td>${formatDateTime(k.createdAt, c.timezone)}</td>
    <td>${formatDateTime(k.lastUsedAt, c.timezone)}</td>
    <td>${k.revokedAt !== null
      ? html`<span class="badge">revoked</span>`
      : c.canWrite
        ? html`<form method="post" action="${action}" class="inline-form" hx-post="${action}" hx-target="closest tr" hx-swap="outerHTML" hx-confirm="Revoke this key? Programs using it stop working.">
            ${csrf(c.csrfToken)}<button type="submit" class="small danger" aria-label="Revoke key ${k.prefix}">Revoke</button>
          </form>`
        : null}</td>
  </tr>`;
}

function teamTable(v: SettingsView, base: string): Html {
  // Owners manage everyone; a project's admins manage the members of that project only.
  const manages = (u: SettingsView["team"][number]) => u.id !== v.currentUserId && (u.everyProject ? v.isOwner : v.canWrite);
  return html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Access</th><th scope="col">Added</th>${v.canWrite ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}</tr></thead>
    <tbody>
      ${v.team.map(
        (u) => html`<tr>
          <td>${u.email}${u.id === v.currentUserId ? html` <span class="badge">you</span>` : null}</td>
          <td>${manages(u)
            ? html`<form method="post" action="${base}/team/${u.id}/role" class="actions">
                ${csrf(v.csrfToken)}
                <label class="visually-hidden" for="role-${u.id}">Role of ${u.email}</label>
                <select id="role-${u.id}" name="role">${(u.everyProject ? ["viewer", "admin", "owner"] : ["viewer", "admin"]).map((r) => html`<option ${r === u.role ? html`selected` : null}>${r}</option>`)}</select>
                <button type="submit" class="small">Change</button>
              </form>`
            : u.role}</td>
          <td>${u.everyProject ? "Every project" : "This project"}</td>
          <td>${formatDateTime(u.createdAt, v.timezone)}</td>
          ${v.canWrite
            ? html`<td>${manages(u)
                ? html`<form method="post" action="${base}/team/${u.id}/remove" class="inline-form" data-confirm="${u.everyProject ? `Remove ${u.email} from the team?` : `Remove ${u.email} from this project?`}">
                    ${csrf(v.csrfToken)}<button type="submit" class="small danger" aria-label="Remove ${u.email}">Remove</button>
                  </form>`
                : null}</td>`
            : null}
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}

const STATUS_BADGES = {
  connected: html`<span class="badge ok">connected</span>`,
  webhook_only: html`<span class="badge ok">webhooks only</span>`,
  error: html`<span class="badge error">error</span>`,
  not_connected: html`<span class="badge">not connected</span>`,
};

/** The live part of an integration (status, backfill bar); polled while a backfill runs. */
export function integrationStatusBlock(projectId: string, timezone: string, i: IntegrationView): Html {
  const running = i.backfill.state === "running";
  const percent = Math.round(Math.min(1, Math.max(0, i.backfill.progress)) * 100);
  return html`<div id="${i.provider}-status" class="integration-status"
      ${running ? html`hx-get="/dashboard/${projectId}/settings/integrations/${i.provider}/status" hx-trigger="every 2s" hx-swap="outerHTML"` : null}>
    <p>${STATUS_BADGES[i.status]} ${i.message}</p>
    ${i.credentialHint ? html`<p class="muted">Key ${i.credentialHint}${i.hasWebhookSecret ? " · webhook secret saved" : ""}</p>` : i.hasWebhookSecret ? html`<p class="muted">Webhook secret saved</p>` : null}
    ${i.lastError ? html`<p class="notice error">Last error: ${i.lastError}</p>` : null}
    ${i.status !== "not_connected"
      ? html`<p class="muted">Last webhook: ${formatDateTime(i.lastEventAt, timezone)} · last pull: ${formatDateTime(i.lastPullAt, timezone)}</p>`
      : null}
    ${i.backfill.state !== "none"
      ? html`<div class="backfill">
          <label for="${i.provider}-backfill">Backfill of the last 30 days: ${running ? `${percent}%` : "done"} (${i.backfill.processed} payments)</label>
          <progress id="${i.provider}-backfill" max="100" value="${running ? percent : 100}">${percent}%</progress>
        </div>`
      : null}
  </div>`;
}

function integrationBlock(v: SettingsView, i: IntegrationView, errors: FieldErrors): Html {
  const guide = PROVIDER_GUIDES[i.provider];
  const name = guide.name;
  const base = `/dashboard/${v.projectId}/settings/integrations/${i.provider}`;
  const webhookUrl = `${v.baseUrl}/webhooks/${i.provider}/${v.projectId}`;
  const credentialLabel = guide.credentialLabel;
  const credentialHint = guide.credentialHint;
  return html`<div class="integration" id="integration-${i.provider}">
    <h3>${name}</h3>
    ${integrationStatusBlock(v.projectId, v.timezone, i)}
    <p>Webhook endpoint to add in ${name}: ${copyInline(webhookUrl, `the ${name} webhook URL`)}</p>
    <p class="muted" id="${i.provider}-events">Subscribe it to these events: ${guide.events.map((event, n) => html`${n > 0 ? ", " : ""}<code>${event}</code>`)}.</p>
    ${v.canWrite
      ? html`<form method="post" action="${base}" novalidate>
          ${csrf(v.csrfToken)}
          <div class="grid-2">
            ${field({ label: credentialLabel, name: "credential", id: `f-${i.provider}-credential`, type: "password", error: errors.credential, autocomplete: "off", hint: credentialHint })}
            ${field({ label: "Webhook signing secret (optional)", name: "webhookSecret", id: `f-${i.provider}-webhookSecret`, type: "password", error: errors.webhookSecret, autocomplete: "off", hint: guide.webhookSecretHint })}
          </div>
          <div class="actions">
            <button type="submit" class="primary">${i.status === "not_connected" ? `Connect ${name}` : `Update ${name}`}</button>
          </div>
        </form>
        ${i.status !== "not_connected"
          ? html`<form method="post" action="${base}/disconnect" data-confirm="Disconnect ${name}? Payments already stored stay.">
              ${csrf(v.csrfToken)}<button type="submit" class="danger small">Disconnect ${name}</button>
            </form>`
          : null}`
      : null}
  </div>`;
}

function feedLine(v: SettingsView): Html {
  const r = v.rates;
  if (!r.feedUrl) return html`<p class="muted">Fetching ECB rates is off (<code>BANTICO_FX_URL=off</code>): only manual rates convert.</p>`;
  const latest = r.feed.latestDay ? html`Latest ECB fixing: <strong>${r.feed.latestDay}</strong>` : html`No ECB rates yet`;
  return html`<p>${latest} · from <code>${r.feedUrl}</code> · Source: ECB, reference rates for information.</p>
    ${r.feed.lastError
      ? html`<p class="notice error" role="status">The last ${r.feed.failures === 1 ? "fetch" : `${r.feed.failures} fetches`} failed (${formatDateTime(r.feed.lastAttemptAt, v.timezone)}): ${r.feed.lastError}. Bantico retries with growing pauses; payments wait for their day's rate and are converted when it arrives.</p>`
      : r.feed.lastSuccessAt
        ? html`<p class="muted">Fetched ${formatDateTime(r.feed.lastSuccessAt, v.timezone)}.</p>`
        : null}`;
}

function ratesSection(v: SettingsView, base: string): Html {
  const r = v.rates;
  return html`<section class="card" id="rates" aria-labelledby="rates-h">
    <h2 id="rates-h">Exchange rates</h2>
    <p class="muted">Every total is shown in ${r.reportingCurrency}: each payment at its provider's own conversion when it settled in ${r.reportingCurrency}, else at the ECB rate of its day, else at a manual rate below. Without any, it is left out of totals and counted apart.</p>
    ${feedLine(v)}
    ${r.progress ? html`<p class="notice" role="status">Converting history into ${r.reportingCurrency}: ${r.progress.done} of ${r.progress.total} payments.</p>` : null}
    ${r.unconverted.length
      ? html`<p class="notice warn" role="status">${r.unconverted.map((c, i) => html`${i ? "; " : ""}${c.payments} payment${c.payments === 1 ? "" : "s"} in ${c.currency}`)} not converted: add a rate.</p>`
      : null}
    <div class="table-wrap"><table>
      <caption class="visually-hidden">Manual rates</caption>
      <thead><tr><th scope="col">Rate</th><th scope="col">From</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>${r.manual.length
        ? r.manual.map(
            (m) => html`<tr><td>1 ${m.currency} = ${m.rate} ${m.per}</td><td>${m.from ?? "every day"}</td><td>${v.canWrite
              ? html`<form method="post" action="${base}/rates/${m.currency}/delete#rates" class="inline-form">${csrf(v.csrfToken)}<button type="submit" class="small danger" aria-label="Remove the manual rates of ${m.currency}">Remove</button></form>`
              : null}</td></tr>`,
          )
        : html`<tr><td colspan="3" class="muted">No manual rate.</td></tr>`}</tbody>
    </table></div>
    <form method="post" action="${base}/rates#rates" novalidate>
      ${csrf(v.csrfToken)}
      <fieldset ${v.canWrite ? null : html`disabled`}>
        <div class="grid-2">
          ${field({ label: "Currency", name: "currency", id: "f-rate-currency", value: r.values.currency, error: r.errors.currency, placeholder: "AED", attrs: html`maxlength="3" autocapitalize="characters"` })}
          ${field({ label: "Rate", name: "rate", id: "f-rate-rate", value: r.values.rate, error: r.errors.rate, placeholder: "0.2723", hint: "Units of the quote currency for 1 unit of the currency.", attrs: html`inputmode="decimal"` })}
          ${field({ label: "Quote currency", name: "per", id: "f-rate-per", value: r.values.per ?? r.reportingCurrency, error: r.errors.per, attrs: html`maxlength="3" autocapitalize="characters"` })}
          ${field({ label: "From (optional)", name: "from", id: "f-rate-from", value: r.values.from, error: r.errors.from, type: "date", hint: "Leave empty for every day." })}
        </div>
        <button type="submit" class="primary">Save rate</button>
      </fieldset>
    </form>
  </section>`;
}
