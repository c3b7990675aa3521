// Who sees which project, with which role: users for every project (users.role) and per-project members.
import type { Storage } from "../db/storage/storage.ts";
import type { Role, User } from "./users.ts";
import type { Project } from "../projects/service.ts";

export const MEMBER_ROLES = ["admin", "viewer"] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export interface Access {
  /** True for owners, and for admins and viewers added without a project: users.role holds on every project. */
  everyProject: boolean;
  /** A member's role per project id (empty when everyProject). */
  roles: Map<string, MemberRole>;
}

export async function accessOf(storage: Storage, userId: string): Promise<Access> {
  const rows = await storage.all<{ every_project: number; project_id: string | null; role: MemberRole | null }>(
    `SELECT u.every_project, m.project_id, m.role FROM users u LEFT JOIN project_members m ON m.user_id = u.id WHERE u.id = ?`,
    [userId],
  );
  const everyProject = rows[0]?.every_project === 1;
  const roles = new Map<string, MemberRole>();
  if (!everyProject) for (const row of rows) if (row.project_id && row.role) roles.set(row.project_id, row.role);
  return { everyProject, roles };
}

/** The role `user` holds on a project, or null when that project is not theirs to see. */
export function roleOnProject(user: Pick<User, "role">, access: Access, projectId: string): Role | null {
  return access.everyProject ? user.role : (access.roles.get(projectId) ?? null);
}

export function isMemberRole(value: string): value is MemberRole {
  return (MEMBER_ROLES as readonly string[]).includes(value);
}

/** Adds a member to a project; false when they already are one. */
export async function addMember(storage: Storage, projectId: string, userId: string, role: MemberRole, now: number): Promise<boolean> {
  const { changes } = await storage.run(
    "INSERT INTO project_members (project_id, user_id, role, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (project_id, user_id) DO NOTHING",
    [projectId, userId, role, now],
  );
  return changes > 0;
}

export async function setMemberRole(storage: Storage, projectId: string, userId: string, role: MemberRole): Promise<boolean> {
  return (await storage.run("UPDATE project_members SET role = ? WHERE project_id = ? AND user_id = ?", [role, projectId, userId])).changes > 0;
}

/** Removes a member from a project; someone left with no project at all is removed with their sessions. */
export function removeMember(storage: Storage, projectId: string, userId: string): Promise<boolean> {
  return storage.transaction(async (tx) => {
    const removed = (await tx.run("DELETE FROM project_members WHERE project_id = ? AND user_id = ?", [projectId, userId])).changes > 0;
    if (removed) {
      await tx.run("DELETE FROM users WHERE id = ? AND every_project = 0 AND NOT EXISTS (SELECT 1 FROM project_members WHERE user_id = ?)", [userId, userId]);
    }
    return removed;
  });
}

export interface Teammate extends User {
  /** The role on the project asked about. */
  role: Role;
  everyProject: boolean;
}

/** Everyone who sees a project: users for every project, then its members, with their role on it. */
export async function projectTeam(storage: Storage, projectId: string): Promise<Teammate[]> {
  const rows = await storage.all<{ id: string; email: string; role: Role; created_at: number; every_project: number }>(
    `SELECT u.id, u.email, CASE WHEN u.every_project = 1 THEN u.role ELSE m.role END AS role, u.created_at, u.every_project
     FROM users u LEFT JOIN project_members m ON m.user_id = u.id AND m.project_id = ?
     WHERE u.every_project = 1 OR m.project_id IS NOT NULL
     ORDER BY u.every_project DESC, u.created_at, u.email`,
    [projectId],
  );
  return rows.map((row) => ({ id: row.id, email: row.email, role: row.role, createdAt: row.created_at, everyProject: row.every_project === 1 }));
}

/** Of the instance's projects (in its order), those a user with this access may see. */
export function visibleProjects(projects: Project[], access: Access): Project[] {
  return access.everyProject ? projects : projects.filter((project) => access.roles.has(project.id));
}
