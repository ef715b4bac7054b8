-- SPDX-License-Identifier: MIT
-- The hub's own tables: the villages of the township, the devices enrolled
-- in them, and a log of what the hub refused. The merged ledger itself is
-- in the ledger's and the engine's tables of the same file.

CREATE TABLE villages (
    code       TEXT PRIMARY KEY,   -- the partition value devices use
    name       TEXT NOT NULL,      -- 杨柳村
    created_at TEXT NOT NULL
);

CREATE TABLE devices (
    id              TEXT PRIMARY KEY,  -- a UUID made by the hub
    village         TEXT NOT NULL REFERENCES villages (code),
    label           TEXT,              -- "村委会笔记本"
    status          TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
    node            INTEGER UNIQUE,    -- the replica's node id, from enrolment
    enroll_hash     BLOB,              -- hash of the one-time code; NULL once used
    enroll_expires  INTEGER,           -- Unix ms
    secret_hash     BLOB,              -- hash of the device's credential
    created_ms      INTEGER NOT NULL,
    enrolled_ms     INTEGER,
    revoked_ms      INTEGER,
    last_sync_ms    INTEGER,
    last_result     TEXT,
    clock_offset_ms INTEGER,           -- device clock minus hub clock at the last sync
    syncs           INTEGER NOT NULL DEFAULT 0,
    bytes_in        INTEGER NOT NULL DEFAULT 0,
    bytes_out       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX devices_village ON devices (village);

-- Refusals and authentication failures, for the township to review.
CREATE TABLE hub_log (
    id      INTEGER PRIMARY KEY,
    at_ms   INTEGER NOT NULL,
    device  TEXT,
    kind    TEXT NOT NULL,   -- auth | revoked | foreign_pull | origin | refused | malformed
    message TEXT NOT NULL
);
CREATE INDEX hub_log_at ON hub_log (at_ms);
