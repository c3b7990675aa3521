// The README's provider sections name the same events the dashboard tells founders to subscribe to.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { PROVIDER_GUIDES } from "./guides.ts";

test("the README lists, per provider, every event the integrations page shows", () => {
  const sections = readFileSync(new URL("../../README.md", import.meta.url), "utf8").split(/^### /m);
  for (const guide of Object.values(PROVIDER_GUIDES)) {
    const section = sections.find((s) => s.startsWith(guide.name)) ?? "";
    expect(section).not.toBe("");
    for (const event of guide.events) expect(section).toContain(`\`${event}\``);
  }
});
