-- The vendor's team, known by Slack user id.
CREATE TABLE users (
    slack_id         text PRIMARY KEY CHECK (slack_id ~ '^[UW][A-Z0-9]{2,}$'),
    role             text NOT NULL CHECK (role IN ('csm', 'manager', 'sales', 'onboarding', 'admin')),
    name             text NOT NULL DEFAULT '',
    email            text,
    manager_slack_id text,
    timezone         text,
    notify_prefs     jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_manager_idx ON users (manager_slack_id);

-- Customer organisations. Person columns hold Slack user ids, which may name
-- people not (yet) in users, so they are not foreign keys.
CREATE TABLE accounts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id      text NOT NULL UNIQUE CHECK (external_id <> ''),
    name             text NOT NULL CHECK (name <> ''),
    domain           text,
    tier             text NOT NULL CHECK (tier IN ('high', 'low', 'tech')),
    arr_cents        bigint NOT NULL CHECK (arr_cents >= 0),
    stage            text NOT NULL DEFAULT 'onboarding'
                     CHECK (stage IN ('onboarding', 'adopting', 'expanding', 'renewing', 'churned')),
    csm_slack_id     text,
    ae_slack_id      text,
    slack_channel_id text,
    licensed_seats   integer CHECK (licensed_seats >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_csm_idx ON accounts (csm_slack_id);
CREATE INDEX accounts_ae_idx ON accounts (ae_slack_id);
CREATE INDEX accounts_channel_idx ON accounts (slack_channel_id);

-- People at the customer. A person with two roles has two rows.
CREATE TABLE contacts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (name <> ''),
    role       text NOT NULL CHECK (role IN ('champion', 'exec_sponsor', 'renewal', 'billing', 'user')),
    email      text,
    title      text,
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX contacts_natural_key ON contacts (account_id, role, lower(name));

CREATE TABLE renewals (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id    text NOT NULL UNIQUE CHECK (external_id <> ''),
    account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    start_date     date,
    renewal_date   date NOT NULL,
    arr_cents      bigint NOT NULL CHECK (arr_cents >= 0),
    auto_renew     boolean NOT NULL DEFAULT false,
    status         text NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'renewed', 'churned', 'downsell', 'expanded')),
    outcome_reason text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (start_date IS NULL OR start_date <= renewal_date)
);
CREATE INDEX renewals_account_idx ON renewals (account_id);
CREATE INDEX renewals_open_date_idx ON renewals (renewal_date) WHERE status = 'open';

---- create above / drop below ----
DROP TABLE renewals;
DROP TABLE contacts;
DROP TABLE accounts;
DROP TABLE users;
