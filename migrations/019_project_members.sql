-- Per-project membership. A user with every_project = 1 holds users.role on every project (the
-- instance's owners, and admins and viewers added for all projects); a user with every_project = 0
-- sees only the projects listed in project_members, with the role given there (users.role is then
-- 'viewer': their role outside any project).
ALTER TABLE users ADD COLUMN every_project INTEGER NOT NULL DEFAULT 1 CHECK (every_project IN (0, 1));

CREATE TABLE project_members (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role       TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
CREATE INDEX project_members_user ON project_members(user_id);
