-- Versions of EBR drafts: each regeneration or edit is a new version of
-- the account's draft for the period, with what made it.
ALTER TABLE ebr_drafts
    ADD COLUMN version           integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN facts_hash        text NOT NULL DEFAULT '',
    ADD COLUMN prompt_hash       text NOT NULL DEFAULT '',
    ADD COLUMN prompt_tokens     integer NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    ADD COLUMN completion_tokens integer NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    ADD COLUMN latency_ms        integer NOT NULL DEFAULT 0 CHECK (latency_ms >= 0),
    ADD COLUMN edited            boolean NOT NULL DEFAULT false;
ALTER TABLE ebr_drafts DROP CONSTRAINT ebr_drafts_source_check;
ALTER TABLE ebr_drafts ADD CONSTRAINT ebr_drafts_source_check CHECK (source IN ('llm', 'template', 'edited'));
CREATE UNIQUE INDEX ebr_drafts_version_key ON ebr_drafts (account_id, period_start, period_end, version);

---- create above / drop below ----
DROP INDEX ebr_drafts_version_key;
ALTER TABLE ebr_drafts DROP CONSTRAINT ebr_drafts_source_check;
ALTER TABLE ebr_drafts ADD CONSTRAINT ebr_drafts_source_check CHECK (source IN ('llm', 'template'));
ALTER TABLE ebr_drafts
    DROP COLUMN version,
    DROP COLUMN facts_hash,
    DROP COLUMN prompt_hash,
    DROP COLUMN prompt_tokens,
    DROP COLUMN completion_tokens,
    DROP COLUMN latency_ms,
    DROP COLUMN edited;
