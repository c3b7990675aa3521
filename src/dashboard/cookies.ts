// Reading and writing the dashboard's cookies (session, pre-sign-in CSRF), Secure behind https.
import type { Config } from "../config.ts";
import { SESSION_COOKIE, SESSION_TTL_MS } from "../auth/sessions.ts";

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

/** The session cookie, for the session's whole lifetime: set at sign-in and again whenever the session is extended. */
export function sessionCookie(token: string, secure: boolean): string {
  return setCookie(SESSION_COOKIE, token, { maxAgeSeconds: SESSION_TTL_MS / 1000, secure });
}

export function clearCookie(name: string, secure: boolean): string {
  return setCookie(name, "", { maxAgeSeconds: 0, secure });
}
