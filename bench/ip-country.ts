// Cost of the embedded IP-to-country database: reading it at start, and one lookup on the collect and redirect paths.
import { countryOfIp, loadIpCountries } from "../src/tracking/ip-country.ts";
import { median, row } from "./lib.ts";

const started = performance.now();
loadIpCountries();
row("load IP-to-country tables at start", `${(performance.now() - started).toFixed(0)} ms`);

// Addresses spread over the whole space, IPv4 and IPv6, as text the way a socket or X-Forwarded-For gives them.
const ipv4 = Array.from({ length: 4096 }, (_, i) => `${(i * 61) % 224}.${(i * 7) % 256}.${(i * 13) % 256}.${i % 256}`);
const ipv6Prefixes = ["2001:4860", "2400:cb00", "2603:1030", "2a00:1450", "2a02:2e0", "2800:3f0", "2c0f:f248", "2001:67c"];
const ipv6 = Array.from({ length: 4096 }, (_, i) => `${ipv6Prefixes[i % ipv6Prefixes.length]}:${(i * 40503 % 65536).toString(16)}::${i.toString(16)}`);
const request = new Request("http://localhost/l/x", { headers: { "user-agent": "Mozilla/5.0", "x-forwarded-for": "1.2.3.4" } });

function nanosecondsPerCall(call: (i: number) => unknown, calls = 2_000_000): number {
  const runs: number[] = [];
  let sink = 0;
  for (let run = 0; run < 5; run++) {
    const start = Bun.nanoseconds();
    for (let i = 0; i < calls; i++) if (call(i & 4095) !== null) sink++;
    runs.push((Bun.nanoseconds() - start) / calls);
  }
  if (sink < 0) console.log(sink);
  return median(runs);
}

const header = nanosecondsPerCall(() => request.headers.get("user-agent"));
row("countryOfIp, IPv4", `${nanosecondsPerCall((i) => countryOfIp(ipv4[i]!)).toFixed(0)} ns/call`, `headers.get ${header.toFixed(0)} ns`);
row("countryOfIp, IPv6", `${nanosecondsPerCall((i) => countryOfIp(ipv6[i]!)).toFixed(0)} ns/call`, `headers.get ${header.toFixed(0)} ns`);
row("countries found (IPv4, IPv6 samples)", `${ipv4.filter((ip) => countryOfIp(ip)).length}/4096, ${ipv6.filter((ip) => countryOfIp(ip)).length}/4096`);
