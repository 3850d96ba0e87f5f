-- For you: a member's private "more like this / less like this" on papers, and the
-- categories a member picks for a cold start (before they have any signal). Following
-- gains a kind: a topic of the topic map, by its stable id.

-- One signal per member and paper: more = 1 ("more like this"), 0 ("less like this").
CREATE TABLE paper_feedback (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_key INTEGER NOT NULL REFERENCES papers (key),
    more      INTEGER NOT NULL CHECK (more IN (0, 1)),
    at        TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_key)
) WITHOUT ROWID;

CREATE TABLE picked_categories (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    PRIMARY KEY (user_id, category)
) WITHOUT ROWID;

-- SQLite cannot change a CHECK constraint in place: the table is copied into one with
-- the new list of kinds (nothing refers to follows, and ids are kept).
CREATE TABLE follows_0010 (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL CHECK (kind IN ('author', 'organization', 'category', 'query', 'topic')),
    value   TEXT NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (user_id, kind, value)
);
INSERT INTO follows_0010 (id, user_id, kind, value, created)
    SELECT id, user_id, kind, value, created FROM follows;
DROP TABLE follows;
ALTER TABLE follows_0010 RENAME TO follows
