-- Subscriptions changed only by their owner: what the purpose-bound mailed links and
-- the per-address mail limit need.

-- Mixed into the manage, unsubscribe and preview links (`token_nonce` stays the
-- confirmation links'). Replaced when an address that had unsubscribed starts a new
-- subscription, and at no other time: a link in a digest already sent keeps working
-- through later subscribe requests and a repeated one-click unsubscribe, and dies when
-- the address subscribes anew. Rows from before keep '', the nonce the unsubscribe
-- links already mailed were signed with, so those keep working until then.
ALTER TABLE subscriptions ADD COLUMN link_nonce TEXT NOT NULL DEFAULT '';

-- When the address was last sent a confirmation or manage mail: at most one per
-- address every 10 minutes, on every node and across restarts.
ALTER TABLE subscriptions ADD COLUMN mailed_at TEXT;
