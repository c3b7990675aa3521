-- The id of the webhook endpoint Bantico created at the provider on connect, so disconnecting can
-- delete it rather than leave the provider delivering (and warning about failures) to a dead URL.
ALTER TABLE integrations ADD COLUMN webhook_endpoint_id TEXT;
