-- Hot counters (hourly rollups, link totals) are folded in the background instead of in every group
-- commit. Each commit appends its batch's sums here, beside the events they count, so a crash loses
-- nothing; src/db/counter-backlog.ts folds the rows into the counters and deletes them.
CREATE TABLE counter_backlog (
  id   INTEGER PRIMARY KEY,
  sums TEXT NOT NULL                           -- JSON [[counter name, key params, values], ...]
);

-- The fold in progress: the sums of the backlog rows up to `up_to`, in key order, of which the first
-- `applied` are in the counters. The transaction that applies the last one deletes this row and them.
CREATE TABLE counter_fold (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  up_to   INTEGER NOT NULL,
  applied INTEGER NOT NULL
);
