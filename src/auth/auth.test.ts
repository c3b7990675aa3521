// Signing in, sessions, API keys, members and login limits through the storage interface, on either engine.
// On PostgreSQL "node B" is a second connection to the same database, as a second `bantico serve` has;
// on SQLite one process serves the file, so both nodes are the same storage.
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import type { Storage } from "../db/storage/storage.ts";
import { describeOnEngines, twoNodes, type TestDatabase } from "../testing/engines.ts";
import { accessOf, removeMember } from "./access.ts";
import { createApiKey, listApiKeys, projectIdForApiKey, revokeApiKey } from "./api-keys.ts";
import { LoginThrottle } from "./rate-limit.ts";
import { createSession, deleteSession, findSession, SESSION_TTL_MS } from "./sessions.ts";
import { createFirstOwner, currentSetupToken, setupTokenMatches } from "./setup-token.ts";
import { createUser, getUser, insertUser, verifyPassword } from "./users.ts";

// The first PostgreSQL test starts the test cluster, and passwords are hashed with argon2 as in production.
setDefaultTimeout(15_000);

const open: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

// The tests give their projects fixed ids.
async function insertProject(storage: Storage, id: string): Promise<void> {
  await storage.run("INSERT INTO projects (id, name, token, created_at) VALUES (?, ?, ?, ?)", [id, id, `bt_pub_${id}`, 1]);
}

const NOW = Date.parse("2026-12-01T10:00:00Z");
const PASSWORD = "correct horse battery";
const SECRET = "a-test-secret-that-is-long-enough-000000";
const MINUTE = 60_000;

