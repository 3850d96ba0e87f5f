-- For you: a member's private "more like this / less like this" on papers, and the
-- categories a member picks for a cold start. Following gains a kind: a topic.

CREATE TABLE paper_feedback (
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_key BIGINT NOT NULL REFERENCES papers (key),
    more      BIGINT NOT NULL CHECK (more IN (0, 1)),
    at        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, paper_key)
);

CREATE TABLE picked_categories (
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, category)
);

ALTER TABLE follows DROP CONSTRAINT follows_kind_check;
ALTER TABLE follows ADD CONSTRAINT follows_kind_check
    CHECK (kind IN ('author', 'organization', 'category', 'query', 'topic'));
