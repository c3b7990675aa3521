// Team changes on a project's settings: add someone to this project or (owners) to every project, change a
// role, remove someone; never leave the instance without an owner.
import type { Storage } from "../db/storage/storage.ts";
import { createUser, deleteUser, findUserByEmail, getUser, ROLES, setUserRole, validateCredentials, type Role } from "../auth/users.ts";
import { accessOf, addMember, isMemberRole, removeMember, setMemberRole, type MemberRole } from "../auth/access.ts";

export type TeamErrors = Partial<Record<"email" | "password" | "role" | "scope", string>>;

/** Who is acting, on which project: owners manage everyone; a project's admins manage its members. */
export interface TeamActor {
  userId: string;
  projectId: string;
  isOwner: boolean;
}

export function parseRole(value: string): Role | null {
  return (ROLES as readonly string[]).includes(value) ? (value as Role) : null;
}

/** `scope` "project": this project only (admin or viewer); "every": every project (owners only). */
export async function addTeammate(
  storage: Storage,
  actor: TeamActor,
  input: { email: string; password: string; role: string; scope: string },
  now: number,
): Promise<TeamErrors> {
  const everyProject = input.scope === "every";
  const errors: TeamErrors = {};
  if (everyProject && !actor.isOwner) errors.scope = "Only an owner adds someone to every project.";
  else if (!everyProject && input.scope !== "project") errors.scope = "Choose this project or every project.";
  const role = parseRole(input.role);
  if (!role) errors.role = everyProject ? "Choose owner, admin or viewer." : "Choose admin or viewer.";
  else if (!everyProject && !isMemberRole(role)) errors.role = "An owner holds every project: choose admin or viewer, or every project.";

  const existing = await findUserByEmail(storage, input.email);
  const existingAccess = existing ? await accessOf(storage, existing.id) : null;
  if (existing && (everyProject || existingAccess!.everyProject)) errors.email = `${existing.email} is already on the team and sees every project.`;
  else if (existing && existingAccess!.roles.has(actor.projectId)) errors.email = `${existing.email} is already a member of this project.`;
  else if (!existing) Object.assign(errors, validateCredentials(input.email, input.password));
  if (Object.keys(errors).length > 0) return errors;

  // Someone already member of other projects joins this one with the account they have.
  if (existing) await addMember(storage, actor.projectId, existing.id, role as MemberRole, now);
  else await createUser(storage, { email: input.email, password: input.password, role: role!, projectId: everyProject ? undefined : actor.projectId }, now);
  return {};
}

/**
 * Runs `change` (a demotion or removal of `userId`) unless it would leave the instance without an owner;
 * false when refused. The owners are locked meanwhile (SQLite's transaction holds the writer lock; on
 * PostgreSQL, FOR UPDATE), so two owners demoting each other at once cannot both pass the check.
 */
async function unlessLastOwner(storage: Storage, userId: string, change: (tx: Storage) => Promise<unknown>): Promise<boolean> {
  return storage.transaction(async (tx) => {
    const owners = await tx.all<{ id: string }>(`SELECT id FROM users WHERE role = 'owner'${tx.engine === "postgres" ? " FOR UPDATE" : ""}`);
    if (owners.length === 1 && owners[0]!.id === userId) return false;
    await change(tx);
    return true;
  });
}

/** Someone this actor may manage on this project: a member of it, or (for owners) anyone for every project. */
async function managed(storage: Storage, actor: TeamActor, userId: string) {
  const user = await getUser(storage, userId);
  if (!user) return null;
  const access = await accessOf(storage, userId);
  if (access.everyProject) return actor.isOwner ? { user, everyProject: true } : null;
  return access.roles.has(actor.projectId) ? { user, everyProject: false } : null;
}

const NOT_MANAGED = "There is no such teammate on this project, or changing them needs an owner.";

/** null when done, else why not. */
export async function changeRole(storage: Storage, actor: TeamActor, userId: string, roleValue: string): Promise<string | null> {
  const target = await managed(storage, actor, userId);
  if (!target) return NOT_MANAGED;
  const role = parseRole(roleValue);
  if (!target.everyProject) {
    if (!role || !isMemberRole(role)) return "Choose admin or viewer: an owner holds every project.";
    await setMemberRole(storage, actor.projectId, userId, role);
    return null;
  }
  if (!role) return "Choose owner, admin or viewer.";
  if (role === "owner") await setUserRole(storage, userId, role);
  else if (!(await unlessLastOwner(storage, userId, (tx) => setUserRole(tx, userId, role)))) return "The instance needs an owner: make someone else owner first.";
  return null;
}

/** A member leaves this project; someone on every project leaves the team. */
export async function removeTeammate(storage: Storage, actor: TeamActor, userId: string): Promise<string | null> {
  if (userId === actor.userId) return "You cannot remove yourself.";
  const target = await managed(storage, actor, userId);
  if (!target) return NOT_MANAGED;
  if (!target.everyProject) {
    await removeMember(storage, actor.projectId, userId);
    return null;
  }
  if (!(await unlessLastOwner(storage, userId, (tx) => deleteUser(tx, userId)))) return "The instance needs an owner.";
  return null;
}
