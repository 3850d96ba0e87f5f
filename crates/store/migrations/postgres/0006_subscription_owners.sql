-- PostgreSQL twin of sqlite/0006_subscription_owners.sql.

ALTER TABLE subscriptions ADD COLUMN link_nonce TEXT NOT NULL DEFAULT '';

ALTER TABLE subscriptions ADD COLUMN mailed_at TEXT COLLATE "C";
