// HTML by tagged template: every interpolated value is escaped unless it is already Html.
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** A value that may be interpolated into `html`: escaped text, trusted Html, or a list of either. */
export type HtmlValue = Html | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.value;
  if (value === null || value === undefined || value === false || value === true) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  return Bun.escapeHTML(String(value));
}

/**
 * html`<p>${name}</p>`: escapes `name`. `null`, `undefined` and booleans render as nothing
 * (so `${cond && html`…`}` works); arrays are joined without separators.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Trusted markup, inserted as is. Only for fragments built by code, never for user input. */
export function raw(markup: string): Html {
  return new Html(markup);
}

export function htmlResponse(body: Html, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  if (!headers.has("content-type")) headers.set("content-type", "text/html; charset=utf-8");
  return new Response(body.value, { ...init, headers });
}