describeOnEngines("auth across nodes", (engine) => {
  test("a session made at sign-in on one node is valid on the other, and signing out on either ends it", async () => {
    const [a, b] = await twoNodes(engine, open);
    const user = await createUser(a, { email: "Owner@Example.com", password: PASSWORD }, NOW);
    expect(await verifyPassword(b, "owner@example.com", PASSWORD)).toEqual(user);
    expect(await verifyPassword(b, "owner@example.com", "not the password")).toBeNull();

    const { token } = await createSession(a, user.id, NOW);
    const onA = await findSession(a, token, NOW + MINUTE);
    const onB = await findSession(b, token, NOW + MINUTE);
    expect(onB?.user).toEqual(user);
    // The CSRF token a page rendered by A carries is the one B checks.
    expect(onB?.csrfToken).toBe(onA!.csrfToken);
    expect(await findSession(b, token, NOW + SESSION_TTL_MS)).toBeNull();

    await deleteSession(b, token);
    expect(await findSession(a, token, NOW + MINUTE)).toBeNull();
  });

  test("a session used in its second half is extended, and the other node sees the new end", async () => {
    const [a, b] = await twoNodes(engine, open);
    const user = await createUser(a, { email: "owner@example.com", password: PASSWORD }, NOW);
    const { token } = await createSession(a, user.id, NOW);
    const later = NOW + 20 * 86_400_000;
    const renewed = await findSession(b, token, later);
    expect(renewed).toMatchObject({ renewed: true, expiresAt: later + SESSION_TTL_MS });
    expect(await findSession(a, token, NOW + SESSION_TTL_MS + MINUTE)).toMatchObject({ renewed: false, expiresAt: later + SESSION_TTL_MS });
  });

  test("an API key made on one node opens its project on the other until revoked there, and its use is written once a minute", async () => {
    const [a, b] = await twoNodes(engine, open);
    await insertProject(a, "prj_a");
    const { id, key } = await createApiKey(a, "prj_a", "server", NOW);
    expect(await projectIdForApiKey(b, key, NOW)).toBe("prj_a");
    expect(await projectIdForApiKey(b, `${key}x`, NOW)).toBeNull();
    expect(await projectIdForApiKey(b, "not a key\0", NOW)).toBeNull();

    const lastUsed = async () => (await listApiKeys(a, "prj_a")).find((k) => k.id === id)!.lastUsedAt;
    expect(await lastUsed()).toBe(NOW);
    await projectIdForApiKey(a, key, NOW + 30_000);
    expect(await lastUsed()).toBe(NOW);
    await projectIdForApiKey(b, key, NOW + 61_000);
    expect(await lastUsed()).toBe(NOW + 61_000);

    expect(await revokeApiKey(b, "prj_other", id, NOW)).toBe(false);
    expect(await revokeApiKey(b, "prj_a", id, NOW)).toBe(true);
    expect(await projectIdForApiKey(a, key, NOW + 62_000)).toBeNull();
  });

  test("a member added on one node sees the project on the other; leaving their last project removes them and their sessions", async () => {
    const [a, b] = await twoNodes(engine, open);
    await insertProject(a, "prj_a");
    await insertProject(a, "prj_b");
    const member = await createUser(a, { email: "viewer@example.com", password: PASSWORD, role: "viewer", projectId: "prj_a" }, NOW);
    const access = await accessOf(b, member.id);
    expect(access.everyProject).toBe(false);
    expect([...access.roles]).toEqual([["prj_a", "viewer"]]);

    const { token } = await createSession(a, member.id, NOW);
    expect(await removeMember(b, "prj_b", member.id)).toBe(false);
    expect(await removeMember(b, "prj_a", member.id)).toBe(true);
    expect(await getUser(a, member.id)).toBeNull();
    expect(await findSession(a, token, NOW)).toBeNull();
  });

  test("nodes starting together print the same setup link, and it stops working once there is an owner", async () => {
    const [a, b] = await twoNodes(engine, open);
    const [fromA, fromB] = await Promise.all([currentSetupToken(a, NOW), currentSetupToken(b, NOW)]);
    expect(fromA).not.toBeNull();
    expect(fromB).toBe(fromA);
    expect(await setupTokenMatches(b, fromA)).toBe(true);
    expect(await setupTokenMatches(b, `${fromA}x`)).toBe(false);
    await insertUser(a, { email: "owner@example.com", passwordHash: "x", role: "owner" }, NOW);
    expect(await setupTokenMatches(b, fromA)).toBe(false);
    expect(await currentSetupToken(b, NOW)).toBeNull();
  });

  test("the setup form submitted on two nodes at once makes one owner and one project, however often it is tried", async () => {
    for (let round = 0; round < 6; round++) {
      const [a, b] = await twoNodes(engine, open);
      // Both nodes connected before: the two transactions then overlap.
      await Promise.all([currentSetupToken(a, NOW), b.get("SELECT 1")]);
      const setup = (storage: Storage, email: string) => createFirstOwner(storage, { email, passwordHash: "x", projectName: "First", timezone: "Europe/Berlin" }, NOW);
      const outcomes = await Promise.all([setup(a, "first@example.com"), setup(b, "second@example.com")]);
      expect(outcomes.filter((created) => created !== null)).toHaveLength(1);
      expect(await a.all("SELECT role FROM users")).toEqual([{ role: "owner" }]);
      expect(await a.all("SELECT name, timezone FROM projects")).toEqual([{ name: "First", timezone: "Europe/Berlin" }]);
      expect(await currentSetupToken(b, NOW)).toBeNull();
    }
  });

  test("wrong passwords tried on one node hold back the same address and account on the other", async () => {
    const [a, b] = await twoNodes(engine, open);
    const onA = new LoginThrottle(a, SECRET);
    const onB = new LoginThrottle(b, SECRET);
    const attempt = { ip: "203.0.113.9", account: "owner@example.com" };
    for (let i = 0; i < 5; i++) {
      expect(await onB.retryAfter(attempt, NOW + i * MINUTE)).toBe(0);
      await onA.recordFailure(attempt, NOW + i * MINUTE);
    }
    // Five in the window: the first one leaves it 15 minutes after it was made.
    expect(await onB.retryAfter(attempt, NOW + 5 * MINUTE)).toBe(10 * MINUTE);
    expect(await onB.retryAfter({ ...attempt, ip: "198.51.100.7" }, NOW + 5 * MINUTE)).toBe(0);
    expect(await onA.retryAfter(attempt, NOW + 15 * MINUTE + 1)).toBe(0);

    // The right password on B clears the address's count for this account.
    await onB.recordFailure(attempt, NOW + 5 * MINUTE);
    await onB.recordSuccess(attempt);
    expect(await onA.retryAfter(attempt, NOW + 6 * MINUTE)).toBe(0);
  });

  test("guesses at one account from many addresses on both nodes earn a doubling wait, and failures past their window are deleted", async () => {
    const [a, b] = await twoNodes(engine, open);
    const nodes = [new LoginThrottle(a, SECRET), new LoginThrottle(b, SECRET)];
    const account = "owner@example.com";
    let now = NOW;
    for (let i = 0; i < 10; i++) await nodes[i % 2]!.recordFailure({ ip: `203.0.113.${i}`, account }, (now += 1000));
    const fresh = { ip: "198.51.100.7", account };
    expect(await nodes[0]!.retryAfter(fresh, now)).toBe(MINUTE);
    now += MINUTE;
    expect(await nodes[1]!.retryAfter(fresh, now)).toBe(0);
    await nodes[1]!.recordFailure({ ip: "203.0.113.99", account }, now);
    expect(await nodes[0]!.retryAfter(fresh, now)).toBe(2 * MINUTE);

    const rows = async () => (await a.get<{ n: number }>("SELECT count(*) AS n FROM login_failures"))!.n;
    expect(await rows()).toBe(33);
    // A day later only the new failure's three rows are left.
    await nodes[0]!.recordFailure(fresh, now + 24 * 60 * MINUTE);
    expect(await rows()).toBe(3);
  });

  test("whatever is typed into the sign-in form gets an answer, not an error", async () => {
    const [a] = await twoNodes(engine, open);
    await createUser(a, { email: "owner@example.com", password: PASSWORD }, NOW);
    const throttle = new LoginThrottle(a, SECRET);
    for (const typed of ["", "owner@example.com\0", "\0", "o'wner@example.com; --", "x".repeat(10_000), "\uD800@example.com"]) {
      expect(await verifyPassword(a, typed, PASSWORD)).toBeNull();
      await throttle.recordFailure({ ip: "unknown\0", account: typed }, NOW);
      expect(await throttle.retryAfter({ ip: "unknown\0", account: typed }, NOW)).toBe(0);
    }
  });
});
