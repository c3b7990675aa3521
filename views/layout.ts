// The page shell: navigation, project switcher, date-range picker, account menu; and the bare
// shell for pages before sign-in.
import { html, type Html } from "../src/dashboard/html.ts";
import { ASSET_URLS } from "../src/dashboard/assets.ts";
import { csrfInput } from "./components.ts";
import { SECTIONS, type SectionId } from "../src/dashboard/sections.ts";
import { FILTER_KEYS, RANGE_PRESETS, rangeQuery, type RangeKey, type Filters } from "../src/dashboard/range.ts";

export interface LayoutProject {
  id: string;
  name: string;
}

export interface LayoutRange {
  key: RangeKey;
  fromDate: string;
  toDate: string;
  filters: Filters;
  error: string | null;
}

export interface Flash {
  kind: "ok" | "error";
  text: string;
}

export interface LayoutData {
  title: string;
  user: { email: string; role: string };
  csrfToken: string;
  project: LayoutProject | null;
  projects: LayoutProject[];
  section: SectionId | null;
  /** The current path without query: range links and the switcher keep the reader where they are. */
  path: string;
  /** Shown on pages whose numbers depend on the period; null hides the picker. */
  range: LayoutRange | null;
  flash?: Flash | null;
  canWrite: boolean;
}

const RANGE_LABELS: Record<RangeKey, string> = { today: "Today", "7d": "7 days", "30d": "30 days", "90d": "90 days", "365d": "365 days", custom: "Custom" };

function head(title: string, csrfToken: string | null): Html {
  return html`<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="same-origin">
${csrfToken ? html`<meta name="csrf-token" content="${csrfToken}">` : null}
<title>${title} · Bantico</title>
<link rel="stylesheet" href="${ASSET_URLS.css}">
<link rel="icon" href="data:,">
<script src="${ASSET_URLS.htmx}" defer></script>
<script src="${ASSET_URLS.js}" defer></script>
</head>`;
}

export function layout(data: LayoutData, content: Html): Html {
  const headers = JSON.stringify({ "X-CSRF-Token": data.csrfToken });
  return html`<!doctype html>
<html lang="en">
${head(data.project ? `${data.title} · ${data.project.name}` : data.title, data.csrfToken)}
<body hx-headers:inherited="${headers}">
<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
  <a class="brand" href="/dashboard" aria-label="Bantico home">Bantico</a>
  ${projectSwitcher(data)}
  <details class="menu account">
    <summary aria-label="Account menu">${data.user.email}</summary>
    <div class="menu-panel">
      <p class="muted">Signed in as ${data.user.email} (${data.user.role})</p>
      <a href="/account">Account and password</a>
      <form method="post" action="/logout">
        ${csrfInput(data.csrfToken)}
        <button type="submit" class="link">Sign out</button>
      </form>
    </div>
  </details>
</header>
<div class="frame${data.project ? "" : " no-nav"}">
  ${data.project ? sectionNav(data.project, data.section) : null}
  <main id="main" tabindex="-1">
    <div class="page-head">
      <h1>${data.title}</h1>
      ${data.range ? rangePicker(data.path, data.range) : null}
    </div>
    ${data.range?.error ? html`<p class="notice error" role="alert">${data.range.error} Showing the last 30 days.</p>` : null}
    ${data.range ? filterChips(data.path, data.range) : null}
    ${data.flash ? html`<p class="notice ${data.flash.kind}" role="status">${data.flash.text}</p>` : null}
    ${content}
  </main>
</div>
</body>
</html>`;
}

/** Pages shown before sign-in (setup, login): no navigation, a narrow card. */
export function bareLayout(title: string, content: Html, csrfToken: string | null = null): Html {
  return html`<!doctype html>
<html lang="en">
${head(title, csrfToken)}
<body class="bare">
<main id="main" class="card narrow">
  <p class="brand">Bantico</p>
  ${content}
</main>
</body>
</html>`;
}

function projectSwitcher(data: LayoutData): Html | null {
  if (!data.project) return null;
  const sectionPath = SECTIONS.find((s) => s.id === data.section)?.path ?? "";
  return html`<details class="menu switcher">
    <summary aria-label="Switch project">${data.project.name}</summary>
    <div class="menu-panel">
      <ul role="list">
        ${data.projects.map(
          (p) => html`<li><a href="/dashboard/${p.id}${sectionPath}" ${p.id === data.project!.id ? html`aria-current="true"` : null}>${p.name}</a></li>`,
        )}
      </ul>
      ${data.canWrite ? html`<a class="button small" href="/projects/new">New project</a>` : null}
    </div>
  </details>`;
}

function sectionNav(project: LayoutProject, current: SectionId | null): Html {
  return html`<nav class="sections" aria-label="Sections">
    <ul role="list">
      ${SECTIONS.map(
        (s) => html`<li><a href="/dashboard/${project.id}${s.path}" ${s.id === current ? html`aria-current="page"` : null}>${s.label}</a></li>`,
      )}
    </ul>
  </nav>`;
}

function hrefWith(path: string, query: URLSearchParams): string {
  const qs = query.toString();
  return qs ? `${path}?${qs}` : path;
}

function rangePicker(path: string, range: LayoutRange): Html {
  const presetLinks = RANGE_PRESETS.map((key) => {
    const query = rangeQuery({ key, fromDate: "", toDate: "", filters: range.filters });
    return html`<a href="${hrefWith(path, query)}" ${range.key === key ? html`aria-current="true"` : null}>${RANGE_LABELS[key]}</a>`;
  });
  return html`<div class="range" role="group" aria-label="Date range">
    ${presetLinks}
    <details class="menu custom-range" ${range.key === "custom" ? html`data-active` : null}>
      <summary ${range.key === "custom" ? html`aria-current="true"` : null}>${range.key === "custom" ? `${range.fromDate} – ${range.toDate}` : "Custom"}</summary>
      <form method="get" action="${path}" class="menu-panel">
        <input type="hidden" name="range" value="custom">
        ${FILTER_KEYS.map((k) => (range.filters[k] ? html`<input type="hidden" name="${k}" value="${range.filters[k]}">` : null))}
        <label>From <input type="date" name="from" value="${range.fromDate}" required></label>
        <label>To <input type="date" name="to" value="${range.toDate}" required></label>
        <button type="submit">Apply</button>
      </form>
    </details>
  </div>`;
}

function filterChips(path: string, range: LayoutRange): Html | null {
  const active = FILTER_KEYS.filter((k) => range.filters[k]);
  if (active.length === 0) return null;
  return html`<ul class="chips" role="list" aria-label="Filters">
    ${active.map((key) => {
      const filters = { ...range.filters };
      delete filters[key];
      return html`<li>${key}: <strong>${range.filters[key]}</strong> <a href="${hrefWith(path, rangeQuery({ ...range, filters }))}" aria-label="Remove filter ${key}">×</a></li>`;
    })}
  </ul>`;
}
