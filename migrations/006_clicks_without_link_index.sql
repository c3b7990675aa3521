-- Nothing reads clicks by link (per-link figures come from link_counters and the hourly rollup), and
-- with clicks spread over many links this index dirtied a random page per click: a third of the
-- redirect's write cost.
DROP INDEX clicks_link_ts;
