// Test helper: a project row for link tests on either engine (the project service still runs on SQLite alone).
import { newId } from "../core/ids.ts";
import type { Storage } from "../db/storage/storage.ts";

/** Its id. */
export async function insertProject(storage: Storage, name: string): Promise<string> {
  const id = newId("prj", 12);
  await storage.run("INSERT INTO projects (id, name, token, created_at) VALUES (?, ?, ?, ?)", [id, name, newId("tok", 16), Date.now()]);
  return id;
}
