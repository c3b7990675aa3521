-- Signed identify (SPEC §3): each project's identify secret (and the one it replaced, valid for a
-- grace period after a rotation), the setting that lets only verified emails attribute payments,
-- and per profile email and per visitor link whether a trusted identify (API key or valid hash) set it.
ALTER TABLE projects ADD COLUMN identify_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN previous_identify_secret TEXT;
ALTER TABLE projects ADD COLUMN previous_identify_secret_until INTEGER;
ALTER TABLE projects ADD COLUMN verified_email_attribution_only INTEGER NOT NULL DEFAULT 0;
UPDATE projects SET identify_secret = 'bt_ids_' || lower(hex(randomblob(24)));

-- Profiles identified before this migration are unverified: nothing tells how their email arrived.
ALTER TABLE profiles ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE profile_visitors ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
