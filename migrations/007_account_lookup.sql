-- Finding an account by what a person typed (/health acme): by external
-- id, name, domain, or a forgiving match on the normalised name. The
-- normalisation lives here only, in IMMUTABLE functions used both by the
-- stored column and its indexes and, at lookup time, on the query.

-- Trigram similarity for typos and "did you mean"; a trusted extension
-- since PostgreSQL 13, so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- csbot_name_norm returns a company name as a lookup compares it: lower
-- case, accents folded (é -> e, ß -> ss), apostrophes, dots, ampersands
-- and slashes dropped (AT&T -> att, A/S -> as), any other punctuation a
-- word break, the word "and", a leading "the" and trailing legal suffixes
-- (inc, corp, llc, ltd, gmbh, sa...) dropped, words separated by one
-- space. The first word is always kept. "The ACME Corp." and "acme" both
-- give "acme"; "Société Générale S.A." gives "societe generale". Only the
-- first 200 characters are read.
CREATE FUNCTION csbot_name_norm(name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    s text := left(name, 200);
    t text;
    w text;
BEGIN
    -- Accents and compatibility forms (é -> e + accent, full-width letters
    -- -> ASCII), then the accents dropped and the letters that do not
    -- decompose spelt out. Lower case last: in the C locale lower() only
    -- knows ASCII.
    s := normalize(translate(s, '™®©℠', ''), NFKD);
    s := regexp_replace(s, '[\u0300-\u036f]', '', 'g');
    s := translate(s, 'ØøŁłĐđÐðÞþıƒ', 'OoLlDdDdTtif');
    s := replace(replace(replace(replace(replace(replace(s,
        'ß', 'ss'), 'ẞ', 'SS'), 'Æ', 'AE'), 'æ', 'ae'), 'Œ', 'OE'), 'œ', 'oe');
    s := lower(s);
    -- Apostrophes, dots, ampersands and slashes join; any other run of
    -- ASCII or general punctuation and spaces is one word break. Letters
    -- of other scripts are kept.
    s := regexp_replace(s, '[''’‘`´.&/]', '', 'g');
    s := regexp_replace(s, '[^a-z0-9\u00c0-\u1fff\u2c00-\u2dff\u3040-\ud7ff\uf900-\ufe2f\ufe70-\uffef]+', ' ', 'g');
    s := btrim(s);
    -- "Marks and Spencer" is "Marks & Spencer".
    t := btrim(regexp_replace(' ' || s || ' ', ' (and )+', ' ', 'g'));
    IF t <> '' THEN
        s := t;
    END IF;
    s := regexp_replace(s, '^the ', '');
    LOOP
        w := reverse(split_part(reverse(s), ' ', 1)); -- the last word
        EXIT WHEN length(w) = length(s) OR NOT w = ANY (ARRAY[
            'inc', 'incorporated', 'corp', 'corporation', 'co', 'cos', 'company',
            'llc', 'llp', 'lllp', 'lp', 'pllc', 'ltd', 'limited', 'plc',
            'gmbh', 'mbh', 'ag', 'kg', 'kgaa', 'ohg', 'se', 'sa', 'sas', 'sasu', 'sarl', 'sprl',
            'sl', 'slu', 'sau', 'bv', 'nv', 'bvba', 'oy', 'oyj', 'ab', 'publ', 'as', 'asa', 'aps',
            'spa', 'srl', 'sro', 'pty', 'pte', 'kk', 'gk', 'bhd', 'sdn', 'tbk', 'ltda', 'lda', 'kft', 'zrt']);
        s := left(s, length(s) - length(w) - 1);
    END LOOP;
    RETURN s;
END
$$;

-- csbot_domain returns the host name of a domain, URL or e-mail address,
-- as a lookup compares it: lower case, without scheme, user or local
-- part, port, path and a leading "www."; NULL when what is left is not a
-- dotted name. "https://www.Acme.com:8443/x" and "jo@acme.com" both give
-- "acme.com".
CREATE FUNCTION csbot_domain(addr text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    s text := lower(btrim(left(addr, 300)));
BEGIN
    s := regexp_replace(s, '^[a-z][a-z0-9+.-]*://', '');
    s := regexp_replace(s, '^[^/?#]*@', '');
    s := regexp_replace(s, '[/?#].*$', '');
    s := regexp_replace(s, ':[0-9]*$', '');
    s := regexp_replace(s, '^www[0-9]*\.', '');
    s := rtrim(s, '.');
    IF s !~ '^[^.\s]+(\.[^.\s]+)+$' THEN
        RETURN NULL;
    END IF;
    RETURN s;
END
$$;

ALTER TABLE accounts ADD COLUMN name_norm text GENERATED ALWAYS AS (csbot_name_norm(name)) STORED;

CREATE INDEX accounts_external_id_lower_idx ON accounts (lower(external_id));
CREATE INDEX accounts_name_lower_idx ON accounts (lower(name));
CREATE INDEX accounts_domain_norm_idx ON accounts (csbot_domain(domain));
-- The normalised name without its spaces: "Coca-Cola" is "coca cola".
CREATE INDEX accounts_name_compact_idx ON accounts (replace(name_norm, ' ', ''));
-- Trigrams of the normalised name: GIN for word prefixes (LIKE) and
-- similarity above a threshold (%), where it reads far fewer pages than
-- GiST (and, without pending-list updates, stays fast right after an
-- import); GiST for the nearest names to a short query (ORDER BY <->
-- LIMIT n), which GIN cannot do. The GiST index is on the expression, the
-- same value as name_norm, so that the planner keeps to GIN for LIKE and %.
CREATE INDEX accounts_name_trgm_idx ON accounts USING gin (name_norm gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX accounts_name_knn_idx ON accounts USING gist (csbot_name_norm(name) gist_trgm_ops);

---- create above / drop below ----
DROP INDEX accounts_name_knn_idx;
DROP INDEX accounts_name_trgm_idx;
DROP INDEX accounts_name_compact_idx;
DROP INDEX accounts_domain_norm_idx;
DROP INDEX accounts_name_lower_idx;
DROP INDEX accounts_external_id_lower_idx;
ALTER TABLE accounts DROP COLUMN name_norm;
DROP FUNCTION csbot_domain(text);
DROP FUNCTION csbot_name_norm(text);
-- pg_trgm stays: it may have been there before, and is harmless.
