import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { ConfigError, loadConfig, publicBaseUrl } from "./config.ts";

describe("configuration", () => {
  test("with nothing set: port 3000, ./data, base URL from the request, secret generated later", () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.dataDir).toBe(resolve("./data"));
    expect(config.baseUrl).toBeNull();
    expect(config.secret).toBeNull();
    expect(publicBaseUrl(config, new Request("http://127.0.0.1:4000/l/x"))).toBe("http://127.0.0.1:4000");
  });

  test("every variable of SPEC §7 overrides its default", () => {
    const config = loadConfig({
      PORT: "8080",
      BANTICO_DATA_DIR: "/var/lib/bantico",
      BANTICO_BASE_URL: "https://go.example.com/",
      BANTICO_SECRET: "s".repeat(40),
      BANTICO_TRUSTED_PROXIES: "10.0.0.1, 127.0.0.1",
      BANTICO_FX_URL: "http://127.0.0.1:9/rates.xml",
      BANTICO_DATABASE_URL: "postgres://bantico:pw@db.internal:5432/bantico",
    });
    expect(config).toEqual({
      port: 8080,
      dataDir: "/var/lib/bantico",
      baseUrl: "https://go.example.com",
      secret: "s".repeat(40),
      trustedProxies: ["10.0.0.1", "127.0.0.1"],
      fxUrl: "http://127.0.0.1:9/rates.xml",
      databaseUrl: "postgres://bantico:pw@db.internal:5432/bantico",
    });
    expect(loadConfig({}).databaseUrl).toBeNull();
    expect(loadConfig({ BANTICO_DATABASE_URL: "postgresql://db/bantico" }).databaseUrl).toBe("postgresql://db/bantico");
    expect(loadConfig({ BANTICO_FX_URL: "off" }).fxUrl).toBeNull();
    expect(loadConfig({}).fxUrl).toBe("https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist-90d.xml");
    expect(() => loadConfig({ BANTICO_FX_URL: "ftp://x" })).toThrow("BANTICO_FX_URL");
    expect(publicBaseUrl(config, new Request("http://internal:8080/"))).toBe("https://go.example.com");
  });

  test("--data wins over BANTICO_DATA_DIR", () => {
    expect(loadConfig({ BANTICO_DATA_DIR: "/a" }, { dataDir: "/b" }).dataDir).toBe("/b");
  });

  test("values that cannot work are refused with the variable's name", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: "70000" })).toThrow(/PORT/);
    expect(() => loadConfig({ BANTICO_BASE_URL: "go.example.com" })).toThrow(/BANTICO_BASE_URL/);
    expect(() => loadConfig({ BANTICO_BASE_URL: "ftp://go.example.com" })).toThrow(/BANTICO_BASE_URL/);
    expect(() => loadConfig({ BANTICO_SECRET: "short" })).toThrow(/BANTICO_SECRET/);
  });

  test("BANTICO_DATABASE_URL other than postgres:// is refused in one line that does not echo its password", () => {
    for (const [value, given] of [
      ["mysql://root:hunter2@db/bantico", "given: a mysql: URL"],
      ["db.internal:5432", "given: a db.internal: URL"],
      ["hunter2", "given: not a URL"],
      ["postgres:///bantico", "given: a postgres: URL without a host"],
    ]) {
      let message = "";
      try {
        loadConfig({ BANTICO_DATABASE_URL: value });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        message = (error as Error).message;
      }
      expect(message).toBe(`BANTICO_DATABASE_URL must be a PostgreSQL URL like postgres://user:password@host:5432/bantico (${given})`);
      expect(message).not.toContain("hunter2");
    }
  });
});
