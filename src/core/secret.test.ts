import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { loadOrCreateSecret, seal, unseal } from "./secret.ts";
import { tempDataDir } from "../testing/harness.ts";

describe("instance secret", () => {
  test("is generated once into the data dir, readable only by its owner, and the same on the next start", () => {
    const data = tempDataDir("secret");
    const first = loadOrCreateSecret(data.dir);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(statSync(join(data.dir, "secret")).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecret(data.dir)).toBe(first);
    data.remove();
  });

  test("sealed credentials open only with the same secret and reveal nothing of the plaintext", () => {
    const secret = "a".repeat(43);
    const sealed = seal(secret, "rk_live_supersecret");
    expect(sealed).not.toContain("supersecret");
    expect(seal(secret, "rk_live_supersecret")).not.toBe(sealed);
    expect(unseal(secret, sealed)).toBe("rk_live_supersecret");
    expect(() => unseal("b".repeat(43), sealed)).toThrow();
    expect(() => unseal(secret, sealed.slice(0, -4) + "AAAA")).toThrow();
  });
});
