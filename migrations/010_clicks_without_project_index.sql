-- Clicks are read only by their id (bt_click on the landing page); reports read the link_clicked
-- events and the rollups. The (project_id, ts) index cost every click one more b-tree insert.
DROP INDEX IF EXISTS clicks_project_ts;
