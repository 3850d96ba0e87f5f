-- The research community: members' comments on papers (one level of replies), their
-- reports and moderation, collections of papers (with the built-in "Read later"), what
-- each member has read, and what they follow.
--
-- papers.member_comments counts a paper's visible comments (neither deleted nor
-- hidden), kept in the same transaction as the comment rows, as member_upvotes is for
-- votes; readers see num_comments (imported) plus it.

ALTER TABLE papers ADD COLUMN member_comments INTEGER NOT NULL DEFAULT 0;

-- A comment whose author deletes their account stays, shown as from a deleted member
-- (user_id NULL), so the replies around it still read. Deleting your own comment
-- empties it (deleted = 1); a moderator hides and restores (hidden = 1 / 0).
CREATE TABLE comments (
    id        INTEGER PRIMARY KEY,
    paper_key INTEGER NOT NULL REFERENCES papers (key),
    user_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    parent_id INTEGER REFERENCES comments (id),
    body      TEXT NOT NULL,
    created   TEXT NOT NULL,
    edited    TEXT,
    deleted   INTEGER NOT NULL DEFAULT 0,
    hidden    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX comments_paper ON comments (paper_key, id);
CREATE INDEX comments_user ON comments (user_id);

-- One report per member and comment; moderators see the reported comments first.
CREATE TABLE comment_reports (
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason     TEXT NOT NULL,
    created    TEXT NOT NULL,
    PRIMARY KEY (comment_id, user_id)
) WITHOUT ROWID;

-- A member's named lists. builtin is 'read_later' for the one list every member has
-- (made on first use), NULL for the lists they make; public lists have a shareable
-- page and feed, private ones are seen by their owner only.
CREATE TABLE collections (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    public      INTEGER NOT NULL DEFAULT 0,
    builtin     TEXT,
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL,
    UNIQUE (user_id, builtin)
);

CREATE INDEX collections_user ON collections (user_id);

CREATE TABLE collection_papers (
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    paper_key     INTEGER NOT NULL REFERENCES papers (key),
    note          TEXT NOT NULL DEFAULT '',
    added         TEXT NOT NULL,
    PRIMARY KEY (collection_id, paper_key)
) WITHOUT ROWID;

CREATE TABLE paper_reads (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_key INTEGER NOT NULL REFERENCES papers (key),
    at        TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_key)
) WITHOUT ROWID;

-- What a member follows: an author (by name as papers list it), an organisation (its
-- account name), a category, or a saved search (a query in the search syntax).
CREATE TABLE follows (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL CHECK (kind IN ('author', 'organization', 'category', 'query')),
    value   TEXT NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (user_id, kind, value)
);
