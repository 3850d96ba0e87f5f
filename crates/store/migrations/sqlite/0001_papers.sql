-- Papers, their versions and categories, where each came from, and a change log that
-- derived indexes follow.

CREATE TABLE papers (
    key              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    title            TEXT NOT NULL,
    abstract         TEXT NOT NULL,
    authors          TEXT NOT NULL,            -- JSON array of names, in order
    categories       TEXT NOT NULL,            -- space-separated, primary first
    primary_category TEXT,
    doi              TEXT,
    journal_ref      TEXT,
    comments         TEXT,
    report_no        TEXT,
    license          TEXT,
    submitter        TEXT,
    published        TEXT,                     -- v1 submission, RFC 3339 UTC
    updated          TEXT,
    latest_version   INTEGER NOT NULL DEFAULT 0,
    metadata_source  TEXT NOT NULL,
    feed_day         TEXT,                     -- YYYY-MM-DD
    submitted_by     TEXT,
    organization     TEXT,
    source_upvotes   INTEGER,                  -- as counted by Hugging Face
    member_upvotes   INTEGER NOT NULL DEFAULT 0,
    num_comments     INTEGER,
    github_repo      TEXT,                     -- as the community side named it
    project_page     TEXT,
    github_url       TEXT,                     -- resolved: community side, else found in text
    project_url      TEXT
);

CREATE INDEX papers_feed_day ON papers (feed_day) WHERE feed_day IS NOT NULL;
CREATE INDEX papers_published ON papers (published);
CREATE INDEX papers_submitted_by ON papers (submitted_by) WHERE submitted_by IS NOT NULL;
CREATE INDEX papers_organization ON papers (organization) WHERE organization IS NOT NULL;

CREATE TABLE versions (
    paper_key INTEGER NOT NULL REFERENCES papers (key),
    number    INTEGER NOT NULL,
    created   TEXT,
    size      TEXT,
    PRIMARY KEY (paper_key, number)
) WITHOUT ROWID;

CREATE TABLE paper_categories (
    paper_key INTEGER NOT NULL REFERENCES papers (key),
    position  INTEGER NOT NULL,
    category  TEXT NOT NULL,
    PRIMARY KEY (paper_key, position)
) WITHOUT ROWID;

CREATE INDEX paper_categories_category ON paper_categories (category, paper_key);

CREATE TABLE paper_sources (
    paper_key  INTEGER NOT NULL REFERENCES papers (key),
    source     TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (paper_key, source)
) WITHOUT ROWID;

-- Every insert or change of a paper appends a row; indexes remember the last sequence
-- number they applied and replay from there.
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    paper_key INTEGER NOT NULL,
    at        TEXT NOT NULL
);

-- Sentence embeddings of title + abstract, per model. A model change re-embeds instead
-- of mixing vector spaces; a changed title or abstract drops the paper's vectors.
CREATE TABLE embeddings (
    model     TEXT NOT NULL,
    paper_key INTEGER NOT NULL REFERENCES papers (key),
    vector    BLOB NOT NULL,                   -- little-endian f32, unit length
    PRIMARY KEY (model, paper_key)
) WITHOUT ROWID;
