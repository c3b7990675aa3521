// Random identifiers and tokens: URL-safe, unguessable, short enough to read.
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomString(length: number, alphabet = ALPHABET): string {
  // 62 does not divide 256: reject the top bytes so every character is equally likely.
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export function newId(prefix: string, length = 16): string {
  return `${prefix}_${randomString(length)}`;
}
