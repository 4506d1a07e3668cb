-- The cron's backstop for webhook deliveries whose outbox was never poked (src/webhooks/repo.ts
-- kickStalledOutboxes): pending rows by due time, without scanning delivered ones.
CREATE INDEX webhook_deliveries_pending_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
