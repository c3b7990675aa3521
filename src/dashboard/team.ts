// Team changes on a project's settings: add someone to this project or (owners) to every project, change a
// role, remove someone; never leave the instance without an owner.
import type { Database } from "bun:sqlite";
import { createUser, deleteUser, findUserByEmail, getUser, listUsers, ROLES, setUserRole, validateCredentials, type Role } from "../auth/users.ts";
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
  db: Database,
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

  const existing = findUserByEmail(db, input.email);
  const existingAccess = existing ? accessOf(db, existing.id) : null;
  if (existing && (everyProject || existingAccess!.everyProject)) errors.email = `${existing.email} is already on the team and sees every project.`;
  else if (existing && existingAccess!.roles.has(actor.projectId)) errors.email = `${existing.email} is already a member of this project.`;
  else if (!existing) Object.assign(errors, validateCredentials(input.email, input.password));
  if (Object.keys(errors).length > 0) return errors;

  // Someone already member of other projects joins this one with the account they have.
  if (existing) addMember(db, actor.projectId, existing.id, role as MemberRole, now);
  else await createUser(db, { email: input.email, password: input.password, role: role!, projectId: everyProject ? undefined : actor.projectId }, now);
  return {};
}

function ownerCount(db: Database): number {
  return listUsers(db).filter((u) => u.role === "owner").length;
}

/** Someone this actor may manage on this project: a member of it, or (for owners) anyone for every project. */
function managed(db: Database, actor: TeamActor, userId: string) {
  const user = getUser(db, userId);
  if (!user) return null;
  const access = accessOf(db, userId);
  if (access.everyProject) return actor.isOwner ? { user, everyProject: true } : null;
  return access.roles.has(actor.projectId) ? { user, everyProject: false } : null;
}

const NOT_MANAGED = "There is no such teammate on this project, or changing them needs an owner.";

/** null when done, else why not. */
export function changeRole(db: Database, actor: TeamActor, userId: string, roleValue: string): string | null {
  const target = managed(db, actor, userId);
  if (!target) return NOT_MANAGED;
  const role = parseRole(roleValue);
  if (!target.everyProject) {
    if (!role || !isMemberRole(role)) return "Choose admin or viewer: an owner holds every project.";
    setMemberRole(db, actor.projectId, userId, role);
    return null;
  }
  if (!role) return "Choose owner, admin or viewer.";
  if (target.user.role === "owner" && role !== "owner" && ownerCount(db) === 1) return "The instance needs an owner: make someone else owner first.";
  setUserRole(db, userId, role);
  return null;
}

/** A member leaves this project; someone on every project leaves the team. */
export function removeTeammate(db: Database, actor: TeamActor, userId: string): string | null {
  if (userId === actor.userId) return "You cannot remove yourself.";
  const target = managed(db, actor, userId);
  if (!target) return NOT_MANAGED;
  if (!target.everyProject) {
    removeMember(db, actor.projectId, userId);
    return null;
  }
  if (target.user.role === "owner" && ownerCount(db) === 1) return "The instance needs an owner.";
  deleteUser(db, userId);
  return null;
}
