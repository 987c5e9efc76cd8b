-- Sales-to-onboarding handoff notes.
CREATE TABLE handoffs (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id         bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    author_slack_id    text NOT NULL,
    owner_slack_id     text,
    state              text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'closed')),
    goals              text NOT NULL DEFAULT '',
    success_criteria   text NOT NULL DEFAULT '',
    commitments        text NOT NULL DEFAULT '',
    products           text NOT NULL DEFAULT '',
    seats              integer CHECK (seats >= 0),
    contract_start     date,
    go_live            date,
    risks              text NOT NULL DEFAULT '',
    tier               text CHECK (tier IN ('high', 'low', 'tech')),
    notes              text NOT NULL DEFAULT '',
    acked_by_slack_id  text,
    acked_at           timestamptz,
    account_channel_id text,
    account_ts         text,
    onboarding_channel text,
    onboarding_ts      text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handoffs_account_idx ON handoffs (account_id);
CREATE INDEX handoffs_open_idx ON handoffs (created_at) WHERE state = 'open';

-- Every amendment of a handoff, kept rather than overwritten.
CREATE TABLE handoff_history (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handoff_id        bigint NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
    changed_by_slack_id text NOT NULL,
    changed_at        timestamptz NOT NULL DEFAULT now(),
    snapshot          jsonb NOT NULL
);
CREATE INDEX handoff_history_handoff_idx ON handoff_history (handoff_id);

CREATE TABLE ebr_drafts (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id            bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    period_start          date NOT NULL,
    period_end            date NOT NULL,
    requested_by_slack_id text NOT NULL,
    facts                 jsonb NOT NULL,
    draft                 jsonb NOT NULL,
    source                text NOT NULL CHECK (source IN ('llm', 'template')),
    model                 text,
    flagged               jsonb NOT NULL DEFAULT '[]',
    created_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (period_start <= period_end)
);
CREATE INDEX ebr_drafts_account_idx ON ebr_drafts (account_id, created_at);

-- Who did what, for the record.
CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    action     text NOT NULL,
    account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_account_idx ON audit_log (account_id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

---- create above / drop below ----
DROP TABLE audit_log;
DROP TABLE ebr_drafts;
DROP TABLE handoff_history;
DROP TABLE handoffs;
