-- Background jobs' runs, the scheduled harvester's position in each source, and the
-- Hugging Face fields that were dropped before.

-- One row per run of a background job (a harvest of one source or set, the digest
-- sender, the embedder): what /admin and /metrics show, and what a scheduler reads
-- to decide whether a job is due. Only the newest runs of each job are kept.
CREATE TABLE job_runs (
    id          INTEGER PRIMARY KEY,
    job         TEXT NOT NULL,
    started_at  TEXT NOT NULL,                -- RFC 3339 UTC
    finished_at TEXT,                         -- NULL while running (or if the runner died)
    outcome     TEXT CHECK (outcome IN ('ok', 'failed')),  -- NULL until finished
    records     INTEGER NOT NULL DEFAULT 0,   -- what the run wrote (papers, mails, vectors)
    error       TEXT,                         -- why it failed
    next_run    TEXT                          -- when the job plans to run next
);

CREATE INDEX job_runs_job ON job_runs (job, id);

-- Where incremental harvesting of a source stands, one row per source and set
-- (`arxiv:cs:cs:CL`). `next_from` is the day the next harvest starts at (inclusive,
-- OAI-PMH `from`), moved forward only when a harvest completes: to the server's day
-- when that harvest's list began, so records changed while it ran are fetched again
-- rather than missed. While a list is being paged, `resumption_token` holds its next
-- page, written in the transaction that stores each page, so a node that dies
-- mid-list is continued from the next page by whoever runs next.
CREATE TABLE harvest_state (
    name             TEXT PRIMARY KEY,
    next_from        TEXT,                    -- YYYY-MM-DD
    list_from        TEXT,                    -- YYYY-MM-DD of the list in progress
    list_started     TEXT,                    -- the server's day when that list began
    resumption_token TEXT,
    updated_at       TEXT NOT NULL
) WITHOUT ROWID;

-- What Hugging Face says about a paper beyond counts: its generated summary and
-- keywords, the repository's stars, the organisation's display name and avatar, and
-- the paper's thumbnail and media.
ALTER TABLE papers ADD COLUMN ai_summary TEXT;
ALTER TABLE papers ADD COLUMN ai_keywords TEXT;          -- JSON array of strings
ALTER TABLE papers ADD COLUMN github_stars INTEGER;
ALTER TABLE papers ADD COLUMN organization_fullname TEXT;
ALTER TABLE papers ADD COLUMN organization_avatar TEXT;
ALTER TABLE papers ADD COLUMN thumbnail TEXT;
ALTER TABLE papers ADD COLUMN media_urls TEXT;           -- JSON array of URLs
