// Team changes the owner makes: add a teammate, change a role, remove someone; never leave the instance without an owner.
import type { Database } from "bun:sqlite";
import { createUser, deleteUser, getUser, listUsers, ROLES, setUserRole, validateCredentials, findUserByEmail, type Role } from "../auth/users.ts";

export type TeamErrors = Partial<Record<"email" | "password" | "role", string>>;

export function parseRole(value: string): Role | null {
  return (ROLES as readonly string[]).includes(value) ? (value as Role) : null;
}

export async function addTeammate(db: Database, input: { email: string; password: string; role: string }, now: number): Promise<TeamErrors> {
  const errors: TeamErrors = { ...validateCredentials(input.email, input.password) };
  if (!parseRole(input.role)) errors.role = "Choose owner, admin or viewer.";
  if (!errors.email && findUserByEmail(db, input.email)) errors.email = `${input.email.trim()} is already on the team.`;
  if (Object.keys(errors).length > 0) return errors;
  await createUser(db, { email: input.email, password: input.password, role: parseRole(input.role)! }, now);
  return {};
}

function ownerCount(db: Database): number {
  return listUsers(db).filter((u) => u.role === "owner").length;
}

/** null when done, else why not. */
export function changeRole(db: Database, actingUserId: string, userId: string, roleValue: string): string | null {
  const user = getUser(db, userId);
  const role = parseRole(roleValue);
  if (!user) return "There is no such teammate.";
  if (!role) return "Choose owner, admin or viewer.";
  if (user.role === "owner" && role !== "owner" && ownerCount(db) === 1) return "The instance needs an owner: make someone else owner first.";
  if (user.id === actingUserId && role !== "owner" && ownerCount(db) === 1) return "You are the only owner.";
  setUserRole(db, userId, role);
  return null;
}

export function removeTeammate(db: Database, actingUserId: string, userId: string): string | null {
  const user = getUser(db, userId);
  if (!user) return "There is no such teammate.";
  if (user.id === actingUserId) return "You cannot remove yourself.";
  if (user.role === "owner" && ownerCount(db) === 1) return "The instance needs an owner.";
  deleteUser(db, userId);
  return null;
}
