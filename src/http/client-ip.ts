// The visitor's IP for hashing (never stored): the socket peer, or X-Forwarded-For when the peer is a trusted proxy.
import type { Server } from "bun";

export function clientIpResolver(server: Pick<Server<unknown>, "requestIP">, trustedProxies: readonly string[]) {
  const trusted = new Set(trustedProxies.map(normalize));
  return (request: Request): string | null => {
    const peer = server.requestIP(request)?.address ?? null;
    if (peer === null || !trusted.has(normalize(peer))) return peer;
    const forwarded = request.headers.get("x-forwarded-for");
    if (!forwarded) return peer;
    // The right-most address not added by one of our proxies is the one nobody could forge.
    const hops = forwarded.split(",").map((h) => h.trim()).filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      if (!trusted.has(normalize(hops[i]!))) return hops[i]!;
    }
    return hops[0] ?? peer;
  };
}

function normalize(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}
