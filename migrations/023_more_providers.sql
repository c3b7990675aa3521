-- Dodo Payments, Lemon Squeezy, Paddle Billing and Creem join Stripe and Polar. The provider CHECK
-- constraints of payments and integrations are widened by src/db/migrations.ts (SQLite cannot alter a
-- CHECK). A payment can carry a note for its explanation, e.g. why a backfilled Lemon Squeezy order
-- is attributed by email only.
ALTER TABLE payments ADD COLUMN attribution_note TEXT;
