-- PostgreSQL twin of sqlite/0005_account_security.sql.

ALTER TABLE users ADD COLUMN email_verified TEXT COLLATE "C";

ALTER TABLE sessions ADD COLUMN last_seen TEXT COLLATE "C";
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN ip TEXT;

CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL
               CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    email      TEXT NOT NULL,
    created    TEXT COLLATE "C" NOT NULL,
    expires    TEXT COLLATE "C" NOT NULL
);

CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);
