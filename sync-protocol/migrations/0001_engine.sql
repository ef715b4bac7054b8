-- SPDX-License-Identifier: MIT
-- The replication engine's own tables. Every name starts with hl_ so that
-- no application table can collide with them.

-- Small facts about this replica: its node id, its clock, its sequence,
-- the acknowledgement and pull cursor it holds from the hub.
CREATE TABLE hl_meta (
    key   TEXT PRIMARY KEY,
    value  -- no declared type: stored exactly as given
) WITHOUT ROWID;

-- The stamp of the value each field holds: (hlc, node) of the write that
-- set it. The tombstone is the field "deleted"; an appended row has one
-- stamp under the field "*".
CREATE TABLE hl_cell (
    tbl    TEXT NOT NULL,
    row_id TEXT NOT NULL,
    col    TEXT NOT NULL,
    hlc    INTEGER NOT NULL,
    node   INTEGER NOT NULL,
    PRIMARY KEY (tbl, row_id, col)
) WITHOUT ROWID;

-- Every change this replica made or accepted, in the order it applied them.
-- pos is the pull cursor; (node, seq) names a change everywhere. The body
-- is the change as PROTOCOL.md encodes it. Rows are never updated or
-- deleted: this is the history of every record.
CREATE TABLE hl_log (
    pos         INTEGER PRIMARY KEY,
    node        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    op          INTEGER NOT NULL,
    tbl         TEXT NOT NULL,
    row_id      TEXT NOT NULL,
    part        TEXT NOT NULL,
    hlc         INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    body        TEXT NOT NULL,
    UNIQUE (node, seq)
);
CREATE INDEX hl_log_part ON hl_log (part, pos);
CREATE INDEX hl_log_row ON hl_log (tbl, row_id);

-- For each node that pushes here: every change up to acked is held.
CREATE TABLE hl_peer (
    node       INTEGER PRIMARY KEY,
    acked      INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);

-- Concurrent edits of one field to different values. The standing value is
-- the one this replica held when the incoming write arrived; the winner by
-- (hlc, node) stands until a reviewer decides.
CREATE TABLE hl_conflict (
    id             INTEGER PRIMARY KEY,
    tbl            TEXT NOT NULL,
    row_id         TEXT NOT NULL,
    col            TEXT NOT NULL,
    part           TEXT NOT NULL,
    log_pos        INTEGER NOT NULL REFERENCES hl_log (pos),
    standing_value,  -- no declared type: stored exactly as given
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
CREATE INDEX hl_conflict_open ON hl_conflict (resolved_ms, part);
CREATE INDEX hl_conflict_cell ON hl_conflict (tbl, row_id, col);

-- Changes refused one by one (a record of another partition), kept with
-- the reason so that nothing is silently dropped.
CREATE TABLE hl_refused (
    id          INTEGER PRIMARY KEY,
    node        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_ms INTEGER NOT NULL
);
