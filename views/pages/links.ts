// Views of tracked links: the list, the create/edit form with its UTM preview, and one link's page.
import { formatDateTime } from "../components.ts";
import { html, raw, type Html } from "../../src/dashboard/html.ts";
import type { TrackedLink } from "../../src/links/rows.ts";
import { copyInline, field, type FieldErrors } from "../components.ts";
import { contextValue, dataTable, formatCount, percent } from "./parts.ts";
import { formatMoney } from "../../src/payments/money.ts";
import type { LinkWithTraffic } from "../../src/dashboard/pages/links.sql.ts";

/** The form's values as typed (strings), so a refused form comes back exactly as it was. */
export interface LinkFormValues {
  destinationUrl: string;
  slug: string;
  title: string;
  campaignId: string;
  source: string;
  medium: string;
  content: string;
  leadId: string;
}

export const LINK_FORM_FIELDS = ["destinationUrl", "slug", "title", "campaignId", "source", "medium", "content", "leadId"] as const;

export function linkFormValues(link: TrackedLink | null): LinkFormValues {
  return {
    destinationUrl: link?.destinationUrl ?? "",
    slug: link?.slug ?? "",
    title: link?.title ?? "",
    campaignId: link?.campaignId ?? "",
    source: link?.source ?? "",
    medium: link?.medium ?? "",
    content: link?.content ?? "",
    leadId: link?.leadId ?? "",
  };
}

export interface LinkListView {
  links: LinkWithTraffic[];
  archived: boolean;
  search: string;
  canWrite: boolean;
  shortUrl: (slug: string) => string;
  href: (path: string, extra?: Record<string, string | null>) => string;
  action: string;
}

export function linkList(v: LinkListView): Html {
  return html`<div class="toolbar">
    <form method="get" action="${v.action}" class="toolbar" role="search">
      ${v.archived ? html`<input type="hidden" name="archived" value="1">` : null}
      ${field({ label: "Search links", name: "q", type: "search", value: v.search, placeholder: "title, slug, campaign…" })}
      <button type="submit">Search</button>
    </form>
    <div class="actions">
      ${v.canWrite ? html`<a class="button primary" href="${v.href("/links/new")}">New link</a>` : null}
      <a class="button" href="${v.href("/links", { archived: v.archived ? null : "1", q: null })}">${v.archived ? "Active links" : "Archived links"}</a>
      <a class="button" href="${v.href("/export/links.csv")}" download>Export CSV</a>
    </div>
  </div>
  ${dataTable({
    caption: v.archived ? "Archived links" : "Tracked links, most clicked in the period first",
    rows: v.links,
    empty: v.search ? "No link matches this search." : v.archived ? "No archived links." : "No links yet. Create one to start tracking clicks.",
    columns: [
      {
        key: "key",
        label: "Link",
        cell: (l) => html`<a href="${v.href(`/links/${encodeURIComponent(l.linkId)}`)}"><strong>${l.title || l.slug}</strong></a><br>
          ${copyInline(v.shortUrl(l.slug), `short URL of ${l.title || l.slug}`)}`,
      },
      { key: "campaign", label: "Campaign", hideOnPhone: true, cell: (l) => contextValue(l.campaignId) },
      { key: "source", label: "Source", hideOnPhone: true, cell: (l) => contextValue(l.source) },
      { key: "clicks", label: "Clicks", numeric: true, cell: (l) => formatCount(l.stats?.clicks ?? 0) },
      { key: "visitors", label: "Visitors", numeric: true, hideOnPhone: true, cell: (l) => formatCount(l.stats?.visitors ?? 0) },
      { key: "signups", label: "Signups", numeric: true, hideOnPhone: true, cell: (l) => formatCount(l.stats?.signups ?? 0) },
      { key: "customers", label: "Customers", numeric: true, hideOnPhone: true, cell: (l) => formatCount(l.stats?.customers ?? 0) },
      { key: "conversion", label: "Conv.", numeric: true, hideOnPhone: true, cell: (l) => (l.stats?.visitors ? percent(l.stats.conversionRate, 1) : "—") },
      { key: "net", label: "Net revenue", numeric: true, cell: (l) => (l.stats ? formatMoney(l.stats.net, l.stats.currency) : html`<span class="muted">—</span>`) },
    ],
  })}`;
}

export interface LinkFormView {
  values: LinkFormValues;
  errors: FieldErrors;
  /** A message for the whole form (e.g. the slug is taken). */
  formError?: string | null;
  action: string;
  previewUrl: string;
  preview: Html;
  csrf: Html;
  submitLabel: string;
  cancelHref: string;
  shortUrlPrefix: string;
}

