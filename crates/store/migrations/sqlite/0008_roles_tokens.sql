-- Operators' tools: roles granted to members, and personal access tokens.
--
-- A role is a row: members without rows are ordinary members. `admin` opens /admin and
-- the operators' API; `moderator` is what community moderation checks.
CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL CHECK (role IN ('admin', 'moderator')),
    granted TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
) WITHOUT ROWID;

-- A personal access token stands for its member on the JSON API. Only the SHA-256 of
-- the token is kept (as for sessions), so a copy of the database grants nothing.
-- Revoking deletes the row; an unknown digest is refused.
CREATE TABLE access_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    created    TEXT NOT NULL,
    last_used  TEXT
);

CREATE INDEX access_tokens_user ON access_tokens (user_id);
