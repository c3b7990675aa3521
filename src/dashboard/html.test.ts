// The template escapes every interpolated value unless code marked it as trusted markup.
import { expect, test } from "bun:test";
import { html, raw } from "./html.ts";

test("text, numbers and attributes are escaped; lists are joined; absent values render as nothing", () => {
  const name = `<img src=x onerror=alert(1)>"'&`;
  const out = html`<p title="${name}">${name} ${42} ${["<b>", html`<i>ok</i>`]}${null}${undefined}${false}</p>`.value;
  expect(out).toBe(
    `<p title="&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;">&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp; 42 &lt;b&gt;<i>ok</i></p>`,
  );
});

test("only raw() and nested html fragments pass through unescaped", () => {
  expect(html`${raw("<svg></svg>")}${"<svg></svg>"}`.value).toBe("<svg></svg>&lt;svg&gt;&lt;/svg&gt;");
});
