import { expect, test } from "bun:test";
import { serverBinaries } from "./postgres.ts";

test("without PostgreSQL's server binaries the PostgreSQL tests fail with one line naming what to install", () => {
  expect(() => serverBinaries("/nonexistent", "/nonexistent")).toThrow(
    /^PostgreSQL's server binaries \(initdb, pg_ctl\) were not found: apt-get install postgresql, or set BANTICO_TEST_DATABASE_URL to a server where the tests may create databases$/,
  );
});
