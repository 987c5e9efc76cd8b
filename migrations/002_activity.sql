-- Daily product usage; one row per account and day.
CREATE TABLE usage_daily (
    account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day            date NOT NULL,
    active_users   integer NOT NULL CHECK (active_users >= 0),
    licensed_seats integer CHECK (licensed_seats >= 0),
    events         bigint CHECK (events >= 0),
    PRIMARY KEY (account_id, day)
);

CREATE TABLE tickets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id text NOT NULL UNIQUE CHECK (external_id <> ''),
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    opened_at   timestamptz NOT NULL,
    closed_at   timestamptz,
    severity    text NOT NULL CHECK (severity IN ('low', 'normal', 'high', 'urgent')),
    status      text NOT NULL CHECK (status IN ('open', 'pending', 'solved', 'closed')),
    subject     text,
    CHECK (closed_at IS NULL OR closed_at >= opened_at)
);
CREATE INDEX tickets_account_opened_idx ON tickets (account_id, opened_at);

CREATE TABLE nps_responses (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    responded_at     timestamptz NOT NULL,
    score            smallint NOT NULL CHECK (score BETWEEN 0 AND 10),
    respondent_email text,
    comment          text
);
CREATE UNIQUE INDEX nps_natural_key ON nps_responses (account_id, responded_at, respondent_email) NULLS NOT DISTINCT;

CREATE TABLE invoices (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id  text NOT NULL UNIQUE CHECK (external_id <> ''),
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    issued_on    date,
    due_on       date NOT NULL,
    paid_on      date,
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0)
);
CREATE INDEX invoices_account_idx ON invoices (account_id);
CREATE INDEX invoices_unpaid_idx ON invoices (due_on) WHERE paid_on IS NULL;

-- Incidents; a NULL account_id means every account was affected.
CREATE TABLE outages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id text NOT NULL UNIQUE CHECK (external_id <> ''),
    account_id  bigint REFERENCES accounts (id) ON DELETE CASCADE,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    severity    text,
    summary     text,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX outages_account_idx ON outages (account_id);
CREATE INDEX outages_started_idx ON outages (started_at);

CREATE TABLE touchpoints (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    at            timestamptz NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('meeting', 'call', 'email', 'ebr', 'onsite', 'note')),
    summary       text,
    user_slack_id text
);
CREATE UNIQUE INDEX touchpoints_natural_key ON touchpoints (account_id, at, kind);
CREATE INDEX touchpoints_user_idx ON touchpoints (user_slack_id);

---- create above / drop below ----
DROP TABLE touchpoints;
DROP TABLE outages;
DROP TABLE invoices;
DROP TABLE nps_responses;
DROP TABLE tickets;
DROP TABLE usage_daily;
