// A visitor's country from the offline IP-to-country database embedded in the executable: looked up in memory, never stored, never sent anywhere.
import { readFileSync } from "node:fs";
import ipv4Path from "@ip-location-db/geo-whois-asn-country/geo-whois-asn-country-ipv4-num.csv" with { type: "file" };
import ipv6Path from "@ip-location-db/geo-whois-asn-country/geo-whois-asn-country-ipv6.csv" with { type: "file" };

/** Sorted range starts (`words` 32-bit words each, most significant first) and the country from each start to the next. */
interface RangeTable {
  words: 1 | 4;
  starts: Uint32Array;
  countries: Uint16Array;
  length: number;
}

/** Country codes as small numbers: 0 is "no country", AA is 1, ZZ is 676. */
const NO_COUNTRY = 0;
const COUNTRY_NAMES: (string | null)[] = [null];
for (let first = 65; first <= 90; first++) {
  for (let second = 65; second <= 90; second++) COUNTRY_NAMES.push(String.fromCharCode(first, second));
}
const countryCode = (bytes: Uint8Array, at: number) => (bytes[at]! - 65) * 26 + (bytes[at + 1]! - 65) + 1;

let tables: { ipv4: RangeTable; ipv6: RangeTable } | null = null;

/** Reads the database into memory; `bantico serve` calls it at start so the first visitor does not wait. */
export function loadIpCountries(): void {
  if (tables) return;
  tables = { ipv4: readTable(ipv4Path, 1), ipv6: readTable(ipv6Path, 4) };
  Bun.gc(true); // the 21 MB of file text and the building buffers leave the RSS now, not at some later collection
}

const LONGEST_ADDRESS = 45; // ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255
const ipText = new Uint8Array(LONGEST_ADDRESS);
const scratch = new Uint32Array(4);

/** The ISO 3166-1 alpha-2 country of an IPv4 or IPv6 address, or null when the address is unknown, private or malformed. */
export function countryOfIp(ip: string): string | null {
  loadIpCountries();
  const { ipv4, ipv6 } = tables!;
  if (ip.length > LONGEST_ADDRESS) return null;
  let colons = 0;
  for (let i = 0; i < ip.length; i++) {
    const char = ip.charCodeAt(i);
    ipText[i] = char > 255 ? 0 : char;
    if (char === 58) colons++;
  }
  if (colons === 0) return parseIpv4(ipText, 0, ip.length, scratch, 0) && isPublicIpv4(scratch[0]!) ? find(ipv4, scratch) : null;
  if (!parseIpv6(ipText, 0, ip.length, scratch, 0)) return null;
  if (scratch[0] === 0 && scratch[1] === 0 && scratch[2] === 0xffff) {
    scratch[0] = scratch[3]!;
    return isPublicIpv4(scratch[0]) ? find(ipv4, scratch) : null;
  }
  return isPublicIpv6(scratch[0]!) ? find(ipv6, scratch) : null;
}

/**
 * IANA's special-purpose IPv4 blocks (private, loopback, shared, link-local, documentation, benchmarking, multicast, reserved)
 * as [first, last] pairs. The published data names a country for some of them (192.168.0.0/16 is "AU"); no visitor is there.
 */
