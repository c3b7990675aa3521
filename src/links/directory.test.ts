// The redirect's link directory: two nodes on one PostgreSQL database see each other's changes within a second, and a read
// under way never undoes a change this node has just made.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { SqlValue, Storage } from "../db/storage/storage.ts";
import { connectNode, describeOnEngines, freshDatabase, type TestDatabase } from "../testing/engines.ts";
import { createLink, deleteLink, updateLink } from "./service.ts";
import { findActiveLink, openLinkDirectory, type OpenLinkDirectory } from "./directory.ts";
import { createProject } from "../projects/service.ts";

/** What `read` gives once it equals `expected`, polling for up to a second. */
async function withinASecond<T>(read: () => T, expected: T): Promise<T> {
  const deadline = Date.now() + 1000;
  while (Date.now() < deadline && !Bun.deepEquals(read(), expected)) await Bun.sleep(10);
  return read();
}

const destinationOn = (node: { storage: Storage }, slug: string) => findActiveLink(node.storage, slug)?.destinationUrl ?? null;

describe("the link directory on two nodes (postgres)", () => {
  let nodeA: TestDatabase;
  let nodeB: TestDatabase;
  let directories: OpenLinkDirectory[];
  let projectId: string;

  beforeEach(async () => {
    nodeA = await freshDatabase("postgres");
    nodeB = connectNode(nodeA.url!);
    directories = [];
    projectId = (await createProject(nodeA.storage, { name: "Two nodes" })).id;
  });
  afterEach(async () => {
    await Promise.all(directories.map((directory) => directory.stop()));
    await nodeB.close();
    await nodeA.close();
  });

  async function open(node: TestDatabase, options: { resyncMs?: number } = {}) {
    directories.push(await openLinkDirectory(node.storage, options));
  }

  test("a link existing when a node starts, and one created on the other node afterwards, both redirect there", async () => {
    await createLink(nodeA.storage, projectId, { destinationUrl: "https://example.com/before", slug: "before" });
    await open(nodeA);
    await open(nodeB);
    expect(destinationOn(nodeB, "before")).toBe("https://example.com/before");

    await createLink(nodeA.storage, projectId, { destinationUrl: "https://example.com/new", slug: "fresh", campaignId: "launch" });
    expect(destinationOn(nodeA, "fresh")).toBe("https://example.com/new");
    expect(await withinASecond(() => destinationOn(nodeB, "fresh"), "https://example.com/new")).toBe("https://example.com/new");
    expect(findActiveLink(nodeB.storage, "fresh")?.context.campaignId).toBe("launch");
  });

  test("a changed destination and a changed slug reach the other node", async () => {
    await open(nodeA);
    await open(nodeB);
    const link = await createLink(nodeA.storage, projectId, { destinationUrl: "https://example.com/old", slug: "moving" });
    await updateLink(nodeA.storage, projectId, link.linkId, { destinationUrl: "https://example.com/changed" });
    expect(await withinASecond(() => destinationOn(nodeB, "moving"), "https://example.com/changed")).toBe("https://example.com/changed");

    await updateLink(nodeA.storage, projectId, link.linkId, { slug: "moved" });
    expect(await withinASecond(() => destinationOn(nodeB, "moved"), "https://example.com/changed")).toBe("https://example.com/changed");
    expect(destinationOn(nodeB, "moving")).toBeNull();
  });

  test("archived on one node, the link 404s on the other; restored, it redirects again; deleted, it is gone", async () => {
    await open(nodeA);
    await open(nodeB);
    const link = await createLink(nodeA.storage, projectId, { destinationUrl: "https://example.com/a", slug: "archivable" });
    expect(await withinASecond(() => destinationOn(nodeB, "archivable"), "https://example.com/a")).toBe("https://example.com/a");

    await updateLink(nodeA.storage, projectId, link.linkId, { archived: true });
    expect(destinationOn(nodeA, "archivable")).toBeNull();
    expect(await withinASecond(() => destinationOn(nodeB, "archivable"), null)).toBeNull();

    await updateLink(nodeB.storage, projectId, link.linkId, { archived: false });
    expect(await withinASecond(() => destinationOn(nodeA, "archivable"), "https://example.com/a")).toBe("https://example.com/a");

    await deleteLink(nodeB.storage, projectId, link.linkId);
    expect(await withinASecond(() => destinationOn(nodeA, "archivable"), null)).toBeNull();
  });

  test("a change no notice told of (written by hand, or sent while a node was reconnecting) is read by the periodic resync", async () => {
    await open(nodeB, { resyncMs: 100 });
    const link = await createLink(nodeA.storage, projectId, { destinationUrl: "https://example.com/quiet", slug: "quiet" });
    expect(await withinASecond(() => destinationOn(nodeB, "quiet"), "https://example.com/quiet")).toBe("https://example.com/quiet");
    const unchanged = findActiveLink(nodeB.storage, "quiet");
    await Bun.sleep(250);
    // The same object: the redirect's work per link (redirect.ts) is not done again after every resync.
    expect(findActiveLink(nodeB.storage, "quiet")).toBe(unchanged!);
    await nodeA.storage.run("UPDATE links SET destination_url = ? WHERE id = ?", ["https://example.com/by-hand", link.linkId]);
    expect(await withinASecond(() => destinationOn(nodeB, "quiet"), "https://example.com/by-hand")).toBe("https://example.com/by-hand");
  });

  test("after its listening connection drops, a node reads every link again once it is back", async () => {
    await open(nodeB);
    const link = await createLink(nodeA.storage, projectId, { destinationUrl: "https://example.com/before-drop", slug: "dropped" });
    expect(await withinASecond(() => destinationOn(nodeB, "dropped"), "https://example.com/before-drop")).toBe("https://example.com/before-drop");
    const dropped = await nodeA.storage.all(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    );
    expect(dropped).toHaveLength(1);
    // Sent while node B listens nowhere: only the read after its reconnect brings it.
    await updateLink(nodeA.storage, projectId, link.linkId, { destinationUrl: "https://example.com/while-down" });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && destinationOn(nodeB, "dropped") !== "https://example.com/while-down") await Bun.sleep(20);
    expect(destinationOn(nodeB, "dropped")).toBe("https://example.com/while-down");
  });
});

