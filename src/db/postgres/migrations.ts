// The PostgreSQL migrations embedded in the executable, numbered by the SQLite schema version each one matches.
import type { PostgresMigration } from "./migrate.ts";
import schemaAt024 from "../../../migrations/postgres/024_schema.sql" with { type: "text" };
import fastReconversion from "../../../migrations/postgres/025_fast_reconversion.sql" with { type: "text" };
import reconversionSteps from "../../../migrations/postgres/026_reconversion_steps.sql" with { type: "text" };
import loginFailures from "../../../migrations/postgres/027_login_failures.sql" with { type: "text" };
import jobLeases from "../../../migrations/postgres/028_job_leases.sql" with { type: "text" };

export const postgresMigrations: readonly PostgresMigration[] = [
  { version: 24, name: "024_schema.sql", sql: schemaAt024 },
  { version: 25, name: "025_fast_reconversion.sql", sql: fastReconversion },
  { version: 26, name: "026_reconversion_steps.sql", sql: reconversionSteps },
  { version: 27, name: "027_login_failures.sql", sql: loginFailures },
  { version: 28, name: "028_job_leases.sql", sql: jobLeases },
];
