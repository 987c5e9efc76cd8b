-- A risk alert raised for an account; dedupe_key makes the same fact one alert.
CREATE TABLE alerts (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id         bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind               text NOT NULL,
    severity           text NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
    dedupe_key         text NOT NULL UNIQUE,
    evidence           text NOT NULL DEFAULT '',
    state              text NOT NULL DEFAULT 'open'
                       CHECK (state IN ('open', 'acknowledged', 'snoozed', 'escalated', 'resolved')),
    channel_id         text,
    message_ts         text,
    acked_by_slack_id  text,
    acked_at           timestamptz,
    snoozed_until      timestamptz,
    escalated_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_account_idx ON alerts (account_id, state);

-- Renewal reminders; the renewal date is part of the key so a moved renewal
-- gets its reminders anew.
CREATE TABLE reminders (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    renewal_id   bigint NOT NULL REFERENCES renewals (id) ON DELETE CASCADE,
    renewal_date date NOT NULL,
    offset_days  integer NOT NULL CHECK (offset_days >= 0),
    due_on       date NOT NULL,
    late         boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (renewal_id, renewal_date, offset_days)
);

-- Every message csbot decides to send; delivered at least once, made once by
-- the unique key.
CREATE TABLE notifications (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key      text NOT NULL UNIQUE,
    kind            text NOT NULL,
    account_id      bigint REFERENCES accounts (id) ON DELETE CASCADE,
    target_channel  text,
    target_user     text,
    payload         jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      text,
    slack_ts        text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    CHECK (target_channel IS NOT NULL OR target_user IS NOT NULL)
);
CREATE INDEX notifications_account_idx ON notifications (account_id);
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE state IN ('pending', 'sending');

---- create above / drop below ----
DROP TABLE notifications;
DROP TABLE reminders;
DROP TABLE alerts;
