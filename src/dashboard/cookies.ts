// Reading and writing the dashboard's cookies (session, pre-sign-in CSRF), Secure behind https.
import type { Config } from "../config.ts";

/** The project /dashboard opens: the one looked at last. */
export const LAST_PROJECT_COOKIE = "bantico_project";

export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get("cookie");
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** Secure when the visitor reached us over https, or the public base URL is https. */
export function isSecureRequest(request: Request, config: Config): boolean {
  return new URL(request.url).protocol === "https:" || (config.baseUrl?.startsWith("https:") ?? false);
}

export function setCookie(name: string, value: string, options: { maxAgeSeconds: number; secure: boolean }): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${options.maxAgeSeconds}`];
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

export function clearCookie(name: string, secure: boolean): string {
  return setCookie(name, "", { maxAgeSeconds: 0, secure });
}
