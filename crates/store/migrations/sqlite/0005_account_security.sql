-- Verified addresses, single-use mailed account links, and what a member sees of their
-- sessions.

-- When the account's current address was proven by following a mailed link; NULL
-- until then. Accounts made before this migration start unverified: nothing proved
-- their address, and an unverified account cannot take over a subscription.
ALTER TABLE users ADD COLUMN email_verified TEXT;

-- What the sessions page shows: when a session was last used, and the browser and
-- client address (as seen through trusted proxies) that opened it.
ALTER TABLE sessions ADD COLUMN last_seen TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN ip TEXT;

-- Links mailed for one account and one purpose: verify the address, reset the
-- password, change the address. The link carries a random token; only its SHA-256 is
-- stored. A token is deleted when used (single use), when a newer one of the same
-- purpose is issued, and with the account. `email` is the address the link went to:
-- a verification counts only while the account still has that address, and a change
-- of address sets it.
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL
               CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    email      TEXT NOT NULL,
    created    TEXT NOT NULL,
    expires    TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);
