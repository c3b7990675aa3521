-- Hot counters (hourly rollups, link totals) are folded in the background instead of in every group
-- commit. Each commit appends its batch's sums here, beside the events they count, so a crash loses
-- nothing; src/db/counter-backlog.ts folds the rows into the counters. AUTOINCREMENT: ids never come
-- back once deleted, so `folded_through` below stays true.
CREATE TABLE counter_backlog (
  id   INTEGER PRIMARY KEY AUTOINCREMENT,
  sums BLOB NOT NULL                           -- deflated JSON [[counter name, key params, values], ...]
);

-- Every backlog row up to `folded_through` is in the counters (and deleted a few at a time). While a
-- fold runs, `up_to` names its last row and `applied` how many of its keys, in the order the rows
-- first name them, are in the counters already.
CREATE TABLE counter_fold (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  folded_through INTEGER NOT NULL,
  up_to          INTEGER,
  applied        INTEGER NOT NULL
);
INSERT INTO counter_fold (id, folded_through, up_to, applied) VALUES (1, 0, NULL, 0);
