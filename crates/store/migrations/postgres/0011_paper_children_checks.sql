-- Bulk ingest: the references from versions, paper_categories and paper_sources to
-- papers are checked once per statement instead of once per row. A foreign key runs a
-- trigger per inserted row (an index probe and a row lock on the paper each time);
-- an ingest writes a few rows of these tables per paper, so those triggers were a third
-- of PostgreSQL's ingest work. The guarantee is the same as the foreign keys gave, in
-- the store's READ COMMITTED transactions: every row names a paper, and a paper that
-- rows name can neither be deleted nor change its key.

ALTER TABLE versions DROP CONSTRAINT versions_paper_key_fkey;
ALTER TABLE paper_categories DROP CONSTRAINT paper_categories_paper_key_fkey;
ALTER TABLE paper_sources DROP CONSTRAINT paper_sources_paper_key_fkey;

-- After each statement that inserts or updates rows of a child table: every paper the
-- rows name must exist. Instead of a row lock per paper (a foreign key's FOR KEY SHARE),
-- the check holds the advisory lock below in shared mode until the transaction ends, and
-- deleting or re-keying a paper takes it exclusively before looking for rows that name
-- it. Either the delete waits for this transaction and then finds its rows, or this
-- check waits for the delete and then misses the paper; each looks with a snapshot taken
-- after the lock (READ COMMITTED), so neither commits past the other.
CREATE FUNCTION paper_children_name_papers() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing BIGINT;
BEGIN
    -- 0x7061706572730003: "papers" and 3 (db.rs and migrate.rs hold 1 and 2).
    PERFORM pg_advisory_xact_lock_shared(8097877186003009539);
    SELECT named.paper_key INTO missing
    FROM named_rows named
    WHERE NOT EXISTS (SELECT 1 FROM papers WHERE papers.key = named.paper_key)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "%" names paper_key %, which is not in papers',
            TG_TABLE_NAME, missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER versions_name_papers AFTER INSERT ON versions
    REFERENCING NEW TABLE AS named_rows
    FOR EACH STATEMENT EXECUTE FUNCTION paper_children_name_papers();
CREATE TRIGGER versions_name_papers_on_update AFTER UPDATE ON versions
    REFERENCING NEW TABLE AS named_rows
    FOR EACH STATEMENT EXECUTE FUNCTION paper_children_name_papers();
CREATE TRIGGER paper_categories_name_papers AFTER INSERT ON paper_categories
    REFERENCING NEW TABLE AS named_rows
    FOR EACH STATEMENT EXECUTE FUNCTION paper_children_name_papers();
CREATE TRIGGER paper_categories_name_papers_on_update AFTER UPDATE ON paper_categories
    REFERENCING NEW TABLE AS named_rows
    FOR EACH STATEMENT EXECUTE FUNCTION paper_children_name_papers();
CREATE TRIGGER paper_sources_name_papers AFTER INSERT ON paper_sources
    REFERENCING NEW TABLE AS named_rows
    FOR EACH STATEMENT EXECUTE FUNCTION paper_children_name_papers();
CREATE TRIGGER paper_sources_name_papers_on_update AFTER UPDATE ON paper_sources
    REFERENCING NEW TABLE AS named_rows
    FOR EACH STATEMENT EXECUTE FUNCTION paper_children_name_papers();

-- The other side, as the foreign keys' NO ACTION: a paper that rows still name cannot
-- be deleted or given another key. (An ingest's updates set no key, so this fires on
-- none of them.)
CREATE FUNCTION papers_keep_named_papers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.key = OLD.key THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(8097877186003009539);
    IF EXISTS (SELECT 1 FROM versions WHERE paper_key = OLD.key)
        OR EXISTS (SELECT 1 FROM paper_categories WHERE paper_key = OLD.key)
        OR EXISTS (SELECT 1 FROM paper_sources WHERE paper_key = OLD.key) THEN
        RAISE EXCEPTION 'paper_key % is still named by versions, paper_categories or paper_sources',
            OLD.key
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER papers_keep_named_papers AFTER DELETE OR UPDATE OF key ON papers
    FOR EACH ROW EXECUTE FUNCTION papers_keep_named_papers();
