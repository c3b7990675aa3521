// Dashboard users: an email, an argon2id password hash and a role (on every project, or per project: access.ts).
import type { Storage } from "../db/storage/storage.ts";
import { newId } from "../core/ids.ts";
import { addMember, isMemberRole, type MemberRole } from "./access.ts";

export const ROLES = ["owner", "admin", "viewer"] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  email: string;
  role: Role;
  createdAt: number;
}

export class UserInputError extends Error {}

export const MIN_PASSWORD_LENGTH = 8;
// No NUL: PostgreSQL's text cannot hold it, and no address has one.
const EMAIL = /^[^\s@\0]+@[^\s@\0]+\.[^\s@\0]+$/;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Creates a user; with `projectId` the role (admin or viewer) holds on that project only, else on every project. */
export async function createUser(
  storage: Storage,
  input: { email: string; password: string; role?: Role; projectId?: string },
  now = Date.now(),
): Promise<User> {
  const email = normalizeEmail(input.email);
  const role = input.role ?? "owner";
  if (!EMAIL.test(email)) throw new UserInputError(`"${input.email}" is not an email address`);
  if (input.password.length < MIN_PASSWORD_LENGTH) throw new UserInputError(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  if (!ROLES.includes(role)) throw new UserInputError(`role must be one of ${ROLES.join(", ")}`);
  if (input.projectId !== undefined && !isMemberRole(role)) throw new UserInputError("an owner holds every project: give --role admin or viewer with --project");
  if (await findUserByEmail(storage, email)) throw new UserInputError(`a user with email ${email} already exists`);
  const passwordHash = await hashPassword(input.password);
  const projectId = input.projectId;
  if (projectId === undefined) return insertUser(storage, { email, passwordHash, role }, now);
  return storage.transaction(async (tx) => {
    const user = await insertUser(tx, { email, passwordHash, role: "viewer", everyProject: false }, now);
    await addMember(tx, projectId, user.id, role as MemberRole, now);
    return user;
  });
}

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id" });
}

/** Inserts a user whose password is already hashed (so the insert can sit in a short transaction). */
export async function insertUser(
  storage: Storage,
  input: { email: string; passwordHash: string; role: Role; everyProject?: boolean },
  now = Date.now(),
): Promise<User> {
  const email = normalizeEmail(input.email);
  const id = newId("usr", 12);
  await storage.run("INSERT INTO users (id, email, password_hash, role, created_at, every_project) VALUES (?, ?, ?, ?, ?, ?)", [
    id,
    email,
    input.passwordHash,
    input.role,
    now,
    input.everyProject === false ? 0 : 1,
  ]);
  return { id, email, role: input.role, createdAt: now };
}

/** Why an email/password pair cannot make an account, per field; empty when it can. */
export function validateCredentials(email: string, password: string): { email?: string; password?: string } {
  const errors: { email?: string; password?: string } = {};
  if (!EMAIL.test(normalizeEmail(email))) errors.email = email.trim() ? `"${email.trim()}" is not an email address.` : "Enter an email address.";
  if (password.length < MIN_PASSWORD_LENGTH) errors.password = `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`;
  else if (password.length > 1000) errors.password = "The password is longer than 1000 characters.";
  return errors;
}

export async function setPassword(storage: Storage, userId: string, password: string): Promise<void> {
  await storage.run("UPDATE users SET password_hash = ? WHERE id = ?", [await hashPassword(password), userId]);
}

interface UserRow {
  id: string;
  email: string;
  role: Role;
  created_at: number;
}

const toUser = (row: UserRow): User => ({ id: row.id, email: row.email, role: row.role, createdAt: row.created_at });

export async function getUser(storage: Storage, id: string): Promise<User | null> {
  const row = await storage.get<UserRow>("SELECT id, email, role, created_at FROM users WHERE id = ?", [id]);
  return row ? toUser(row) : null;
}

export async function listUsers(storage: Storage): Promise<User[]> {
  return (await storage.all<UserRow>("SELECT id, email, role, created_at FROM users ORDER BY created_at, email")).map(toUser);
}

export async function setUserRole(storage: Storage, id: string, role: Role): Promise<boolean> {
  return (await storage.run("UPDATE users SET role = ? WHERE id = ?", [role, id])).changes > 0;
}

/** Removes a user; their sessions go with them (ON DELETE CASCADE). */
export async function deleteUser(storage: Storage, id: string): Promise<boolean> {
  return (await storage.run("DELETE FROM users WHERE id = ?", [id])).changes > 0;
}

export async function findUserByEmail(storage: Storage, email: string): Promise<(User & { passwordHash: string }) | null> {
  const normalized = normalizeEmail(email);
  // Whatever is typed into the sign-in form arrives here: text no stored address can match is not looked up (PostgreSQL refuses a NUL).
  if (!EMAIL.test(normalized)) return null;
  const row = await storage.get<UserRow & { password_hash: string }>("SELECT id, email, role, created_at, password_hash FROM users WHERE email = ?", [normalized]);
  return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
}

/** The user when the password is right, else null; takes the same time for an unknown email. */
export async function verifyPassword(storage: Storage, email: string, password: string): Promise<User | null> {
  const user = await findUserByEmail(storage, email);
  const hash = user?.passwordHash ?? unknownUserHash();
  const ok = await Bun.password.verify(password, hash);
  if (!user || !ok) return null;
  const { passwordHash: _, ...publicUser } = user;
  return publicUser;
}

// Verifying against a real hash for unknown emails keeps their answer as slow as a wrong password.
let cachedUnknownUserHash: string | undefined;
function unknownUserHash(): string {
  return (cachedUnknownUserHash ??= Bun.password.hashSync("not-a-real-password", { algorithm: "argon2id" }));
}

export async function countUsers(storage: Storage): Promise<number> {
  return (await storage.get<{ n: number }>("SELECT count(*) AS n FROM users"))!.n;
}
