// Distinct counting of visitors and people (SPEC §10): exact up to EXACT_LIMIT ids, then a HyperLogLog
// with 2^16 registers (standard error 0.4 %) read with Ertl's improved estimator, which needs no
// empirical bias tables and holds across the whole range.

/** A 52-bit hash of an id (two 32-bit hashes), never 0: 0 marks an empty slot below. */
export function hashId(id: string): number {
  return Bun.hash.xxHash32(id, 0x5eed) * 0x100000 + (Bun.hash.xxHash32(id, 0xb7e15163) >>> 12) + 1;
}

export const EXACT_LIMIT = 2048;
const P = 16;
const M = 1 << P;
// Rank bits: the 36 bits of the hash above the register index (52 - 16).
const Q = 36;

/** A power of two with room for `expected` entries at most half full. */
function capacityFor(expected: number): number {
  let capacity = 16;
  while (capacity < expected * 2) capacity *= 2;
  return capacity;
}

/** An open-addressing set of hashes in a typed array: exact membership, no per-entry allocation. */
export class HashSet {
  private table: Float64Array;
  private mask: number;
  size = 0;

  constructor(expected = 8) {
    this.table = new Float64Array(capacityFor(expected));
    this.mask = this.table.length - 1;
  }

  clone(): HashSet {
    const copy = new HashSet();
    copy.table = this.table.slice();
    copy.mask = this.mask;
    copy.size = this.size;
    return copy;
  }

  /** True when `hash` was not in the set yet. */
  add(hash: number): boolean {
    const table = this.table;
    let i = hash & this.mask;
    for (;;) {
      const slot = table[i]!;
      if (slot === 0) {
        table[i] = hash;
        if (++this.size * 2 > table.length) this.grow();
        return true;
      }
      if (slot === hash) return false;
      i = (i + 1) & this.mask;
    }
  }

  has(hash: number): boolean {
    const table = this.table;
    let i = hash & this.mask;
    for (;;) {
      const slot = table[i]!;
      if (slot === 0) return false;
      if (slot === hash) return true;
      i = (i + 1) & this.mask;
    }
  }

  /** Calls `each` with every hash in the set. */
  forEach(each: (hash: number) => void): void {
    const table = this.table;
    for (let i = 0; i < table.length; i++) if (table[i] !== 0) each(table[i]!);
  }

  // Indexed loops: iterating a typed array with for…of costs several times more in JavaScriptCore.
  private grow(): void {
    const old = this.table;
    const table = (this.table = new Float64Array(old.length * 2));
    const mask = (this.mask = table.length - 1);
    for (let j = 0; j < old.length; j++) {
      const hash = old[j]!;
      if (hash === 0) continue;
      let i = hash & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = hash;
    }
  }
}

/** Counts distinct hashes: exactly while few, then as a HyperLogLog sketch. */
export class DistinctCounter {
  private exact: HashSet | null = new HashSet();
  private registers: Uint8Array | null = null;

  add(hash: number): void {
    if (this.exact) {
      if (this.exact.add(hash) && this.exact.size > EXACT_LIMIT) this.toSketch();
      return;
    }
    this.addToSketch(hash);
  }

  count(): number {
    if (this.exact) return this.exact.size;
    return estimate(this.registers!);
  }

  clone(): DistinctCounter {
    const copy = new DistinctCounter();
    copy.exact = this.exact?.clone() ?? null;
    copy.registers = this.registers?.slice() ?? null;
    return copy;
  }

  private toSketch(): void {
    this.registers = new Uint8Array(M);
    this.exact!.forEach((hash) => this.addToSketch(hash));
    this.exact = null;
  }

  private addToSketch(hash: number): void {
    const index = hash % M;
    // The remaining 36 bits; the rank is the position of their first 1 from the top (Q + 1 when all are 0).
    const rest = Math.floor(hash / M);
    const high = Math.floor(rest / 0x10);
    const rank = high > 0 ? Math.clz32(high) : 32 + (rest & 0xf ? Math.clz32(rest & 0xf) - 28 : 4);
    const value = rank + 1;
    const registers = this.registers!;
    if (value > registers[index]!) registers[index] = value;
  }
}

/** Ertl (2017), "New cardinality estimation algorithms for HyperLogLog sketches", the improved raw estimator. */
export function estimate(registers: Uint8Array): number {
  const histogram = new Float64Array(Q + 2);
  for (let i = 0; i < registers.length; i++) histogram[registers[i]!]!++;
  let z = M * tau(1 - histogram[Q + 1]! / M);
  for (let k = Q; k >= 1; k--) z = 0.5 * (z + histogram[k]!);
  z += M * sigma(histogram[0]! / M);
  return Math.round((M * M) / (2 * Math.LN2) / z);
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const next = z + x * y;
    y += y;
    if (next === z) return z;
    z = next;
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const next = z - (1 - x) ** 2 * (y *= 0.5);
    if (next === z) return z / 3;
    z = next;
  }
}

/** A map from hashes to numbers in typed arrays, for per-person times and sums over many people. */
export class HashMap {
  private keys: Float64Array;
  private vals: Float64Array;
  private mask: number;
  size = 0;

  constructor(expected = 8) {
    this.keys = new Float64Array(capacityFor(expected));
    this.vals = new Float64Array(this.keys.length);
    this.mask = this.keys.length - 1;
  }

  clone(): HashMap {
    const copy = new HashMap();
    copy.keys = this.keys.slice();
    copy.vals = this.vals.slice();
    copy.mask = this.mask;
    copy.size = this.size;
    return copy;
  }

  get(hash: number): number | undefined {
    const keys = this.keys;
    let i = hash & this.mask;
    for (;;) {
      const key = keys[i]!;
      if (key === 0) return undefined;
      if (key === hash) return this.vals[i];
      i = (i + 1) & this.mask;
    }
  }

  /** Sets `hash` to `combine(current, value)`, or to `value` when absent. */
  merge(hash: number, value: number, combine: (current: number, value: number) => number): void {
    const keys = this.keys;
    let i = hash & this.mask;
    for (;;) {
      const key = keys[i]!;
      if (key === 0) {
        keys[i] = hash;
        this.vals[i] = value;
        if (++this.size * 2 > keys.length) this.grow();
        return;
      }
      if (key === hash) {
        this.vals[i] = combine(this.vals[i]!, value);
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    this.keys = new Float64Array(keys.length * 2);
    this.vals = new Float64Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.merge(keys[i]!, vals[i]!, keep);
  }
}

const keep = (current: number) => current;
