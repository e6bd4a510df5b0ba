-- Cluster mode's webhook inbox (gateway/Webhooks/PostgresWebhookInbox.cs): a Shopify delivery is answered
-- once its row is committed, then forwarded to its grain. The unique key answers re-deliveries; due_at is
-- the lease of the process forwarding a row, then the time of its next retry.
CREATE TABLE IF NOT EXISTS rs_webhook_inbox
(
    id           bigserial    PRIMARY KEY,
    service_id   varchar(150) NOT NULL,
    shop         text         NOT NULL,
    dedupe_key   text         NOT NULL,
    tenant       text         NOT NULL,
    topic        text         NOT NULL,
    event_id     text,
    webhook_id   text,
    triggered_at timestamptz,
    api_version  text,
    test         boolean      NOT NULL,
    received_at  timestamptz  NOT NULL,
    body         bytea,
    due_at       timestamptz  NOT NULL,
    attempts     integer      NOT NULL DEFAULT 0,
    last_error   text,
    forwarded_at timestamptz,
    UNIQUE (service_id, shop, dedupe_key)
);

CREATE INDEX IF NOT EXISTS rs_webhook_inbox_due ON rs_webhook_inbox (service_id, due_at) WHERE forwarded_at IS NULL;
CREATE INDEX IF NOT EXISTS rs_webhook_inbox_forwarded ON rs_webhook_inbox (service_id, forwarded_at) WHERE forwarded_at IS NOT NULL;
