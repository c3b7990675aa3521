import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { openDatabase } from "../db/database.ts";
import { migrate } from "../db/migrate.ts";
import { migrations } from "../db/migrations.ts";
import { ApiError } from "../http/errors.ts";
import { createProject } from "../projects/service.ts";
import { createLink, deleteLink, getLink, listLinks, updateLink } from "./service.ts";
import { findActiveLink } from "./directory.ts";
import { sqliteStorage } from "../db/storage/sqlite.ts";

let db: Database;
let projectId: string;

beforeEach(async () => {
  db = openDatabase(":memory:");
  migrate(db, migrations);
  projectId = (await createProject(sqliteStorage(db), { name: "Links" })).id;
});
afterEach(() => db.close());

function failure(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

describe("creating a tracked link", () => {
  test("a link without a slug gets a generated URL-safe one and a stable linkId", () => {
    const link = createLink(db, projectId, { destinationUrl: "https://example.com/" });
    expect(link.slug).toMatch(/^[A-Za-z0-9]{7}$/);
    expect(link.linkId).toMatch(/^lnk_[A-Za-z0-9]+$/);
    expect(getLink(db, projectId, link.linkId)?.destinationUrl).toBe("https://example.com/");
  });

  test("javascript:, data: and relative destinations are refused with 400 and nothing is stored", () => {
    for (const destinationUrl of ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "/relative", "ftp://example.com/x", "https://"]) {
      const error = failure(() => createLink(db, projectId, { destinationUrl }));
      expect(error.httpStatus).toBe(400);
      expect(error.message).toContain("destinationUrl");
    }
    expect(listLinks(db, projectId)).toHaveLength(0);
  });

  test("a malformed slug is refused", () => {
    for (const slug of ["has space", "-leading", "a/b", "x".repeat(65), "ünï", ""]) {
      expect(failure(() => createLink(db, projectId, { destinationUrl: "https://example.com", slug })).httpStatus).toBe(400);
    }
  });

  test("a slug already taken, in any project, answers 409", async () => {
    createLink(db, projectId, { destinationUrl: "https://example.com", slug: "launch" });
    const other = (await createProject(sqliteStorage(db), { name: "Other" })).id;
    const error = failure(() => createLink(db, other, { destinationUrl: "https://example.org", slug: "launch" }));
    expect(error.httpStatus).toBe(409);
    expect(error.code).toBe("slug_taken");
    expect(listLinks(db, other)).toHaveLength(0);
  });

  test("the campaign and the lead a link names are created implicitly, once", () => {
    createLink(db, projectId, { destinationUrl: "https://example.com", campaignId: "spring_launch", leadId: "lead_42" });
    createLink(db, projectId, { destinationUrl: "https://example.com/2", campaignId: "spring_launch", leadId: "lead_42" });
    expect(db.query("SELECT campaign_id FROM campaigns WHERE project_id = ?").all(projectId)).toEqual([{ campaign_id: "spring_launch" }]);
    expect(db.query("SELECT lead_id FROM leads WHERE project_id = ?").all(projectId)).toEqual([{ lead_id: "lead_42" }]);
  });

  test("empty context fields count as absent", () => {
    const link = createLink(db, projectId, { destinationUrl: "https://example.com", source: "  ", medium: "", campaignId: null });
    expect([link.source, link.medium, link.campaignId]).toEqual([null, null, null]);
  });
});

describe("changing a tracked link", () => {
  test("the redirect's in-memory directory follows create, slug change, archive and delete", () => {
    const link = createLink(db, projectId, { destinationUrl: "https://example.com/a", slug: "one", source: "x" });
    expect(findActiveLink(db, "one")?.destinationUrl).toBe("https://example.com/a");

    updateLink(db, projectId, link.linkId, { slug: "two", destinationUrl: "https://example.com/b", source: null });
    expect(findActiveLink(db, "one")).toBeNull();
    expect(findActiveLink(db, "two")).toMatchObject({ destinationUrl: "https://example.com/b", context: { source: null } });

    updateLink(db, projectId, link.linkId, { archived: true });
    expect(findActiveLink(db, "two")).toBeNull();
    updateLink(db, projectId, link.linkId, { archived: false });
    expect(findActiveLink(db, "two")?.linkId).toBe(link.linkId);

    deleteLink(db, projectId, link.linkId);
    expect(findActiveLink(db, "two")).toBeNull();
    expect(getLink(db, projectId, link.linkId)).toBeNull();
  });

  test("a link of another project can be neither read, changed nor deleted", async () => {
    const link = createLink(db, projectId, { destinationUrl: "https://example.com" });
    const other = (await createProject(sqliteStorage(db), { name: "Other" })).id;
    expect(getLink(db, other, link.linkId)).toBeNull();
    expect(failure(() => updateLink(db, other, link.linkId, { title: "x" })).httpStatus).toBe(404);
    expect(failure(() => deleteLink(db, other, link.linkId)).httpStatus).toBe(404);
  });

  test("renaming to a slug in use answers 409 and leaves the link as it was", () => {
    createLink(db, projectId, { destinationUrl: "https://example.com", slug: "taken" });
    const link = createLink(db, projectId, { destinationUrl: "https://example.com", slug: "mine" });
    expect(failure(() => updateLink(db, projectId, link.linkId, { slug: "taken" })).httpStatus).toBe(409);
    expect(getLink(db, projectId, link.linkId)?.slug).toBe("mine");
  });

  test("archived links are left out of the list unless asked for", () => {
    const kept = createLink(db, projectId, { destinationUrl: "https://example.com/kept" });
    const archived = createLink(db, projectId, { destinationUrl: "https://example.com/old" });
    updateLink(db, projectId, archived.linkId, { archived: true });
    expect(listLinks(db, projectId).map((l) => l.linkId)).toEqual([kept.linkId]);
    expect(listLinks(db, projectId, { includeArchived: true })).toHaveLength(2);
  });
});
