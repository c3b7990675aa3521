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

/**
 * An open-addressing set of hashes in a typed array: exact membership, no per-entry allocation. A set
 * made by `extend` reads through to the one it extends and holds only its own additions.
 */
export class HashSet {
  private table: Float64Array;
  private mask: number;
  private base: HashSet | null = null;
  /** Entries in `table` (the base's are not). */
  private own = 0;
  size = 0;

  constructor(expected = 8) {
    this.table = new Float64Array(capacityFor(expected));
    this.mask = this.table.length - 1;
  }

  /**
   * A set holding this one's entries and then its own, without copying this one: a count kept over past
   * days and extended with today's visits copies only today's people. This set must not change afterwards.
   */
  extend(): HashSet {
    const copy = new HashSet();
    copy.base = this.base ?? this;
    copy.size = this.size;
    if (this.base) {
      copy.table = this.table.slice();
      copy.mask = this.mask;
      copy.own = this.own;
    }
    return copy;
  }

  /** True when `hash` was not in the set yet. */
  add(hash: number): boolean {
    if (this.base?.has(hash)) return false;
    const table = this.table;
    let i = hash & this.mask;
    for (;;) {
      const slot = table[i]!;
      if (slot === 0) {
        table[i] = hash;
        this.size++;
        if (++this.own * 2 > table.length) this.grow();
        return true;
      }
      if (slot === hash) return false;
      i = (i + 1) & this.mask;
    }
  }

  has(hash: number): boolean {
    if (this.base?.has(hash)) return true;
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
    this.base?.forEach(each);
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
  /** How many registers hold each value: what the estimate reads, kept as registers change. */
  private histogram: Float64Array | null = null;
  /**
   * A counter made by `extend` shares the registers of the one it extends and keeps its own changes
   * here: extending a year's sketch with today's visitors copies neither the 2^16 registers nor reads them.
   */
  private changed: Map<number, number> | null = null;

  add(hash: number): void {
    if (this.exact) {
      if (this.exact.add(hash) && this.exact.size > EXACT_LIMIT) this.toSketch();
      return;
    }
    this.addToSketch(hash);
  }

  count(): number {
    if (this.exact) return this.exact.size;
    return estimate(this.histogram!);
  }

  /** A counter that starts where this one is: this one must not change afterwards. */
  extend(): DistinctCounter {
    const copy = new DistinctCounter();
    copy.exact = this.exact?.extend() ?? null;
    if (this.registers) {
      copy.registers = this.registers;
      copy.histogram = this.histogram!.slice();
      copy.changed = new Map(this.changed ?? []);
    }
    return copy;
  }

  private toSketch(): void {
    this.registers = new Uint8Array(M);
    this.histogram = new Float64Array(Q + 2);
    this.histogram[0] = M;
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
    const changed = this.changed;
    const current = changed ? (changed.get(index) ?? this.registers![index]!) : this.registers![index]!;
    if (value <= current) return;
    this.histogram![current]!--;
    this.histogram![value]!++;
    if (!changed) this.registers![index] = value;
    else if (changed.set(index, value).size > MAX_CHANGED) this.ownRegisters();
  }

  /** Past a few thousand changes, a copy of the registers costs less than looking each one up. */
  private ownRegisters(): void {
    const registers = this.registers!.slice();
    for (const [index, value] of this.changed!) registers[index] = value;
    this.registers = registers;
    this.changed = null;
  }
}

const MAX_CHANGED = 4096;

/** Ertl (2017), "New cardinality estimation algorithms for HyperLogLog sketches", the improved raw estimator, from the registers' histogram. */
function estimate(histogram: Float64Array): number {
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

/**
 * A map from hashes to numbers in typed arrays, for per-person times and sums over many people. A map
 * made by `extend` reads through to the one it extends and holds only its own entries.
 */
export class HashMap {
  private keys: Float64Array;
  private vals: Float64Array;
  private mask: number;
  private base: HashMap | null = null;
  /** Entries in `keys` (including those that replace a base entry). */
  private own = 0;
  size = 0;

  constructor(expected = 8) {
    this.keys = new Float64Array(capacityFor(expected));
    this.vals = new Float64Array(this.keys.length);
    this.mask = this.keys.length - 1;
  }

  /** A map holding this one's entries, then its own: this one must not change afterwards. */
  extend(): HashMap {
    const copy = new HashMap();
    copy.base = this.base ?? this;
    copy.size = this.size;
    if (this.base) {
      copy.keys = this.keys.slice();
      copy.vals = this.vals.slice();
      copy.mask = this.mask;
      copy.own = this.own;
    }
    return copy;
  }

  /** Calls `each` with every key and its value. */
  forEach(each: (hash: number, value: number) => void): void {
    this.base?.forEach((hash, value) => this.slot(hash) < 0 && each(hash, value));
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) each(keys[i]!, this.vals[i]!);
  }

  get(hash: number): number | undefined {
    const i = this.slot(hash);
    return i >= 0 ? this.vals[i] : this.base?.get(hash);
  }

  /** Sets `hash` to `combine(current, value)`, or to `value` when absent. */
  merge(hash: number, value: number, combine: (current: number, value: number) => number): void {
    const i = this.slot(hash);
    if (i >= 0) {
      this.vals[i] = combine(this.vals[i]!, value);
      return;
    }
    const inBase = this.base?.get(hash);
    if (inBase === undefined) this.size++;
    this.insert(hash, inBase === undefined ? value : combine(inBase, value));
  }

  /** Where `hash` is in this map's own entries, or -1. */
  private slot(hash: number): number {
    const keys = this.keys;
    let i = hash & this.mask;
    for (;;) {
      const key = keys[i]!;
      if (key === 0) return -1;
      if (key === hash) return i;
      i = (i + 1) & this.mask;
    }
  }

  private insert(hash: number, value: number): void {
    const keys = this.keys;
    let i = hash & this.mask;
    while (keys[i] !== 0) i = (i + 1) & this.mask;
    keys[i] = hash;
    this.vals[i] = value;
    if (++this.own * 2 > keys.length) this.grow();
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    this.keys = new Float64Array(keys.length * 2);
    this.vals = new Float64Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    this.own = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.insert(keys[i]!, vals[i]!);
  }
}
