-- Members, their sessions and their votes. Votes are one row per member and paper;
-- papers.member_upvotes is maintained in the same transaction as the vote rows, so
-- the count shown always equals the number of rows.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,              -- PHC string (argon2id)
    created       TEXT NOT NULL
);

-- The cookie carries a random token; only its SHA-256 is stored, so a copy of the
-- database does not hand out live sessions.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created    TEXT NOT NULL,
    expires    TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE votes (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_key INTEGER NOT NULL REFERENCES papers (key),
    at        TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_key)
) WITHOUT ROWID;

CREATE INDEX votes_paper ON votes (paper_key);
