-- Which entities have unfinished outbound commands (see grains/Outbox/OutboxIndex.cs): the
-- durable pointer the outbox sweeper follows to wake an entity whose activation died with its queue.
CREATE TABLE IF NOT EXISTS rs_outbox_owners
(
    service_id varchar(150) NOT NULL,
    owner      varchar(600) NOT NULL,
    since      timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, owner)
);

CREATE INDEX IF NOT EXISTS rs_outbox_owners_since ON rs_outbox_owners (service_id, since);
