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
