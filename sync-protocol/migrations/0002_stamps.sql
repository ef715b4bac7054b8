-- SPDX-License-Identifier: MIT
-- One stamp row per record instead of one per field: merging a change then
-- reads and writes one row, however many fields it sets. The stamps of a
-- record's fields are packed in one BLOB (sync-protocol/stamps.h gives the
-- layout); the values are the same (hlc, node) as before, under the same
-- field names ("deleted" for the tombstone, "*" for an appended row).
--
-- hl_stamps_pack() is defined by the engine on its connection
-- (stamps_register(), called by replica_open() before the migrations), so
-- this migration runs only there. It converts every row of hl_cell in the
-- same transaction that records the migration.

CREATE TABLE hl_stamp (
    tbl    TEXT NOT NULL,
    row_id TEXT NOT NULL,
    stamps BLOB NOT NULL,
    PRIMARY KEY (tbl, row_id)
) WITHOUT ROWID;

INSERT INTO hl_stamp (tbl, row_id, stamps)
    SELECT tbl, row_id, hl_stamps_pack(col, hlc, node)
    FROM hl_cell GROUP BY tbl, row_id;

DROP TABLE hl_cell;
