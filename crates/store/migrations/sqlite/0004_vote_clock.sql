-- A counter every vote toggle bumps in its own transaction, so a node can tell that
-- members voted elsewhere (votes do not touch the paper change log) and drop its
-- rendered pages. One row; contention is one short row lock per vote.

CREATE TABLE vote_clock (
    ticks BIGINT NOT NULL
);

INSERT INTO vote_clock (ticks) VALUES (0);