describeOnEngines("the link directory on one node", (engine) => {
  test("one that cannot read its links fails to open, rather than answering 404 for every link", async () => {
    const database = await freshDatabase(engine);
    const broken: Storage = { ...database.storage, all: () => Promise.reject(new Error("disk on fire")) };
    await expect(openLinkDirectory(broken)).rejects.toThrow("disk on fire");
    await database.close();
  });

  test("a change made on this node after the read began is not undone by what the read brings back", async () => {
    const database = await freshDatabase(engine);
    const project = (await createProject(database.storage, { name: "Slow read" })).id;
    let notice!: (linkId: string) => void;
    let holdNextRead = false;
    let release!: () => void;
    const storage: Storage = {
      ...database.storage,
      async all<Row>(sql: string, params?: readonly SqlValue[]) {
        const rows = await database.storage.all<Row>(sql, params);
        if (holdNextRead) {
          holdNextRead = false;
          await new Promise<void>((resolve) => (release = resolve));
        }
        return rows;
      },
      async listen(_channel, onNotice) {
        notice = onNotice;
        return { unlisten: async () => {} };
      },
    };
    const directory = await openLinkDirectory(storage);
    const link = await createLink(storage, project, { destinationUrl: "https://example.com/read-before", slug: "raced" });
    holdNextRead = true;
    notice(link.linkId);
    await updateLink(storage, project, link.linkId, { destinationUrl: "https://example.com/changed-here" });
    expect(destinationOn({ storage }, "raced")).toBe("https://example.com/changed-here");
    release();
    await directory.stop();
    expect(destinationOn({ storage }, "raced")).toBe("https://example.com/changed-here");
    await database.close();
  });
});
