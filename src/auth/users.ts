// Dashboard users: an email, an argon2id password hash and a role (on every project, or per project: access.ts).
import type { Database } from "bun:sqlite";
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
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Creates a user; with `projectId` the role (admin or viewer) holds on that project only, else on every project. */
export async function createUser(
  db: Database,
  input: { email: string; password: string; role?: Role; projectId?: string },
  now = Date.now(),
): Promise<User> {
  const email = normalizeEmail(input.email);
  const role = input.role ?? "owner";
  if (!EMAIL.test(email)) throw new UserInputError(`"${input.email}" is not an email address`);
  if (input.password.length < MIN_PASSWORD_LENGTH) throw new UserInputError(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  if (!ROLES.includes(role)) throw new UserInputError(`role must be one of ${ROLES.join(", ")}`);
  if (input.projectId !== undefined && !isMemberRole(role)) throw new UserInputError("an owner holds every project: give --role admin or viewer with --project");
  if (findUserByEmail(db, email)) throw new UserInputError(`a user with email ${email} already exists`);
  const passwordHash = await hashPassword(input.password);
  const projectId = input.projectId;
  if (projectId === undefined) return insertUser(db, { email, passwordHash, role }, now);
  return db.transaction(() => {
    const user = insertUser(db, { email, passwordHash, role: "viewer", everyProject: false }, now);
    addMember(db, projectId, user.id, role as MemberRole, now);
    return user;
  })();
}

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id" });
}

/** Inserts a user whose password is already hashed (synchronous, so it can sit in a transaction). */
export function insertUser(db: Database, input: { email: string; passwordHash: string; role: Role; everyProject?: boolean }, now = Date.now()): User {
  const email = normalizeEmail(input.email);
  const id = newId("usr", 12);
  db.query("INSERT INTO users (id, email, password_hash, role, created_at, every_project) VALUES (?, ?, ?, ?, ?, ?)").run(
    id,
    email,
    input.passwordHash,
    input.role,
    now,
    input.everyProject === false ? 0 : 1,
  );
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

export async function setPassword(db: Database, userId: string, password: string): Promise<void> {
  db.query("UPDATE users SET password_hash = ? WHERE id = ?").run(await hashPassword(password), userId);
}

export function getUser(db: Database, id: string): User | null {
  const row = db.query<Omit<UserRow, "password_hash">, [string]>("SELECT id, email, role, created_at FROM users WHERE id = ?").get(id);
  return row ? { id: row.id, email: row.email, role: row.role, createdAt: row.created_at } : null;
}

export function listUsers(db: Database): User[] {
  return db
    .query<Omit<UserRow, "password_hash">, []>("SELECT id, email, role, created_at FROM users ORDER BY created_at, email")
    .all()
    .map((row) => ({ id: row.id, email: row.email, role: row.role, createdAt: row.created_at }));
}

export function setUserRole(db: Database, id: string, role: Role): boolean {
  return db.query("UPDATE users SET role = ? WHERE id = ?").run(role, id).changes > 0;
}

/** Removes a user; their sessions go with them (ON DELETE CASCADE). */
export function deleteUser(db: Database, id: string): boolean {
  return db.query("DELETE FROM users WHERE id = ?").run(id).changes > 0;
}

interface UserRow {
  id: string;
  email: string;
  role: Role;
  created_at: number;
  password_hash: string;
}

export function findUserByEmail(db: Database, email: string): (User & { passwordHash: string }) | null {
  const row = db
    .query<UserRow, [string]>("SELECT id, email, role, created_at, password_hash FROM users WHERE email = ?")
    .get(normalizeEmail(email));
  return row ? { id: row.id, email: row.email, role: row.role, createdAt: row.created_at, passwordHash: row.password_hash } : null;
}

/** The user when the password is right, else null; takes the same time for an unknown email. */
export async function verifyPassword(db: Database, email: string, password: string): Promise<User | null> {
  const user = findUserByEmail(db, email);
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

export function countUsers(db: Database): number {
  return db.query<{ n: number }, []>("SELECT count(*) AS n FROM users").get()!.n;
}