const NOT_PUBLIC_IPV4 = Uint32Array.from(
  (
    [["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.0.0.0", 24],
      ["192.0.2.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 3]] as const
  ).flatMap(([address, bits]) => {
    const first = address.split(".").reduce((value, part) => value * 256 + Number(part), 0);
    return [first, first + 2 ** (32 - bits) - 1];
  }),
);

function isPublicIpv4(address: number): boolean {
  for (let i = 0; i < NOT_PUBLIC_IPV4.length; i += 2) {
    if (address >= NOT_PUBLIC_IPV4[i]! && address <= NOT_PUBLIC_IPV4[i + 1]!) return false;
  }
  return true;
}

/** Only 2000::/3 is global unicast; in it, 2001::/23 (Teredo, benchmarking, ORCHID…) and 2001:db8::/32 (documentation) hold no visitors. */
function isPublicIpv6(firstWord: number): boolean {
  return firstWord >>> 29 === 1 && !(firstWord >= 0x20010000 && firstWord < 0x20010200) && firstWord !== 0x20010db8;
}

/** Binary search for the last range start at or below the address in `key`. */
function find(table: RangeTable, key: Uint32Array): string | null {
  const { starts, words } = table;
  let low = 0;
  let high = table.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (words === 1 ? starts[middle]! <= key[0]! : compare(starts, middle * words, key, 0, words) <= 0) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found === -1 ? null : (COUNTRY_NAMES[table.countries[found]!] ?? null);
}

function compare(a: Uint32Array, at: number, b: Uint32Array, bt: number, words: number): number {
  for (let i = 0; i < words; i++) {
    const difference = a[at + i]! - b[bt + i]!;
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Rows still covering addresses while the file is read, the one ending first on top. */
interface OpenRanges {
  ends: Uint32Array;
  countries: Uint16Array;
  depth: number;
}
const MAX_NESTING = 32;

/**
 * Reads `start,end,CC` rows (IPv4 as numbers, IPv6 as text, sorted by start) into a table of range starts, in one pass.
 * Gaps become starts of "no country". The published data has a few hundred rows nested inside a wider one
 * that was not split around them: the narrower row wins where it lies, and the wider one resumes after it.
 */
function readTable(path: string, words: 1 | 4): RangeTable {
  const text = readFileSync(path);
  let lines = 1;
  for (let i = 0; i < text.length; i++) if (text[i] === NEWLINE) lines++;
  const table: RangeTable = { words, starts: new Uint32Array(lines * 2 * words), countries: new Uint16Array(lines * 2), length: 0 };
  const open: OpenRanges = { ends: new Uint32Array(MAX_NESTING * words), countries: new Uint16Array(MAX_NESTING), depth: 0 };
  const row = new Uint32Array(2 * words); // the row being read: its start, then its end
  const parseAddress = words === 1 ? parseDecimal : parseIpv6;
  for (let lineStart = 0; lineStart < text.length; ) {
    let lineEnd = text.indexOf(NEWLINE, lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    if (lineEnd > lineStart) {
      const firstComma = text.indexOf(COMMA, lineStart);
      const secondComma = firstComma === -1 ? -1 : text.indexOf(COMMA, firstComma + 1);
      if (secondComma === -1 || lineEnd - secondComma !== 3) throw malformed(lineStart);
      if (!parseAddress(text, lineStart, firstComma, row, 0) || !parseAddress(text, firstComma + 1, secondComma, row, words)) throw malformed(lineStart);
      addRow(table, open, row, countryCode(text, secondComma + 1));
    }
    lineStart = lineEnd + 1;
  }
  closeRanges(table, open, null);
  return { words, starts: table.starts.slice(0, table.length * words), countries: table.countries.slice(0, table.length), length: table.length };
}

const malformed = (at: number) => new Error(`The IP-to-country database has a malformed row near byte ${at}`);

function addRow(table: RangeTable, open: OpenRanges, row: Uint32Array, country: number) {
  const { words } = table;
  closeRanges(table, open, row);
  emit(table, row, 0, country);
  // Rows ending no later than this one are hidden by it from here on.
  while (open.depth > 0 && compare(open.ends, (open.depth - 1) * words, row, words, words) <= 0) open.depth--;
  if (open.depth === MAX_NESTING) throw new Error("The IP-to-country database nests ranges too deep");
  for (let i = 0; i < words; i++) open.ends[open.depth * words + i] = row[words + i]!;
  open.countries[open.depth++] = country;
}

/** Ends the open ranges that stop before `row` starts (all of them without a row); a wider one resumes after each. */
function closeRanges(table: RangeTable, open: OpenRanges, row: Uint32Array | null) {
  const { words } = table;
  while (open.depth > 0 && (row === null || compare(open.ends, (open.depth - 1) * words, row, 0, words) < 0)) {
    const endAt = --open.depth * words;
    const resumed = open.depth > 0 ? open.countries[open.depth - 1]! : NO_COUNTRY;
    if (!isLast(open.ends, endAt, words)) emitAfter(table, open.ends, endAt, resumed);
  }
}

/** Appends a range start, or replaces the country of the last one when it starts at the same address. */
function emit(out: RangeTable, source: Uint32Array, at: number, country: number) {
  const { words } = out;
  const last = out.length - 1;
  if (last >= 0 && compare(out.starts, last * words, source, at, words) === 0) {
    out.countries[last] = country;
    return;
  }
  for (let i = 0; i < words; i++) out.starts[out.length * words + i] = source[at + i]!;
  out.countries[out.length++] = country;
}

const afterEnd = new Uint32Array(4);

/** Emits a range starting one address after `source[at…]`. */
function emitAfter(out: RangeTable, source: Uint32Array, at: number, country: number) {
  for (let i = 0; i < out.words; i++) afterEnd[i] = source[at + i]!;
  for (let i = out.words - 1; i >= 0; i--) {
    afterEnd[i] = (afterEnd[i]! + 1) >>> 0;
    if (afterEnd[i] !== 0) break;
  }
  emit(out, afterEnd, 0, country);
}

function isLast(source: Uint32Array, at: number, words: number): boolean {
  for (let i = 0; i < words; i++) if (source[at + i] !== 0xffffffff) return false;
  return true;
}

const NEWLINE = 10;
const COMMA = 44;

function parseDecimal(text: Uint8Array, from: number, to: number, out: Uint32Array, at: number): boolean {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = text[i]! - 48;
    if (digit < 0 || digit > 9) return false;
    value = value * 10 + digit;
  }
  out[at] = value;
  return to > from && value <= 0xffffffff;
}

/** Dotted IPv4 into `out[at]`. */
function parseIpv4(text: Uint8Array, from: number, to: number, out: Uint32Array, at: number): boolean {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i <= to; i++) {
    const char = i === to ? 46 : text[i]!;
    if (char === 46) {
      if (digits === 0 || part > 255) return false;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      const digit = char - 48;
      if (digit < 0 || digit > 9 || digits === 3) return false;
      part = part * 10 + digit;
      digits++;
    }
  }
  out[at] = value;
  return dots === 4;
}

const hextets = new Uint16Array(8);

/** IPv6 text (with `::` and a trailing dotted IPv4 allowed) into four 32-bit words from `out[at]`. */
function parseIpv6(text: Uint8Array, from: number, to: number, out: Uint32Array, at: number): boolean {
  let count = 0;
  let gapAt = -1;
  let i = from;
  if (to - from < 2) return false;
  if (text[i] === 58) {
    if (text[i + 1] !== 58) return false;
    gapAt = 0;
    i += 2;
  }
  while (i < to) {
    let value = 0;
    let digits = 0;
    const groupStart = i;
    for (; i < to && digits <= 4; i++) {
      const char = text[i]!;
      const digit = char >= 48 && char <= 57 ? char - 48 : char >= 97 && char <= 102 ? char - 87 : char >= 65 && char <= 70 ? char - 55 : -1;
      if (digit === -1) break;
      value = value * 16 + digit;
      digits++;
    }
    if (i < to && text[i]! === 46) {
      if (count > 6 || !parseIpv4(text, groupStart, to, out, at)) return false;
      hextets[count++] = out[at]! >>> 16;
      hextets[count++] = out[at]! & 0xffff;
      i = to;
      break;
    }
    if (digits === 0 || digits > 4 || count === 8) return false;
    hextets[count++] = value;
    if (i === to) break;
    if (text[i]! !== 58) return false;
    i++;
    if (i === to) return false;
    if (text[i] === 58) {
      if (gapAt !== -1) return false;
      gapAt = count;
      i++;
    }
  }
  if (gapAt === -1 ? count !== 8 : count > 7) return false;
  const zeros = 8 - count;
  for (let word = 0; word < 4; word++) {
    out[at + word] = hextetAt(word * 2, gapAt, zeros) * 0x10000 + hextetAt(word * 2 + 1, gapAt, zeros);
  }
  return true;
}

function hextetAt(position: number, gapAt: number, zeros: number): number {
  if (gapAt === -1 || position < gapAt) return hextets[position]!;
  if (position < gapAt + zeros) return 0;
  return hextets[position - zeros]!;
}
