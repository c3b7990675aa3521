// Shared pieces of the benchmarks: medians, percentiles and aligned result rows.
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function row(label: string, value: string, baseline?: string): void {
  console.log(`${label.padEnd(52)} ${value.padStart(16)}${baseline ? `   (baseline: ${baseline})` : ""}`);
}

const WRK = process.env.WRK ?? "/usr/bin/wrk";

export interface WrkResult {
  requests: number;
  cpuMicrosPerRequest: number;
  perSecond: number;
  p99Ms: number;
  non2xx3xx: number;
  errors: number;
}

function milliseconds(value: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!match) return NaN;
  const n = Number(match[1]);
  return match[2] === "us" ? n / 1000 : match[2] === "s" ? n * 1000 : n;
}

/** `wrk -t2 -c32` for `seconds` (fewer threads and connections when several run at once). */
export async function wrk(url: string, script: string, seconds: number, load: { threads: number; connections: number } = { threads: 2, connections: 32 }): Promise<WrkResult> {
  // With the servers in this process (bench/tracking.ts), its CPU time during a phase is what answering
  // cost; unlike requests per second, that barely moves when other work shares the cores.
  const cpuBefore = process.cpuUsage();
  const proc = Bun.spawn([WRK, `-t${load.threads}`, `-c${load.connections}`, `-d${seconds}s`, "--latency", "-s", script, url], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const cpu = process.cpuUsage(cpuBefore);
  const number = (pattern: RegExp) => Number(pattern.exec(out)?.[1] ?? 0);
  const requests = number(/(\d+) requests in/);
  return {
    requests,
    cpuMicrosPerRequest: (cpu.user + cpu.system) / Math.max(requests, 1),
    perSecond: number(/Requests\/sec:\s+([\d.]+)/),
    p99Ms: milliseconds(/\s99%\s+(\S+)/.exec(out)?.[1] ?? "NaN"),
    non2xx3xx: number(/Non-2xx or 3xx responses: (\d+)/),
    errors: [...out.matchAll(/(?:connect|read|write|timeout) (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0),
  };
}

export const BROWSER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";

/** wrk's script for redirects spread evenly over `slugs`, or skewed like real traffic (over half the clicks on the top 1 %). */
export function redirectScript(slugs: readonly string[], skewed = false): string {
  const pick = skewed ? "slugs[1 + math.floor(#slugs * math.random() ^ 8)]" : "slugs[math.random(#slugs)]";
  return `local slugs = {${slugs.map((s) => `"${s}"`).join(",")}}
wrk.headers["User-Agent"] = "${BROWSER_UA}"
request = function() return wrk.format("GET", "/l/" .. ${pick}) end
`;
}

/** wrk's script for the tracker's page views of `token`'s project, from a thousand different browsers. */
export function collectScript(token: string): string {
  return `wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
local paths = {"/", "/pricing", "/docs", "/blog/post"}
request = function()
  local body = '{"t":"${token}","n":"page_view","u":"https://site.example' .. paths[math.random(#paths)] .. '?utm_source=bench","r":"https://news.example/"}'
  -- a thousand different browsers, so the load spreads over many visitors and sessions
  return wrk.format(nil, "/api/collect", {["User-Agent"] = "${BROWSER_UA} v" .. math.random(1000), ["Content-Type"] = "text/plain;charset=UTF-8"}, body)
end
`;
}

/** The baseline: a bare Bun.serve answering the same requests with no work, a fixed 302 or a read body and a small JSON. */
export function bareServer(): { url: string; stop(): void } {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      if (request.method === "POST") {
        await request.text();
        return Response.json({ visitorId: "v", sessionId: "s" }, { headers: { "access-control-allow-origin": "*" } });
      }
      return new Response(null, { status: 302, headers: { location: "https://example.com/p/1?ref=bench&bt_click=x#top" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
