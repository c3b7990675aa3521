// Random identifiers and tokens: URL-safe, unguessable, short enough to read.
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// Random bytes drawn in blocks: a click or an event id needs a few, and asking the system for each
// id's own array cost an allocation per request on the hot paths.
const pool = new Uint8Array(4096);
let poolAt = pool.length;

function randomByte(): number {
  if (poolAt === pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return pool[poolAt++]!;
}

export function randomString(length: number, alphabet = ALPHABET): string {
  // 62 does not divide 256: reject the top bytes so every character is equally likely.
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    const byte = randomByte();
    if (byte < limit) out += alphabet[byte % alphabet.length];
  }
  return out;
}

export function newId(prefix: string, length = 16): string {
  return `${prefix}_${randomString(length)}`;
}
