-- A re-conversion re-sums a finished day's and month's rollup rows one model at a time, each in its
-- own short write (a month's two models together held the event loop for ~55 ms): rollup_step names
-- the period step still to run for the day that starts at rollup_hour, NULL while hours are re-summed.
ALTER TABLE fx_reconversions ADD COLUMN rollup_step TEXT;
