// The pricing pattern: what it matches, that no path or pattern can stall the server, and what settings accept.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { getProject, updateProjectSettings } from "../projects/service.ts";
import { userWithRole } from "../dashboard/test-client.ts";
import { pricingPathMatcher } from "./pricing-pattern.ts";

const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

describe("matching", () => {
  test("* stands for anything, every other character for itself, and commas separate alternatives", () => {
    const cases: [string, string, boolean][] = [
      ["/pricing*", "/pricing", true],
      ["/pricing*", "/pricing/teams", true],
      ["/pricing*", "/blog/pricing", false],
      ["/plans.html", "/plansXhtml", false],
      ["/*/pricing", "/de/pricing", true],
      ["/*/pricing", "/pricing", false],
      ["/*/*/*/pricing*", "/a/b/c/pricing/yearly", true],
      ["/*/*/*/pricing*", "/a/b/pricing", false],
      ["/a*a", "/a", false],
      ["/a*a", "/aa", true],
      ["/*x*x*", "/x", false],
      ["/*x*x*", "/xyx", true],
      ["/plans, /*/pricing", "/de/pricing", true],
      ["/plans, /*/pricing", "/plans", true],
      ["/plans, /*/pricing", "/plan", false],
      ["*", "/anything", true],
    ];
    expect(cases.map(([pattern, path]) => [pattern, path, pricingPathMatcher(pattern)(path)])).toEqual(cases);
  });

  test("agrees with a regular expression on every short pattern and path", () => {
    const alphabet = ["/", "a", "b"];
    const words = (max: number, letters: string[]) => {
      let all = [""];
      const out = [""];
      for (let n = 1; n <= max; n++) {
        all = all.flatMap((w) => letters.map((l) => w + l));
        out.push(...all);
      }
      return out;
    };
    const patterns = words(5, [...alphabet, "*"]).map((w) => `/${w}`);
    const paths = words(6, alphabet).map((w) => `/${w}`);
    let disagreements = 0;
    for (const pattern of patterns) {
      const reference = new RegExp(`^${pattern.split("*").join(".*")}$`);
      const matches = pricingPathMatcher(pattern);
      for (const path of paths) if (matches(path) !== reference.test(path)) disagreements++;
    }
    expect(patterns.length * paths.length).toBeGreaterThan(1_000_000);
    expect(disagreements).toBe(0);
  });

  test("a pattern of 20 stars against a 4,000-character path answers at once", () => {
    const started = performance.now();
    const matches = pricingPathMatcher(`/${"*".repeat(20)}pricing`);
    expect(matches(`/${"a/".repeat(2000)}`)).toBe(false);
    expect(matches(`/${"a/".repeat(2000)}pricing`)).toBe(true);
    expect(pricingPathMatcher("/*".repeat(20))(`/${"a/".repeat(2000)}`)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("on the server", () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server.close());

  const view = (path: string) =>
    fetch(`${server.url}/api/collect`, {
      method: "POST",
      body: JSON.stringify({ t: server.project.token, n: "page_view", u: `https://site.example${path}`, r: "" }),
      headers: { "content-type": "text/plain", "user-agent": UA },
    });
  const pricingViews = async () =>
    (await server.storage.get<{ n: number }>("SELECT count(*) AS n FROM events WHERE project_id = ? AND name = 'pricing_view'", [server.project.id]))!.n;

  test("a 4,000-character path under /*/*/*/pricing* is judged quickly while /healthz keeps answering", async () => {
    await updateProjectSettings(server.instance.ctx.storage, server.project.id, { pricingPathPattern: "/*/*/*/pricing*" });
    const longPath = `/${"a/".repeat(2000)}`;
    const started = performance.now();
    const pageView = view(longPath);
    const health = await fetch(`${server.url}/healthz`);
    const healthAnsweredAfter = performance.now() - started;
    expect(health.status).toBe(200);
    expect((await pageView).status).toBe(200);
    // A backtracking matcher held the event loop for seconds on this path; a linear one takes microseconds.
    expect(healthAnsweredAfter).toBeLessThan(1500);
    expect(await pricingViews()).toBe(0);

    expect((await view(`${longPath}pricing`)).status).toBe(200);
    expect(await pricingViews()).toBe(1);
  });

  test("settings refuse a pattern that is too long, has control characters or an alternative not starting with /, and keep the old one", async () => {
    const admin = await userWithRole(server, "admin");
    await updateProjectSettings(server.instance.ctx.storage, server.project.id, { pricingPathPattern: "/pricing*" });
    const form = { name: "Test project", allowedHostnames: "", currency: "USD", timezone: "UTC", lookbackDays: "90" };
    for (const [pattern, message] of [
      [`/${"*".repeat(200)}`, "under 200 characters"],
      ["/pricing\u0000*", "without spaces"],
      ["/pricing\t*", "without spaces"],
      ["/pricing*,plans", "each starting with /"],
    ] as const) {
      const response = await admin.post(`/dashboard/${server.project.id}/settings/project`, { ...form, pricingPathPattern: pattern });
      expect(response.status).toBe(422);
      expect(await response.text()).toContain(message);
      expect((await getProject(server.instance.ctx.storage, server.project.id))!.pricingPathPattern).toBe("/pricing*");
    }
    const saved = await admin.post(`/dashboard/${server.project.id}/settings/project`, { ...form, pricingPathPattern: "/pricing*,/*/plans" });
    expect(saved.status).toBe(303);
    expect((await getProject(server.instance.ctx.storage, server.project.id))!.pricingPathPattern).toBe("/pricing*,/*/plans");
  });
});
