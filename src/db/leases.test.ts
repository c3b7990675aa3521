import { afterEach, expect, test } from "bun:test";
import { describeOnEngines, twoNodes, type TestDatabase } from "../testing/engines.ts";
import { takeLease, whileHolding } from "./leases.ts";
import type { Storage } from "./storage/storage.ts";

const open: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});


describeOnEngines("job leases", (engine) => {
  test("a lease is held by one node until it expires, renewed by its holder, then taken over", async () => {
    const [a, b] = await twoNodes(engine, open);
    expect(await takeLease(a, "pull:p1:stripe", "node-a", 1_000, 60_000)).toBe(true);
    expect(await takeLease(b, "pull:p1:stripe", "node-b", 30_000, 60_000)).toBe(false);
    expect(await takeLease(a, "pull:p1:stripe", "node-a", 50_000, 60_000)).toBe(true);
    // Renewed at 50 s: still held at 61 s, when the first term would have ended.
    expect(await takeLease(b, "pull:p1:stripe", "node-b", 61_000, 60_000)).toBe(false);
    // Node A stops renewing (it died): from 110 s the lease is B's, and A no longer holds it.
    expect(await takeLease(b, "pull:p1:stripe", "node-b", 110_000, 60_000)).toBe(true);
    expect(await takeLease(a, "pull:p1:stripe", "node-a", 111_000, 60_000)).toBe(false);
    // Another job's lease is its own.
    expect(await takeLease(a, "fx-fetch", "node-a", 111_000, 60_000)).toBe(true);
  });

  test("work started on two nodes at once runs on one, and the other node runs it once the first released it", async () => {
    const [a, b] = await twoNodes(engine, open);
    for (let round = 0; round < 10; round++) {
      let runs = 0;
      let refused!: () => void;
      const otherRefused = new Promise<void>((resolve) => (refused = resolve));
      // The work goes on until the other node has been refused (or a second has passed: then both ran it).
      const work = async () => {
        runs++;
        await Promise.race([otherRefused, Bun.sleep(1000)]);
        return round;
      };
      const attempt = (storage: Storage, nodeId: string) =>
        whileHolding({ storage, nodeId, now: Date.now }, `job-${round}`, work).then((outcome) => {
          if (outcome === null) refused();
          return outcome;
        });
      const outcomes = await Promise.all([attempt(a, "node-a"), attempt(b, "node-b")]);
      expect(runs).toBe(1);
      expect(outcomes).toContainEqual({ value: round });
      expect(outcomes).toContain(null);
      expect(await whileHolding({ storage: b, nodeId: "node-b", now: Date.now }, `job-${round}`, work)).toEqual({ value: round });
    }
  });

  test("a node whose renewals keep failing stops once its lease has run out, when another node may take it", async () => {
    const [a] = await twoNodes(engine, open);
    let failing = false;
    const flaky: Storage = { ...a, get: (sql, params) => (failing ? Promise.reject(new Error("connection reset")) : a.get(sql, params)) };
    const logged: string[] = [];
    const log = console.error;
    console.error = (message: string) => logged.push(message);
    try {
      const started = Date.now();
      const outcome = await whileHolding({ storage: flaky, nodeId: "node-a", now: Date.now }, "fx-fetch", async (lost) => {
        failing = true;
        while (!lost()) await Bun.sleep(10);
        return Date.now() - started;
      }, 300);
      expect(outcome!.value).toBeGreaterThanOrEqual(290);
      expect(outcome!.value).toBeLessThan(1000);
      expect(logged.some((message) => message.includes("lease fx-fetch: renewal failed (connection reset)"))).toBe(true);
    } finally {
      console.error = log;
    }
  });

  test("a node whose lease was taken over while it stalled is told so, and stops", async () => {
    const [a, b] = await twoNodes(engine, open);
    let steps = 0;
    const outcome = whileHolding(
      { storage: a, nodeId: "node-a", now: Date.now },
      "conversion",
      async (lost) => {
        while (!lost()) {
          steps++;
          await Bun.sleep(10);
        }
        return steps;
      },
      300,
    );
    await Bun.sleep(50);
    // Node B finds it expired: node A's clock says it renewed, but B's own is 10 minutes ahead.
    expect(await takeLease(b, "conversion", "node-b", Date.now() + 600_000, 300)).toBe(true);
    expect(((await outcome) as { value: number }).value).toBeGreaterThan(0);
    expect(await takeLease(a, "conversion", "node-a", Date.now(), 300)).toBe(false);
  });
});
