// Storage over the embedded SQLite file: each call runs at once on the one connection.
import type { Database, SQLQueryBindings } from "bun:sqlite";
import type { SqlValue, Storage } from "./storage.ts";
import { prepared } from "../../tracking/statements.ts";

type Bindings = SQLQueryBindings[];

/**
 * A transaction stays open across its awaits, and SQLite has one transaction per connection: calls
 * from outside it (and the write queue's batches, which check `db.inTransaction`) wait until it ends.
 */
export function sqliteStorage(db: Database): Storage {
  let storage = storages.get(db);
  if (!storage) storages.set(db, (storage = newSqliteStorage(db)));
  return storage;
}

const STUCK_MS = 10_000;

/** One per database: its open transaction is the connection's. */
const storages = new WeakMap<Database, Storage>();

function newSqliteStorage(db: Database): Storage {
  // Each call checks `open` and then runs (or opens its transaction) with no await in between: a check in
  // a helper of its own would resume a microtask later, after another transaction could have begun.
  let open: Promise<void> | null = null;
  const direct = directStorage(db);
  return {
    engine: "sqlite",
    async all(sql, params) {
      while (open) await open;
      return direct.all(sql, params);
    },
    async get(sql, params) {
      while (open) await open;
      return direct.get(sql, params);
    },
    async run(sql, params) {
      while (open) await open;
      return direct.run(sql, params);
    },
    async transaction(work) {
      while (open) await open;
      let end!: () => void;
      open = new Promise((resolve) => (end = resolve));
      // Every write waits meanwhile, the write queue's too: a body that awaits ctx.storage instead of tx waits for itself.
      const stuck = setTimeout(() => console.error(`a SQLite storage transaction has been open for ${STUCK_MS / 1000} s, and every write waits for it: does its body await the storage instead of its tx?`), STUCK_MS);
      try {
        db.exec("BEGIN IMMEDIATE");
        try {
          const value = await work(direct);
          db.exec("COMMIT");
          return value;
        } catch (error) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw error;
        }
      } finally {
        clearTimeout(stuck);
        open = null;
        end();
      }
    },
  };
}

/** Inside a transaction: no waiting, and a nested transaction is a savepoint. */
function directStorage(db: Database): Storage {
  const self: Storage = {
    engine: "sqlite",
    async all<Row>(sql: string, params: readonly SqlValue[] = []) {
      return prepared<Row, Bindings>(db, sql).all(...(params as Bindings));
    },
    async get<Row>(sql: string, params: readonly SqlValue[] = []) {
      return prepared<Row, Bindings>(db, sql).get(...(params as Bindings));
    },
    async run(sql, params = []) {
      return { changes: prepared(db, sql).run(...(params as Bindings)).changes };
    },
    async transaction(work) {
      db.exec("SAVEPOINT nested");
      try {
        const value = await work(self);
        db.exec("RELEASE nested");
        return value;
      } catch (error) {
        db.exec("ROLLBACK TO nested");
        db.exec("RELEASE nested");
        throw error;
      }
    },
  };
  return self;
}
