// Plain fetch for the providers whose SDKs do not fit a server with one key per project (see
// PROVIDERS.md: Lemon Squeezy keeps one global key, Paddle's has no base URL, Creem's pulls in an
// MCP server, Dodo's paginator skips page 1): JSON in, JSON out, failures as ProviderApiError.
export class ProviderApiError extends Error {
  constructor(
    /** null: the provider could not be reached. */
    readonly status: number | null,
    readonly body: unknown,
  ) {
    super(status === null ? "the provider could not be reached" : `the provider answered HTTP ${status}`);
  }
}

export async function providerGet(url: string, headers: Record<string, string>, timeoutMs = 20_000): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "application/json", ...headers }, signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    throw new ProviderApiError(null, null);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  if (!response.ok) throw new ProviderApiError(response.status, body);
  return body;
}

/** A failure in the founder's words, never echoing the provider's body (it can quote the key). */
export function explainProviderError(name: string, error: unknown, forbidden: string): { status: number; code: string; message: string } {
  const status = error instanceof ProviderApiError ? error.status : null;
  if (status === 401) return { status: 400, code: "invalid_credential", message: `${name} does not accept this key (revoked, mistyped, or from the other mode)` };
  if (status === 403) return { status: 400, code: "missing_permission", message: forbidden };
  if (status === null) return { status: 502, code: "provider_unreachable", message: `${name} could not be reached; try again` };
  return { status: 502, code: "provider_error", message: `${name} answered with an error (HTTP ${status})` };
}
