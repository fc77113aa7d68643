-- The registry's PostgreSQL layout, version 1 (docs/registry.md, "PostgreSQL store").
-- Every change runs in one transaction that first locks the single log_head row, so
-- writers of every process are serialised like the embedded store's single writer.

-- The issuer URL the registry last served under (operator commands sign with it).
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- The evidence log's head: the compact range of the tree (its hashes, 32 bytes each,
-- left to right) and the checkpoint signed over it. Locked FOR UPDATE by every writer.
CREATE TABLE log_head (
    id           integer PRIMARY KEY CHECK (id = 1),
    size         bigint  NOT NULL,
    compact      bytea   NOT NULL,
    note         text,
    -- Bumped by every committed change, so readers know when to refresh.
    generation   bigint  NOT NULL,
    -- Bumped by key changes, so readers rebuild the JWKS.
    keys_version bigint  NOT NULL
);
INSERT INTO log_head VALUES (1, 0, '\x', NULL, 0, 0);

-- Evidence log entries, exactly as hashed into their leaves.
CREATE TABLE log_entries (
    idx   bigint PRIMARY KEY,
    hash  bytea  NOT NULL,
    entry bytea  NOT NULL
);

-- The registry's signing keys. These are secrets: restrict who can read this table and
-- encrypt backups (docs/deploy.md).
CREATE TABLE keys (
    kid          text    PRIMARY KEY,
    use          text    NOT NULL CHECK (use IN ('badge', 'status', 'log')),
    private_jwk  text    NOT NULL,
    public_jwk   text    NOT NULL,
    valid_from   bigint  NOT NULL,
    valid_until  bigint,
    current      boolean NOT NULL,
    withdrawn_at bigint,
    added        bigserial
);
CREATE UNIQUE INDEX keys_one_current ON keys (use) WHERE current;

CREATE TABLE auditors (
    id     text PRIMARY KEY,
    record text NOT NULL
);

-- Status slots handed out: random, and never twice (the primary key), also across
-- processes and restarts.
CREATE TABLE slots (
    list bigint NOT NULL,
    idx  bigint NOT NULL,
    PRIMARY KEY (list, idx)
);

CREATE TABLE badges (
    id     text     PRIMARY KEY,
    list   bigint   NOT NULL,
    idx    bigint   NOT NULL,
    -- The status list value: 0 valid, 1 revoked, 2 suspended.
    status smallint NOT NULL,
    record text     NOT NULL,
    UNIQUE (list, idx)
);
CREATE INDEX badges_not_valid ON badges (list) WHERE status <> 0;

CREATE TABLE origins (
    origin text NOT NULL,
    badge  text NOT NULL REFERENCES badges (id),
    PRIMARY KEY (origin, badge)
);

-- Every authenticated request's jti, accepted or refused: replay protection shared by
-- every process.
CREATE TABLE jtis (
    auditor text   NOT NULL,
    jti     text   NOT NULL,
    iat     bigint NOT NULL,
    PRIMARY KEY (auditor, jti)
);

-- The status lists as signed and served.
CREATE TABLE lists (
    n         bigint PRIMARY KEY,
    allocated bigint NOT NULL,
    iat       bigint,
    token     text,
    etag      text
);
