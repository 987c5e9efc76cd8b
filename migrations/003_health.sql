-- One health snapshot per account per day; recomputations that day update it.
CREATE TABLE health_scores (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day         date NOT NULL,
    computed_at timestamptz NOT NULL,
    score       smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
    band        text NOT NULL CHECK (band IN ('green', 'yellow', 'red')),
    components  jsonb NOT NULL DEFAULT '{}',
    drivers     jsonb NOT NULL DEFAULT '[]',
    UNIQUE (account_id, day)
);

-- A CSM's own sentiment, shown beside the computed score until it expires.
CREATE TABLE health_overrides (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    score         smallint CHECK (score BETWEEN 0 AND 100),
    band          text CHECK (band IN ('green', 'yellow', 'red')),
    note          text NOT NULL CHECK (note <> ''),
    by_slack_id   text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    CHECK (score IS NOT NULL OR band IS NOT NULL),
    CHECK (expires_at > created_at)
);
CREATE INDEX health_overrides_account_idx ON health_overrides (account_id, expires_at);

---- create above / drop below ----
DROP TABLE health_overrides;
DROP TABLE health_scores;
