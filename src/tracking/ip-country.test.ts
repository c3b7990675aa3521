import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import ipv4Rows from "@ip-location-db/geo-whois-asn-country/geo-whois-asn-country-ipv4.csv" with { type: "file" };
import ipv6Rows from "@ip-location-db/geo-whois-asn-country/geo-whois-asn-country-ipv6.csv" with { type: "file" };
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { tableAsText, tableNames } from "../testing/stored.ts";
import { countryOfIp } from "./ip-country.ts";

const BROWSER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";

/** The database's own rows (`start,end,CC`, addresses as text), as shipped in the package. */
const rowsOf = (path: string) => readFileSync(path, "latin1").trim().split("\n").map((line) => line.split(",") as [string, string, string]);
const rows = { ipv4: rowsOf(ipv4Rows), ipv6: rowsOf(ipv6Rows) };

/** Asserts that the data file has this row, so a data update that drops it fails here rather than in a lookup. */
function expectRow(family: "ipv4" | "ipv6", row: string) {
  expect(rows[family].map((r) => r.join(","))).toContain(row);
}

describe("the embedded IP-to-country database", () => {
  test("an IPv4 address inside a range answers that range's country", () => {
    expectRow("ipv4", "1.0.1.0,1.0.3.255,CN");
    expect(countryOfIp("1.0.2.77")).toBe("CN");
    expectRow("ipv4", "185.199.108.0,185.199.111.255,US");
    expect(countryOfIp("185.199.110.153")).toBe("US");
    expectRow("ipv4", "223.255.255.0,223.255.255.255,AU");
    expect(countryOfIp("223.255.255.255")).toBe("AU");
  });

  test("an IPv6 address inside a range answers that range's country, however it is written", () => {
    expectRow("ipv6", "2a00:1450::,2a00:1457:ffff:ffff:ffff:ffff:ffff:ffff,IE");
    expect(countryOfIp("2a00:1450:4001:82a::200e")).toBe("IE");
    expect(countryOfIp("2A00:1450:4001:082A:0000:0000:0000:200E")).toBe("IE");
    expectRow("ipv6", "2c0f:20::,2c0f:20:ffff:ffff:ffff:ffff:ffff:ffff,KE");
    expect(countryOfIp("2c0f:20:1::1")).toBe("KE");
    expectRow("ipv6", "2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,US");
    expect(countryOfIp("2001:4860:4860::8888")).toBe("US");
  });

  test("an IPv4-mapped IPv6 address answers the IPv4 address's country", () => {
    expect(countryOfIp("::ffff:1.0.2.77")).toBe("CN");
    expect(countryOfIp("::ffff:b9c7:6e99")).toBe("US"); // 185.199.110.153
  });

  test("a single address published inside a wider range answers its own country, its neighbours the wider one's", () => {
    expectRow("ipv4", "2.58.196.0,2.58.197.255,DE");
    expectRow("ipv4", "2.58.197.15,2.58.197.15,BE");
    expect([countryOfIp("2.58.197.14"), countryOfIp("2.58.197.15"), countryOfIp("2.58.197.16")]).toEqual(["DE", "BE", "DE"]);
  });

  test("private, loopback, link-local, documentation and multicast addresses answer null, even where the published data names a country", () => {
    expectRow("ipv4", "192.168.0.0,192.168.255.255,AU");
    expectRow("ipv6", "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,JP");
    const notPublic = ["127.0.0.1", "10.1.2.3", "172.16.5.4", "192.168.1.20", "100.64.1.1", "169.254.1.1", "192.0.2.7", "198.51.100.7", "203.0.113.7", "224.0.0.251", "255.255.255.255", "0.0.0.0"];
    notPublic.push("::1", "::", "fe80::1", "fd00::1", "ff02::1", "2001:db8::1", "2001:0:4136:e378::1", "::ffff:127.0.0.1", "::ffff:192.168.0.1");
    for (const ip of notPublic) {
      expect({ ip, country: countryOfIp(ip) }).toEqual({ ip, country: null });
    }
  });

  test("anything that is not an address answers null", () => {
    const notAddresses = ["", "garbage", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "1..2.3", "1.2.3.4:80", "fe80::1%eth0", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "[::1]", "x".repeat(200)];
    for (const text of notAddresses) expect({ text, country: countryOfIp(text) }).toEqual({ text, country: null });
  });

  test("the first address of every published range answers that range's country", () => {
    for (const family of ["ipv4", "ipv6"] as const) {
      const table = rows[family];
      const wrong: string[] = [];
      const notPublic: string[] = [];
      for (let i = 0; i < table.length; i++) {
        const [start, , country] = table[i]!;
        // Where two rows start at the same address the later, narrower one is meant.
        if (table[i + 1]?.[0] === start) continue;
        const found = countryOfIp(start);
        if (found === null) notPublic.push(start);
        else if (found !== country) wrong.push(table[i]!.join(","));
      }
      expect({ family, wrong: wrong.slice(0, 5) }).toEqual({ family, wrong: [] });
      // Only the few published rows in special-purpose blocks (checked above) answer null.
      expect(notPublic.length).toBeLessThan(table.length / 1000);
    }
  });
});

