-- Digest subscriptions and what was mailed to whom. A subscription is one row per
-- address whatever happens to it (re-subscribing updates the row), so the address's
-- history of sent papers survives an unsubscribe and a later return.

CREATE TABLE subscriptions (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,      -- normalised: trimmed, lowercase
    frequency       TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    categories      TEXT NOT NULL DEFAULT '[]', -- JSON array of arXiv categories
    queries         TEXT NOT NULL DEFAULT '[]', -- JSON array of saved searches
    -- users.id of the member who subscribed while logged in. No foreign key, so this
    -- migration does not depend on the accounts one; account deletion clears it.
    user_id         INTEGER,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
    created_at      TEXT NOT NULL,
    confirmed_at    TEXT,
    unsubscribed_at TEXT,
    -- Mixed into confirmation tokens and replaced on unsubscribe, so a confirmation
    -- link mailed before an unsubscribe cannot silently re-subscribe the address.
    token_nonce     TEXT NOT NULL
);

CREATE INDEX subscriptions_due ON subscriptions (status, frequency);
CREATE INDEX subscriptions_user ON subscriptions (user_id) WHERE user_id IS NOT NULL;

-- One row per subscription and period once sending starts. `sending` is written before
-- the SMTP transaction and `sent` after the server accepted the message, so a crash in
-- between leaves a `sending` row that the next run retries: at most one duplicate.
CREATE TABLE digest_sends (
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    period_key      TEXT NOT NULL,            -- daily:YYYY-MM-DD or weekly:YYYY-Www
    state           TEXT NOT NULL CHECK (state IN ('sending', 'sent')),
    message_id      TEXT,
    claimed_at      TEXT NOT NULL,
    sent_at         TEXT,
    PRIMARY KEY (subscription_id, period_key)
) WITHOUT ROWID;

CREATE INDEX digest_sends_period ON digest_sends (period_key);

-- Every paper mailed to a subscription, so no paper is mailed to it twice.
CREATE TABLE digest_papers (
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    paper_key       INTEGER NOT NULL REFERENCES papers (key),
    period_key      TEXT NOT NULL,
    PRIMARY KEY (subscription_id, paper_key)
) WITHOUT ROWID;
