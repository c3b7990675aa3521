// Signed identify (SPEC §3): the site's server proves an identify names its own signed-in user with
// the lowercase hex HMAC-SHA256 of the id, keyed with the project's identify secret (as UTF-8 bytes).
import { timingSafeEqual } from "node:crypto";
import type { Project } from "../projects/service.ts";

export function identifyHash(secret: string, id: string): string {
  return new Bun.CryptoHasher("sha256", secret).update(id).digest("hex");
}

/** True when `hash` signs `id` with the project's secret, or with the one a rotation replaced while its grace period lasts. */
export function identifyHashValid(project: Pick<Project, "identifySecret" | "previousIdentifySecret">, id: string, hash: string, now: number): boolean {
  const given = hash.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(given)) return false;
  const previous = project.previousIdentifySecret;
  const secrets = [project.identifySecret, previous && previous.validUntil > now ? previous.secret : ""].filter(Boolean);
  return secrets.some((secret) => timingSafeEqual(Buffer.from(identifyHash(secret, id)), Buffer.from(given)));
}
