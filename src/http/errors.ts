// One error shape for every API answer: { "error": { "code", "message" } } with a 4xx or 5xx status.
import { Elysia } from "elysia";

export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code = "invalid_request") => new ApiError(400, code, message);
export const unauthorized = (message = "a valid API key is required") => new ApiError(401, "unauthorized", message);
export const notFound = (message = "not found") => new ApiError(404, "not_found", message);
export const conflict = (message: string, code = "conflict") => new ApiError(409, code, message);

/** What code not yet on the storage interface meets on PostgreSQL: a 503 that says so, never a 500 or SQLite. */
export class NotOnPostgresYet extends ApiError {
  constructor() {
    super(503, "not_available_on_postgresql", "this page or endpoint does not run on PostgreSQL in this version yet; SQLite (BANTICO_DATABASE_URL unset) has it");
  }
}

export function errorResponse(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status, headers: { "cache-control": "no-store" } });
}

/** The answer to an error nobody expected: logged, and a 500 that tells the client nothing more. */
export function internalError(error: unknown): Response {
  console.error("unhandled error:", error);
  return errorResponse(500, "internal_error", "something went wrong on our side");
}

interface ValidationIssue {
  path?: string;
  message?: string;
}

function describeValidation(error: unknown): string {
  const all = (error as { all?: ValidationIssue[] }).all;
  const first = Array.isArray(all) ? all[0] : undefined;
  if (first?.message) {
    const field = first.path ? first.path.replace(/^\//, "").replaceAll("/", ".") : "";
    return field ? `${field}: ${first.message}` : first.message;
  }
  return "the request does not match the expected shape";
}

/** Maps every error Elysia or a handler raises to the SPEC's error shape; nothing leaks a stack. */
export const errorHandling = new Elysia({ name: "error-handling" }).onError({ as: "global" }, ({ code, error }) => {
  if (error instanceof ApiError) return errorResponse(error.httpStatus, error.code, error.message);
  switch (code) {
    case "VALIDATION":
      return errorResponse(400, "invalid_request", describeValidation(error));
    case "PARSE":
      return errorResponse(400, "invalid_json", "the body is not valid JSON");
    case "NOT_FOUND":
      return errorResponse(404, "not_found", "no such route");
    case "INVALID_COOKIE_SIGNATURE":
      return errorResponse(400, "invalid_cookie", "a cookie was tampered with");
    default: {
      const status = (error as { status?: unknown }).status;
      if (typeof status === "number" && status >= 400 && status < 500) {
        return errorResponse(status, "invalid_request", (error as Error).message || "bad request");
      }
      return internalError(error);
    }
  }
});
