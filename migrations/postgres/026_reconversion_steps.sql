-- The twin of migrations/026_reconversion_steps.sql: the period step a re-conversion has got to.
ALTER TABLE fx_reconversions ADD COLUMN rollup_step TEXT;
