// The rule that an instance keeps an owner, when two owners act at once on two nodes (one on SQLite).
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { describeOnEngines, twoNodes, type TestDatabase } from "../testing/engines.ts";
import { insertUser } from "../auth/users.ts";
import { createProject } from "../projects/service.ts";
import { changeRole, removeTeammate } from "./team.ts";

// Six rounds on a fresh database each; the first PostgreSQL test also starts the test cluster.
setDefaultTimeout(30_000);

const open: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

describeOnEngines("the last owner", (engine) => {
  for (const action of ["demote", "remove"] as const) {
    test(`two owners who ${action} each other at once leave one owner`, async () => {
      for (let round = 0; round < 6; round++) {
        const [a, b] = await twoNodes(engine, open);
        const project = await createProject(a, { name: "Shared" });
        const first = await insertUser(a, { email: "first@example.com", passwordHash: "x", role: "owner" }, 1);
        const second = await insertUser(a, { email: "second@example.com", passwordHash: "x", role: "owner" }, 1);
        await b.get("SELECT 1");
        const act = (storage: typeof a, actor: string, target: string) =>
          action === "demote"
            ? changeRole(storage, { userId: actor, projectId: project.id, isOwner: true }, target, "admin")
            : removeTeammate(storage, { userId: actor, projectId: project.id, isOwner: true }, target);
        const refusals = await Promise.all([act(a, first.id, second.id), act(b, second.id, first.id)]);
        expect(refusals.filter((refusal) => refusal !== null)).toHaveLength(1);
        expect(await a.all("SELECT role FROM users WHERE role = 'owner'")).toHaveLength(1);
      }
    });
  }
});
