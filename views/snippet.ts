// The tracker snippet in both forms of SPEC §3, ready to paste.
import { html, type Html } from "../src/dashboard/html.ts";
import { copyable } from "./components.ts";

export function snippetForms(baseUrl: string, token: string): { attribute: string; global: string } {
  return {
    attribute: `<script src="${baseUrl}/bantico.js" data-token="${token}" data-persist></script>`,
    global: `<script>window.BANTICO_TOKEN = "${token}";</script>\n<script src="${baseUrl}/bantico.js"></script>`,
  };
}

export function snippetBlock(baseUrl: string, token: string): Html {
  const forms = snippetForms(baseUrl, token);
  return html`<div class="snippet">
    <p>Paste one of these into the <code>&lt;head&gt;</code> of every page of your site.</p>
    <h3>With a data attribute</h3>
    ${copyable(forms.attribute, "the snippet with a data attribute")}
    <p class="hint"><code>data-persist</code> keeps a first-party cookie so returning visitors are recognised across days. Remove it to stay cookieless.</p>
    <h3>With a global variable</h3>
    ${copyable(forms.global, "the snippet with a global variable")}
    <p class="hint">Useful when your framework does not let you add attributes to script tags. Project token: <code>${token}</code></p>
  </div>`;
}