/** Every context field of a link; the preview of the final URL follows what is typed (htmx, debounced). */
export function linkForm(v: LinkFormView): Html {
  const f = (name: keyof LinkFormValues, label: string, extra: Partial<Parameters<typeof field>[0]> = {}) =>
    field({ label, name, value: v.values[name], error: v.errors[name], ...extra });
  return html`<form method="post" action="${v.action}" class="card" novalidate
      hx-get="${v.previewUrl}" hx-trigger="input delay:250ms" hx-target="#utm-preview" hx-swap="innerHTML">
    ${v.csrf}
    ${v.formError ? html`<p class="notice error" role="alert">${v.formError}</p>` : null}
    ${f("destinationUrl", "Destination URL", { type: "url", required: true, placeholder: "https://example.com/pricing", hint: "Where the short link leads: an http or https address." })}
    <div class="grid-2">
      ${f("title", "Title", { hint: "For you; visitors never see it." })}
      ${f("slug", "Custom slug", { hint: html`Optional. The short URL becomes <code>${v.shortUrlPrefix}</code><em>slug</em>; left empty, one is generated.` })}
      ${f("campaignId", "Campaign", { placeholder: "spring_launch", hint: "Sent as utm_campaign." })}
      ${f("source", "Source", { placeholder: "twitter", hint: "Sent as utm_source." })}
      ${f("medium", "Medium", { placeholder: "social", hint: "Sent as utm_medium." })}
      ${f("content", "Content", { placeholder: "hero_banner", hint: "Sent as utm_content." })}
      ${f("leadId", "Lead", { placeholder: "lead_42", hint: "A person or company this link was made for." })}
    </div>
    <h3>Final URL</h3>
    <p class="preview" id="utm-preview" aria-live="polite">${v.preview}</p>
    <div class="actions">
      <button type="submit" class="primary">${v.submitLabel}</button>
      <a href="${v.cancelHref}">Cancel</a>
    </div>
  </form>`;
}

/** What a visitor lands on, with the link's utm_* added (bt_click is added per click). */
export function utmPreview(target: string | null): Html {
  if (!target) return html`<span class="muted">Type a destination URL (http or https) to see where visitors land.</span>`;
  return html`<code>${target}</code> <span class="muted">plus <code>bt_click</code>, the id of each click.</span>`;
}

export interface LinkPageView {
  link: TrackedLink;
  shortUrl: string;
  qrSvg: string;
  qrDownload: string;
  timezone: string;
  canWrite: boolean;
  editHref: string;
  archiveAction: string;
  csrf: Html;
  stats: Html;
  charts: Html;
}

export function linkPage(v: LinkPageView): Html {
  const l = v.link;
  return html`<section class="card link-head">
    <div>
      ${l.archived ? html`<p class="notice warn">This link is archived: its short URL answers 404 and it no longer counts clicks.</p>` : null}
      <p>${copyInline(v.shortUrl, "short URL")}</p>
      <dl class="facts">
        <dt>Destination</dt><dd><a href="${l.destinationUrl}" rel="noopener noreferrer" target="_blank">${l.destinationUrl}</a></dd>
        <dt>Campaign</dt><dd>${contextValue(l.campaignId)}</dd>
        <dt>Source</dt><dd>${contextValue(l.source)}</dd>
        <dt>Medium</dt><dd>${contextValue(l.medium)}</dd>
        <dt>Content</dt><dd>${contextValue(l.content)}</dd>
        <dt>Lead</dt><dd>${contextValue(l.leadId)}</dd>
        <dt>Link id</dt><dd><code>${l.linkId}</code></dd>
        <dt>Created</dt><dd>${formatDateTime(l.createdAt, v.timezone)}</dd>
        <dt>All-time clicks</dt><dd>${formatCount(l.clicks)}${l.lastClickedAt ? html` · last ${formatDateTime(l.lastClickedAt, v.timezone)}` : null}</dd>
      </dl>
      ${v.canWrite
        ? html`<div class="actions spaced">
            <a class="button" href="${v.editHref}">Edit</a>
            <form method="post" action="${v.archiveAction}" class="inline-form" ${l.archived ? null : html`data-confirm="Archive this link? Its short URL will stop working."`}>
              ${v.csrf}<input type="hidden" name="archived" value="${l.archived ? "0" : "1"}">
              <button type="submit" class="${l.archived ? "" : "danger"}">${l.archived ? "Restore" : "Archive"}</button>
            </form>
          </div>`
        : null}
    </div>
    <figure class="qr-figure">
      <div class="qr-box">${raw(v.qrSvg)}</div>
      <figcaption><a href="${v.qrDownload}" download>Download QR code (SVG)</a></figcaption>
    </figure>
  </section>
  ${v.stats}
  ${v.charts}`;
}
