// Shared pieces of the benchmarks: medians, a bare Bun.serve baseline, wrk runs on loopback.
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

export interface WrkResult {
  requestsPerSecond: number;
  p99Ms: number;
  p50Ms: number;
  non2xx3xx: number;
}

/** Runs wrk (bounded by `seconds`) and parses its latency distribution. */
export async function wrk(url: string, options: { seconds?: number; connections?: number; threads?: number; script?: string } = {}): Promise<WrkResult> {
  const args = ["wrk", `-t${options.threads ?? 2}`, `-c${options.connections ?? 32}`, `-d${options.seconds ?? 5}s`, "--latency"];
  if (options.script) args.push("-s", options.script);
  const proc = Bun.spawn([...args, url], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const toMs = (value: string, unit: string) => Number(value) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? 1);
  const latency = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(out);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p99Ms: latency("99"),
    p50Ms: latency("50"),
    non2xx3xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
  };
}

export function hasWrk(): boolean {
  return Bun.which("wrk") !== null;
}
