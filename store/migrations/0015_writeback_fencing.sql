-- Write-back claims fenced by a lease token: a worker that claims an outbox row gets a fresh
-- token, and every later change of the row names both the worker and the token, so a worker
-- whose lease was taken over changes nothing and sends nothing more. `key_sent_at` says the
-- current idempotency key may have reached PEMS: a refusal of a later send with the same key
-- leaves the outcome unknown, and the record is read back before anything is marked failed.

ALTER TABLE vanguard.writeback_outbox
    ADD COLUMN claimed_by   text,
    ADD COLUMN lease_token  uuid,
    ADD COLUMN key_sent_at  timestamptz;

CREATE INDEX writeback_outbox_in_flight ON vanguard.writeback_outbox (updated_at) WHERE status = 'in_flight';
