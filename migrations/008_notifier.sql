-- The notifier's state: what it has seen, decided and sent.

-- Accounts the notifier has seen. Signals an account already has when it is
-- first seen go into its CSM's baseline summary rather than into alerts.
CREATE TABLE watched_accounts (
    account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    since      timestamptz NOT NULL
);

-- One row per signal subject ("<kind>:<subject id>", the signal's dedupe
-- key without its step): the episode it is in, the worst step alerted in
-- that episode, and when it was last returned. A family not returned for
-- the policy's signal_rearm_days starts a new episode when it comes back.
CREATE TABLE signal_families (
    family       text PRIMARY KEY CHECK (family <> ''),
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    episode      integer NOT NULL DEFAULT 1 CHECK (episode >= 1),
    signal_key   text NOT NULL,
    severity     text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    evidence     text NOT NULL DEFAULT '',
    first_seen   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL,
    baselined    boolean NOT NULL DEFAULT false,
    resolved_at  timestamptz,
    alert_id     bigint REFERENCES alerts (id) ON DELETE SET NULL
);
CREATE INDEX signal_families_account_idx ON signal_families (account_id);
CREATE INDEX signal_families_alert_idx ON signal_families (alert_id);

-- A signal kind snoozed on one account until a time.
CREATE TABLE alert_snoozes (
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    until        timestamptz NOT NULL,
    by_slack_id  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, kind)
);

-- A worse alert of the same signal supersedes the one before it.
ALTER TABLE alerts DROP CONSTRAINT alerts_state_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_state_check
    CHECK (state IN ('open', 'acknowledged', 'snoozed', 'escalated', 'resolved', 'superseded'));

ALTER TABLE alerts
    ADD COLUMN family          text,
    ADD COLUMN episode         integer,
    ADD COLUMN supersedes_id   bigint REFERENCES alerts (id) ON DELETE SET NULL,
    ADD COLUMN notification_id bigint REFERENCES notifications (id) ON DELETE SET NULL,
    ADD COLUMN resolved_at     timestamptz,
    ADD COLUMN ack_reminded_at timestamptz,
    ADD COLUMN routed          text NOT NULL DEFAULT 'channel'
                               CHECK (routed IN ('channel', 'dm', 'digest', 'off', 'snoozed'));
CREATE INDEX alerts_family_idx ON alerts (family);
CREATE INDEX alerts_notification_idx ON alerts (notification_id);
CREATE INDEX alerts_supersedes_idx ON alerts (supersedes_id);
CREATE INDEX alerts_open_idx ON alerts (created_at) WHERE state IN ('open', 'acknowledged', 'escalated');

ALTER TABLE reminders
    ADD COLUMN notification_id bigint REFERENCES notifications (id) ON DELETE SET NULL,
    ADD COLUMN snoozed_until   timestamptz,
    ADD COLUMN snoozed_by      text;
CREATE INDEX reminders_notification_idx ON reminders (notification_id);

-- A notification that could not go where it was meant to go is recorded
-- as failed and a fallback (a DM to the account's CSM) is made from it.
ALTER TABLE notifications
    ADD COLUMN fallback_user    text,
    ADD COLUMN fallback_of      bigint REFERENCES notifications (id) ON DELETE SET NULL,
    ADD COLUMN note             text NOT NULL DEFAULT '',
    ADD COLUMN first_attempt_at timestamptz,
    ADD COLUMN slack_channel    text,
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now();
CREATE INDEX notifications_fallback_of_idx ON notifications (fallback_of);
CREATE INDEX notifications_message_idx ON notifications (slack_channel, slack_ts);
CREATE INDEX notifications_kind_account_idx ON notifications (account_id, kind, created_at);

---- create above / drop below ----
ALTER TABLE notifications
    DROP COLUMN fallback_user,
    DROP COLUMN fallback_of,
    DROP COLUMN note,
    DROP COLUMN first_attempt_at,
    DROP COLUMN slack_channel,
    DROP COLUMN updated_at;
ALTER TABLE reminders
    DROP COLUMN notification_id,
    DROP COLUMN snoozed_until,
    DROP COLUMN snoozed_by;
ALTER TABLE alerts
    DROP COLUMN family,
    DROP COLUMN episode,
    DROP COLUMN supersedes_id,
    DROP COLUMN notification_id,
    DROP COLUMN resolved_at,
    DROP COLUMN ack_reminded_at,
    DROP COLUMN routed;
ALTER TABLE alerts DROP CONSTRAINT alerts_state_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_state_check
    CHECK (state IN ('open', 'acknowledged', 'snoozed', 'escalated', 'resolved'));
DROP TABLE alert_snoozes;
DROP TABLE signal_families;
DROP TABLE watched_accounts;
