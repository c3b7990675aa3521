import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Storage } from "../db/storage/storage.ts";
import { connectNode, describeOnEngines, freshDatabase, type TestDatabase } from "../testing/engines.ts";
import { ApiError } from "../http/errors.ts";
import { createLink, deleteLink, getLink, listLinks, updateLink } from "./service.ts";
import { findActiveLink, openLinkDirectory } from "./directory.ts";
import { createProject } from "../projects/service.ts";

async function failure(run: () => Promise<unknown>): Promise<ApiError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

describeOnEngines("tracked links", (engine) => {
  let database: TestDatabase;
  let storage: Storage;
  let projectId: string;

  beforeEach(async () => {
    database = await freshDatabase(engine);
    storage = database.storage;
    projectId = (await createProject(storage, { name: "Links" })).id;
  });
  afterEach(() => database.close());

  describe("creating a tracked link", () => {
    test("a link without a slug gets a generated URL-safe one and a stable linkId", async () => {
      const link = await createLink(storage, projectId, { destinationUrl: "https://example.com/" });
      expect(link.slug).toMatch(/^[A-Za-z0-9]{7}$/);
      expect(link.linkId).toMatch(/^lnk_[A-Za-z0-9]+$/);
      expect((await getLink(storage, projectId, link.linkId))?.destinationUrl).toBe("https://example.com/");
    });

    test("javascript:, data: and relative destinations are refused with 400 and nothing is stored", async () => {
      for (const destinationUrl of ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "/relative", "ftp://example.com/x", "https://"]) {
        const error = await failure(() => createLink(storage, projectId, { destinationUrl }));
        expect(error.httpStatus).toBe(400);
        expect(error.message).toContain("destinationUrl");
      }
      expect(await listLinks(storage, projectId)).toHaveLength(0);
    });

    test("a malformed slug is refused", async () => {
      for (const slug of ["has space", "-leading", "a/b", "x".repeat(65), "ünï", ""]) {
        expect((await failure(() => createLink(storage, projectId, { destinationUrl: "https://example.com", slug }))).httpStatus).toBe(400);
      }
    });

    test("a slug already taken, in any project, answers 409", async () => {
      await createLink(storage, projectId, { destinationUrl: "https://example.com", slug: "launch" });
      const other = (await createProject(storage, { name: "Other" })).id;
      const error = await failure(() => createLink(storage, other, { destinationUrl: "https://example.org", slug: "launch" }));
      expect(error.httpStatus).toBe(409);
      expect(error.code).toBe("slug_taken");
      expect(await listLinks(storage, other)).toHaveLength(0);
    });

    test("the campaign and the lead a link names are created implicitly, once", async () => {
      await createLink(storage, projectId, { destinationUrl: "https://example.com", campaignId: "spring_launch", leadId: "lead_42" });
      await createLink(storage, projectId, { destinationUrl: "https://example.com/2", campaignId: "spring_launch", leadId: "lead_42" });
      expect(await storage.all("SELECT campaign_id FROM campaigns WHERE project_id = ?", [projectId])).toEqual([{ campaign_id: "spring_launch" }]);
      expect(await storage.all("SELECT lead_id FROM leads WHERE project_id = ?", [projectId])).toEqual([{ lead_id: "lead_42" }]);
    });

    test("empty context fields count as absent", async () => {
      const link = await createLink(storage, projectId, { destinationUrl: "https://example.com", source: "  ", medium: "", campaignId: null });
      expect([link.source, link.medium, link.campaignId]).toEqual([null, null, null]);
    });
  });

  describe("changing a tracked link", () => {
    test("the redirect's in-memory directory follows create, slug change, archive and delete", async () => {
      const directory = await openLinkDirectory(storage);
      const link = await createLink(storage, projectId, { destinationUrl: "https://example.com/a", slug: "one", source: "x" });
      expect(findActiveLink(storage, "one")?.destinationUrl).toBe("https://example.com/a");

      await updateLink(storage, projectId, link.linkId, { slug: "two", destinationUrl: "https://example.com/b", source: null });
      expect(findActiveLink(storage, "one")).toBeNull();
      expect(findActiveLink(storage, "two")).toMatchObject({ destinationUrl: "https://example.com/b", context: { source: null } });

      await updateLink(storage, projectId, link.linkId, { archived: true });
      expect(findActiveLink(storage, "two")).toBeNull();
      await updateLink(storage, projectId, link.linkId, { archived: false });
      expect(findActiveLink(storage, "two")?.linkId).toBe(link.linkId);

      await deleteLink(storage, projectId, link.linkId);
      expect(findActiveLink(storage, "two")).toBeNull();
      expect(await getLink(storage, projectId, link.linkId)).toBeNull();
      await directory.stop();
    });

    test("a link of another project can be neither read, changed nor deleted", async () => {
      const link = await createLink(storage, projectId, { destinationUrl: "https://example.com" });
      const other = (await createProject(storage, { name: "Other" })).id;
      expect(await getLink(storage, other, link.linkId)).toBeNull();
      expect((await failure(() => updateLink(storage, other, link.linkId, { title: "x" }))).httpStatus).toBe(404);
      expect((await failure(() => deleteLink(storage, other, link.linkId))).httpStatus).toBe(404);
    });

    test("renaming to a slug in use answers 409 and leaves the link as it was", async () => {
      await createLink(storage, projectId, { destinationUrl: "https://example.com", slug: "taken" });
      const link = await createLink(storage, projectId, { destinationUrl: "https://example.com", slug: "mine" });
      expect((await failure(() => updateLink(storage, projectId, link.linkId, { slug: "taken" }))).httpStatus).toBe(409);
      expect((await getLink(storage, projectId, link.linkId))?.slug).toBe("mine");
    });

    test("two requests at once for one slug, creating or renaming, get one link and one 409", async () => {
      const statuses = async (attempts: Promise<unknown>[]) =>
        (await Promise.allSettled(attempts)).map((result) => (result.status === "fulfilled" ? 200 : (result.reason as ApiError).httpStatus)).sort();
      const create = () => createLink(storage, projectId, { destinationUrl: "https://example.com", slug: "contested" });
      expect(await statuses([create(), create()])).toEqual([200, 409]);

      const [one, two] = await Promise.all(["a", "b"].map((slug) => createLink(storage, projectId, { destinationUrl: "https://example.com", slug })));
      const rename = (linkId: string) => updateLink(storage, projectId, linkId, { slug: "renamed" });
      expect(await statuses([rename(one!.linkId), rename(two!.linkId)])).toEqual([200, 409]);
    });

    test("two edits of one link at once, on two nodes, both stay: neither writes back what it read before the other", async () => {
      const other = database.url ? connectNode(database.url) : database;
      try {
        await other.storage.get("SELECT 1");
        for (let round = 0; round < 6; round++) {
          const link = await createLink(storage, projectId, { destinationUrl: "https://example.com/before", title: "Before" });
          await Promise.all([
            updateLink(storage, projectId, link.linkId, { title: `Title ${round}` }),
            updateLink(other.storage, projectId, link.linkId, { destinationUrl: `https://example.com/after-${round}` }),
          ]);
          expect(await getLink(storage, projectId, link.linkId)).toMatchObject({ title: `Title ${round}`, destinationUrl: `https://example.com/after-${round}` });
        }
      } finally {
        if (other !== database) await other.close();
      }
    });

    test("archived links are left out of the list unless asked for", async () => {
      const kept = await createLink(storage, projectId, { destinationUrl: "https://example.com/kept" });
      const archived = await createLink(storage, projectId, { destinationUrl: "https://example.com/old" });
      await updateLink(storage, projectId, archived.linkId, { archived: true });
      expect((await listLinks(storage, projectId)).map((l) => l.linkId)).toEqual([kept.linkId]);
      expect(await listLinks(storage, projectId, { includeArchived: true })).toHaveLength(2);
    });
  });
});
