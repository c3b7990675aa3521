import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "../auth/api-keys.ts";
import { createProject } from "../projects/service.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const get = (path: string, key?: string) =>
  fetch(`${server.url}${path}`, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });

async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
}

describe("API authentication", () => {
  test("a valid key answers with its own project", async () => {
    const response = await server.api("/api/v1/project");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: string; currency: string; lookbackDays: number; pricingPathPattern: string };
    expect(body.id).toBe(server.project.id);
    expect([body.currency, body.lookbackDays, body.pricingPathPattern]).toEqual(["USD", 90, "/pricing*"]);
  });

  test("a key only ever sees the project it was made for", async () => {
    const other = await createProject(server.instance.ctx.storage, { name: "Other" });
    const { key } = await createApiKey(server.instance.ctx.storage, other.id);
    const body = (await (await get("/api/v1/project", key)).json()) as { id: string };
    expect(body.id).toBe(other.id);
  });

  test("a missing, malformed or wrong key gets 401 with the error shape", async () => {
    await expectError(await get("/api/v1/project"), 401, "unauthorized");
    await expectError(await fetch(`${server.url}/api/v1/project`, { headers: { authorization: `Basic ${btoa("a:b")}` } }), 401, "unauthorized");
    await expectError(await get("/api/v1/project", "bt_live_wrongwrongwrongwrongwrongwrongwrongwrong"), 401, "unauthorized");
    await expectError(await get("/api/v1/project", server.apiKey.slice(0, -1)), 401, "unauthorized");
  });

  test("a revoked key stops working at once", async () => {
    const { storage } = server.instance.ctx;
    const created = await createApiKey(storage, server.project.id, "to revoke");
    expect((await get("/api/v1/project", created.key)).status).toBe(200);
    expect(await revokeApiKey(storage, server.project.id, created.id)).toBe(true);
    await expectError(await get("/api/v1/project", created.key), 401, "unauthorized");
    expect((await listApiKeys(storage, server.project.id)).find((k) => k.id === created.id)?.revokedAt).not.toBeNull();
  });

  test("a key's last use is recorded", async () => {
    await server.api("/api/v1/project");
    const key = (await listApiKeys(server.instance.ctx.storage, server.project.id)).find((k) => k.name === "tests")!;
    expect(key.lastUsedAt).toBeGreaterThan(0);
  });
});

describe("HTTP basics", () => {
  test("/healthz answers 200 while the database answers", async () => {
    const response = await get("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  test("/healthz answers 503 while the database refuses its query", async () => {
    const { ctx } = server.instance;
    const storage = ctx.storage;
    ctx.storage = { ...storage, get: () => Promise.reject(new Error("connection refused")) };
    try {
      await expectError(await get("/healthz"), 503, "database_unavailable");
    } finally {
      ctx.storage = storage;
    }
    expect((await get("/healthz")).status).toBe(200);
  });

  test("an unknown route answers 404 in the error shape", async () => {
    await expectError(await get("/api/v1/nothing-here", server.apiKey), 404, "not_found");
  });

  test("the OpenAPI document describes the API and its bearer authentication", async () => {
    const doc = (await (await get("/api/v1/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { securitySchemes: { apiKey: { scheme: string } } };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/project");
    expect(doc.components.securitySchemes.apiKey.scheme).toBe("bearer");
  });
});
