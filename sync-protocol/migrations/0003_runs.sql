-- SPDX-License-Identifier: MIT
-- The journal by runs instead of by change, and without the values the rows
-- already hold: merging a batch then writes about one journal row per run
-- of changes instead of one row (and three index entries) per change, and
-- no value twice.
--
-- hl_journal_pack() is defined by the engine on its connection
-- (replica_open(), before the migrations): it packs one change of the old
-- journal (its JSON body) as sync-protocol/journal.h lays out a run.

-- A run: changes of one node and one partition with consecutive sequence
-- numbers, journaled one after the other. Its k-th change (from 0) has
-- position pos + k (the pull cursor; positions are never reused) and
-- sequence number seq + k. The body (journal.h) holds each change's
-- operation, record, stamp and fields, without their values. Rows are
-- never updated or deleted.
CREATE TABLE hl_run (
    pos         INTEGER PRIMARY KEY,
    node        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    n           INTEGER NOT NULL CHECK (n >= 1),
    part        TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    body        BLOB NOT NULL
);
CREATE UNIQUE INDEX hl_run_seq ON hl_run (node, seq);
CREATE INDEX hl_run_part ON hl_run (part, pos);

-- The value a journaled write gave a field, once the record's row no longer
-- holds it: a later write replaced it, or it never won. While the field's
-- stamp is the write's own, its value is the row's.
CREATE TABLE hl_prior (
    tbl    TEXT NOT NULL,
    row_id TEXT NOT NULL,
    col    TEXT NOT NULL,
    hlc    INTEGER NOT NULL,
    node   INTEGER NOT NULL,
    value,  -- no declared type: stored exactly as given
    PRIMARY KEY (tbl, row_id, col, hlc, node)
) WITHOUT ROWID;

-- The positions of the record's changes, ascending, comma-separated: the
-- record's history, kept with its stamps (replica_open() then moves both
-- into the record's row, columns hl_stamps and hl_hist).
ALTER TABLE hl_stamp ADD COLUMN hist TEXT;

-- The old journal, a run per change, its positions kept (they are the
-- laptops' pull cursors). Every value goes to hl_prior: reading a change
-- prefers the row when it still holds the change's value, so keeping the
-- rest there too changes nothing.
INSERT INTO hl_run (pos, node, seq, n, part, received_ms, body)
    SELECT pos, node, seq, 1, part, received_ms, hl_journal_pack(body) FROM hl_log;
INSERT OR IGNORE INTO hl_prior (tbl, row_id, col, hlc, node, value)
    SELECT l.tbl, l.row_id, j.key, l.hlc, l.node, j.value
    FROM hl_log l, json_each(l.body, '$.set') j;
UPDATE hl_stamp SET hist = (
    SELECT group_concat(pos, ',') FROM (
        SELECT l.pos FROM hl_log l
        WHERE l.tbl = hl_stamp.tbl AND l.row_id = hl_stamp.row_id ORDER BY l.pos));

-- A conflict names the position of the change that raised it; there is no
-- journal row per change any more to refer to.
CREATE TABLE hl_conflict_new (
    id             INTEGER PRIMARY KEY,
    tbl            TEXT NOT NULL,
    row_id         TEXT NOT NULL,
    col            TEXT NOT NULL,
    part           TEXT NOT NULL,
    log_pos        INTEGER NOT NULL,
    standing_value,
    standing_hlc   INTEGER,
    standing_node  INTEGER,
    incoming_value,
    incoming_hlc   INTEGER NOT NULL,
    incoming_node  INTEGER NOT NULL,
    winner         TEXT NOT NULL CHECK (winner IN ('standing', 'incoming')),
    created_ms     INTEGER NOT NULL,
    resolved_ms    INTEGER,
    resolution     TEXT
);
INSERT INTO hl_conflict_new SELECT * FROM hl_conflict;
DROP TABLE hl_conflict;
-- Views of the application that name hl_conflict are kept as they are: the
-- new table takes the old one's name.
PRAGMA legacy_alter_table = ON;
ALTER TABLE hl_conflict_new RENAME TO hl_conflict;
PRAGMA legacy_alter_table = OFF;
CREATE INDEX hl_conflict_open ON hl_conflict (resolved_ms, part);
CREATE INDEX hl_conflict_cell ON hl_conflict (tbl, row_id, col);

DROP TABLE hl_log;