describe("country at collect and click time, behind a trusted proxy on loopback", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { trustedProxies: ["127.0.0.1"] } });
  });
  afterAll(() => server.close());

  let visitors = 0;
  /** A first visit by a new visitor (one session each), answering the country stored on its session. */
  async function sessionCountry(headers: Record<string, string>) {
    const visitorId = `country_visitor_${++visitors}`;
    const response = await fetch(`${server.url}/api/collect`, {
      method: "POST",
      body: JSON.stringify({ t: server.project.token, n: "page_view", u: "https://site.example/", r: "", v: visitorId }),
      headers: { "content-type": "text/plain;charset=UTF-8", "user-agent": BROWSER_UA, ...headers },
    });
    expect(response.status).toBe(200);
    const { sessionId } = (await response.json()) as { sessionId: string };
    return (await server.storage.get<{ country: string | null }>("SELECT country FROM sessions WHERE id = ?", [sessionId]))!.country;
  }

  async function clickCountry(slug: string, headers: Record<string, string>) {
    const created = await server.api("/api/v1/links", { method: "POST", json: { destinationUrl: "https://example.com/", slug } });
    expect(created.status).toBe(201);
    const response = await fetch(`${server.url}/l/${slug}`, { redirect: "manual", headers: { "user-agent": BROWSER_UA, ...headers } });
    expect(response.status).toBe(302);
    const clickId = new URL(response.headers.get("location")!).searchParams.get("bt_click")!;
    return (await server.storage.get<{ country: string | null }>("SELECT country FROM clicks WHERE id = ?", [clickId]))!.country;
  }

  test("a visit's session gets the country of the forwarded IPv4 or IPv6 address", async () => {
    expect(await sessionCountry({ "x-forwarded-for": "1.0.2.77" })).toBe("CN");
    expect(await sessionCountry({ "x-forwarded-for": "2a00:1450:4001:82a::200e, 127.0.0.1" })).toBe("IE");
  });

  test("a visit from an address in no range has no country", async () => {
    expect(await sessionCountry({ "x-forwarded-for": "10.1.2.3" })).toBeNull();
  });

  test("a click through /l/{slug} gets the country of the forwarded address", async () => {
    expect(await clickCountry("country-click", { "x-forwarded-for": "185.199.110.153" })).toBe("US");
  });

  test("the proxy's country header wins over the database", async () => {
    expect(await sessionCountry({ "x-forwarded-for": "1.0.2.77", "cf-ipcountry": "fr" })).toBe("FR");
    expect(await clickCountry("country-header", { "x-forwarded-for": "185.199.110.153", "cf-ipcountry": "DE" })).toBe("DE");
  });

  test("an unknown or Tor country header leaves the answer to the database", async () => {
    expect(await sessionCountry({ "x-forwarded-for": "1.0.2.77", "cf-ipcountry": "XX" })).toBe("CN");
    expect(await clickCountry("country-tor", { "x-forwarded-for": "185.199.110.153", "cf-ipcountry": "T1" })).toBe("US");
  });

  test("the IP is not stored anywhere in the database", async () => {
    await sessionCountry({ "x-forwarded-for": "1.0.2.77" });
    await clickCountry("country-no-ip", { "x-forwarded-for": "1.0.2.77" });
    const tables = await tableNames(server.storage);
    expect(tables).toEqual(expect.arrayContaining(["sessions", "clicks", "events"]));
    for (const table of tables) {
      const everything = await tableAsText(server.storage, table);
      expect({ table, hasIp: everything.includes("1.0.2.77") }).toEqual({ table, hasIp: false });
    }
  });
});
