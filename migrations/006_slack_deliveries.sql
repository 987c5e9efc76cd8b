-- Slack deliveries already taken on, so that a delivery Slack retries (an
-- envelope whose ack was late or lost, on this replica or another) is
-- handled once. The key is the event_id of an Events API envelope, or a
-- stable id of a slash command or interaction (its trigger_id, or a hash
-- of its payload). Old keys are pruned: Slack retries within minutes.
CREATE TABLE slack_deliveries (
    key        text PRIMARY KEY CHECK (key <> ''),
    claimed_at timestamptz NOT NULL
);
CREATE INDEX slack_deliveries_claimed_at_idx ON slack_deliveries (claimed_at);

---- create above / drop below ----
DROP TABLE slack_deliveries;
