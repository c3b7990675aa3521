// Links pages: list, create and edit (every context field, live UTM preview), per-link stats, QR code, archive.
import { DashboardError, canWrite, csrfField, formString, pageResponse, redirectTo, renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import { ApiError } from "../../http/errors.ts";
import { createLink, getLink, updateLink, type TrackedLink } from "../../links/service.ts";
import { linkCreateSchema } from "../../links/model.ts";
import { redirectTarget } from "../../links/redirect.ts";
import { shortUrl } from "../../links/api.ts";
import { qrSvg } from "../qr.ts";
import { formatCompact, timeSeriesChart } from "../charts.ts";
import { bucketize, bucketsFor } from "./time.ts";
import { linksWithTraffic } from "./links.sql.ts";
import { primeRollups, rollupQuery, trafficSeries, visitorSeries } from "./rollups.ts";
import { attributionOn } from "../../reports/attribution.ts";
import { summaryOn } from "../../reports/summary.ts";
import { reportDb } from "../../reports/source.ts";
import { revenueChart, summaryTiles } from "./revenue.ts";
import { loadPaymentLinks } from "./payments.ts";
import { loadPayments } from "../../payments/service.ts";
import { html } from "../html.ts";
import { paymentsTable } from "../../../views/pages/payments.ts";
import type { FieldErrors } from "../../../views/components.ts";
import { chartCard, dataPage, statTiles } from "../../../views/pages/parts.ts";
import { LINK_FORM_FIELDS, linkForm, linkFormValues, linkList, linkPage, utmPreview, type LinkFormValues } from "../../../views/pages/links.ts";

async function requireLink(req: DashboardRequest): Promise<TrackedLink> {
  const link = await getLink(req.ctx.storage, req.project.id, req.params.linkId ?? "");
  if (!link) throw new DashboardError(404, "There is no such link in this project.");
  return link;
}

function readValues(source: FormData | URLSearchParams): LinkFormValues {
  const values = linkFormValues(null);
  for (const name of LINK_FORM_FIELDS) {
    const value = source.get(name);
    values[name] = typeof value === "string" ? value : "";
  }
  return values;
}

/** The link service's input: empty optional fields are absent (create) or cleared (edit). */
function toInput(values: LinkFormValues) {
  return {
    destinationUrl: values.destinationUrl,
    slug: values.slug.trim() || undefined,
    title: values.title,
    campaignId: values.campaignId || null,
    source: values.source || null,
    medium: values.medium || null,
    content: values.content || null,
    leadId: values.leadId || null,
  };
}

/** Every problem next to its field, from the same schema the link service enforces. */
function fieldErrors(values: LinkFormValues): FieldErrors {
  const parsed = linkCreateSchema.safeParse(toInput(values));
  const errors: FieldErrors = {};
  if (parsed.success) return errors;
  for (const issue of parsed.error.issues) {
    const name = String(issue.path[0] ?? "");
    errors[name] ??= issue.message;
  }
  return errors;
}

function previewTarget(req: DashboardRequest, values: LinkFormValues): string | null {
  try {
    const { campaignId, source, medium, content, leadId } = toInput(values);
    const link = { linkId: "", projectId: req.project.id, slug: "", destinationUrl: values.destinationUrl.trim(), context: { linkId: "", campaignId, source, medium, content, leadId } };
    return /^https?:\/\//i.test(link.destinationUrl) ? redirectTarget(link, null, null) : null;
  } catch {
    return null;
  }
}

function formPage(req: DashboardRequest, options: { link: TrackedLink | null; values: LinkFormValues; errors: FieldErrors; formError?: string | null; status: number }) {
  const { link, values } = options;
  const body = linkForm({
    values,
    errors: options.errors,
    formError: options.formError,
    action: req.href(link ? `/links/${encodeURIComponent(link.linkId)}` : "/links"),
    previewUrl: req.href("/links/preview"),
    preview: utmPreview(previewTarget(req, values)),
    csrf: csrfField(req),
    submitLabel: link ? "Save changes" : "Create link",
    cancelHref: req.href(link ? `/links/${encodeURIComponent(link.linkId)}` : "/links"),
    shortUrlPrefix: `${req.baseUrl}/l/`,
  });
  const page = renderPage(req, { title: link ? `Edit ${link.title || link.slug}` : "New link", body: dataPage(body) });
  return options.status === 200 ? page : pageResponse(page, options.status);
}

/** Saves the form through the link service; answers 422 with the form and its messages when refused. */
async function save(req: DashboardRequest, link: TrackedLink | null) {
  const values = readValues(req.form);
  const errors = fieldErrors(values);
  if (Object.keys(errors).length > 0) return formPage(req, { link, values, errors, status: 422 });
  try {
    const input = toInput(values);
    const now = req.ctx.now();
    const saved = link
      ? await updateLink(req.ctx.storage, req.project.id, link.linkId, { ...input, slug: input.slug ?? link.slug }, now)
      : await createLink(req.ctx.storage, req.project.id, input, now);
    return redirectTo(req, req.href(`/links/${encodeURIComponent(saved.linkId)}`));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const slugTaken = error.code === "slug_taken";
    return formPage(req, { link, values, errors: slugTaken ? { slug: "This slug is already taken; pick another." } : {}, formError: slugTaken ? null : error.message, status: slugTaken ? 409 : 422 });
  }
}

/** Clicks, visitors and signups over time, and the revenue chart, from the dashboard's rollups (primed first on PostgreSQL). */
async function linkCharts(req: DashboardRequest, link: TrackedLink) {
  const range = req.range;
  const q = rollupQuery(req, { filter: { link: link.linkId } });
  await primeRollups(q);
  const hourly = trafficSeries(q);
  const buckets = bucketsFor(range, range.timezone);
  const lines = [
    { label: "Clicks", points: bucketize(hourly, buckets, (r) => r.clicks) },
    { label: "Visitors", points: visitorSeries(q, buckets) },
    { label: "Signups", points: bucketize(hourly, buckets, (r) => r.signups) },
  ];
  return html`<div class="charts">
      ${chartCard(
        "Over time",
        timeSeriesChart({ title: `Clicks, visitors and signups of ${link.title || link.slug}`, series: lines, bucketMs: buckets.bucketMs, timeZone: range.timezone, formatValue: formatCompact }),
        lines.map((l) => l.label),
      )}
      ${revenueChart(q, buckets, req.href("/settings/rates"))}
    </div>`;
}

async function linkDetail(req: DashboardRequest, link: TrackedLink) {
  const { storage } = req.ctx;
  const { project, range } = req;
  const db = reportDb(req.ctx);
  const now = req.ctx.now();
  const filter = { link: link.linkId };
  const [current, previous, payments, charts] = await Promise.all([
    summaryOn(db, project, { from: range.from, to: range.to, filter }, now),
    summaryOn(db, project, { from: range.previousFrom, to: range.previousTo, filter }, now),
    loadPayments(storage, project.id, { linkId: link.linkId, from: range.from, to: range.to, limit: 20 }).then((page) => page.payments),
    linkCharts(req, link),
  ]);
  const url = shortUrl(req.baseUrl, link.slug);
  const links = await loadPaymentLinks(req, payments);
  return linkPage({
    link,
    shortUrl: url,
    qrSvg: qrSvg(url, { title: `QR code for ${url}` }),
    qrDownload: req.href(`/links/${encodeURIComponent(link.linkId)}/qr.svg`),
    timezone: project.timezone,
    canWrite: canWrite(req.user),
    editHref: req.href(`/links/${encodeURIComponent(link.linkId)}/edit`),
    archiveAction: req.href(`/links/${encodeURIComponent(link.linkId)}/archive`),
    csrf: csrfField(req),
    stats: statTiles(summaryTiles(current, previous, "clicks")),
    charts: html`${charts}
    <section class="card"><h2>Payments attributed to this link</h2>${paymentsTable(payments, links, "No payment was attributed to this link in this period.")}</section>`,
  });
}

export function linksPages(router: DashboardRouter): void {
  router
    .get("/links", async (req) => {
      const archived = req.query.get("archived") === "1";
      const search = req.query.get("q")?.slice(0, 200) ?? "";
      const report = await attributionOn(reportDb(req.ctx), req.project, { groupBy: "link", from: req.range.from, to: req.range.to }, req.ctx.now());
      const links = await linksWithTraffic(req.ctx.storage, req.project.id, report, { archived, search });
      const body = linkList({
        links,
        archived,
        search,
        canWrite: canWrite(req.user),
        shortUrl: (slug) => shortUrl(req.baseUrl, slug),
        href: req.href,
        action: req.url.pathname,
      });
      return renderPage(req, { title: archived ? "Archived links" : "Links", showRange: true, body: dataPage(body) });
    })
    .get("/links/new", (req) => formPage(req, { link: null, values: linkFormValues(null), errors: {}, status: 200 }), { role: "admin" })
    .post("/links", (req) => save(req, null))
    .get("/links/preview", (req) => utmPreview(previewTarget(req, readValues(req.query))))
    .get("/links/:linkId", async (req) => {
      const link = await requireLink(req);
      return renderPage(req, { title: link.title || link.slug, showRange: true, body: dataPage(await linkDetail(req, link)) });
    })
    .get(
      "/links/:linkId/edit",
      async (req) => {
        const link = await requireLink(req);
        return formPage(req, { link, values: linkFormValues(link), errors: {}, status: 200 });
      },
      { role: "admin" },
    )
    .post("/links/:linkId", async (req) => save(req, await requireLink(req)))
    .post("/links/:linkId/archive", async (req) => {
      const link = await requireLink(req);
      await updateLink(req.ctx.storage, req.project.id, link.linkId, { archived: formString(req.form, "archived") !== "0" }, req.ctx.now());
      return redirectTo(req, req.href(`/links/${encodeURIComponent(link.linkId)}`));
    })
    .get("/links/:linkId/qr.svg", async (req) => {
      const link = await requireLink(req);
      const svg = `<?xml version="1.0" encoding="UTF-8"?>\n${qrSvg(shortUrl(req.baseUrl, link.slug), { size: 512 })}`;
      return new Response(svg, {
        headers: {
          "content-type": "image/svg+xml; charset=utf-8",
          "content-disposition": `attachment; filename="qr-${link.slug.replace(/[^A-Za-z0-9_-]/g, "_")}.svg"`,
        },
      });
    });
}
