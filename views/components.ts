// Small building blocks shared by the dashboard's views: form fields with their error, copy buttons.
import { html, type Html, type HtmlValue } from "../src/dashboard/html.ts";

/** The hidden CSRF field every form posts back (the router checks it on each non-GET). */
export const csrfInput = (token: string): Html => html`<input type="hidden" name="_csrf" value="${token}">`;

/** Per-field messages from server-side validation, keyed by the input's name. */
export type FieldErrors = Record<string, string | undefined>;

export interface FieldOptions {
  label: string;
  name: string;
  /** Element id; defaults to f-{name}. Set it when two forms on a page share a field name. */
  id?: string;
  value?: string | number | null;
  type?: string;
  error?: string | undefined;
  hint?: HtmlValue;
  required?: boolean;
  autocomplete?: string;
  placeholder?: string;
  /** Renders a <textarea> with this many rows instead of an <input>. */
  rows?: number;
  /** Renders a <select> with these options. */
  options?: readonly { value: string; label: string }[];
  attrs?: Html;
}

/** A labelled input with its hint and its error, linked by aria-describedby for screen readers. */
export function field(o: FieldOptions): Html {
  const id = o.id ?? `f-${o.name}`;
  const describedBy = [o.hint ? `${id}-hint` : "", o.error ? `${id}-error` : ""].filter(Boolean).join(" ");
  const common = html`id="${id}" name="${o.name}" ${o.required ? html`required` : null} ${o.error ? html`aria-invalid="true"` : null} ${describedBy ? html`aria-describedby="${describedBy}"` : null} ${o.attrs ?? null}`;
  const value = o.value === null || o.value === undefined ? "" : String(o.value);
  let control: Html;
  if (o.options) {
    control = html`<select ${common}>${o.options.map((opt) => html`<option value="${opt.value}" ${opt.value === value ? html`selected` : null}>${opt.label}</option>`)}</select>`;
  } else if (o.rows) {
    control = html`<textarea ${common} rows="${o.rows}" ${o.placeholder ? html`placeholder="${o.placeholder}"` : null}>${value}</textarea>`;
  } else {
    control = html`<input ${common} type="${o.type ?? "text"}" value="${value}" ${o.autocomplete ? html`autocomplete="${o.autocomplete}"` : null} ${o.placeholder ? html`placeholder="${o.placeholder}"` : null}>`;
  }
  return html`<div class="field${o.error ? " has-error" : ""}">
    <label for="${id}">${o.label}</label>
    ${control}
    ${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : null}
    ${o.error ? html`<p class="error" id="${id}-error">${o.error}</p>` : null}
  </div>`;
}

/** A read-only code block with a button that copies it (works without JS: the text is selectable). */
export function copyable(text: string, label: string): Html {
  return html`<div class="copyable">
    <pre tabindex="0"><code>${text}</code></pre>
    <button type="button" class="small" data-copy="${text}" aria-label="Copy ${label}">Copy</button>
  </div>`;
}

/** A one-line value (short URL, key, webhook URL) with a copy button. */
export function copyInline(text: string, label: string): Html {
  return html`<span class="copy-inline"><code>${text}</code> <button type="button" class="small" data-copy="${text}" aria-label="Copy ${label}">Copy</button></span>`;
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

/** "21 Nov 2026, 14:05" in the project's time zone; formatters are cached (tables format hundreds of rows). */
export function formatDateTime(ms: number | null, timezone: string): string {
  if (ms === null) return "never";
  let format = dateTimeFormats.get(timezone);
  if (!format) dateTimeFormats.set(timezone, (format = new Intl.DateTimeFormat("en-GB", { timeZone: timezone, dateStyle: "medium", timeStyle: "short" })));
  return format.format(ms);
}
