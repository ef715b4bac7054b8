-- SPDX-License-Identifier: MIT
-- The ledger's tables: cases, contacts, the parties of each case, the
-- events of each case, and mediation agreements. They are replicated by the
-- engine as ledger_schema.c describes them: every table has id (a UUID made
-- on the device that created the record), village (set for life) and, for
-- records that can be edited, the tombstone "deleted". Rows can arrive in
-- any order from other replicas, so references between tables are ids
-- without foreign-key constraints, and fields other than those may be NULL
-- until their value arrives.

CREATE TABLE cases (
    id            TEXT PRIMARY KEY,
    village       TEXT NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0,
    case_no       TEXT,     -- （2023）杨柳调字第0001号
    kind          TEXT,     -- dispute | petition | screening
    channel       TEXT,     -- visit | letter | call | online | referral | screening
    category      TEXT,     -- land | forest_boundary | demolition_compensation | ...
    severity      INTEGER,  -- class 1 (largest) to 3
    status        TEXT,     -- registered | accepted | mediating | agreement | failed | ...
    level         INTEGER,  -- responsibility level 1 (village) to 7 (township leader)
    title         TEXT,
    facts         TEXT,
    claims        TEXT,
    mediator_id   TEXT,
    mediator_name TEXT,
    received_by   TEXT,     -- who registered it (首问负责制)
    outcome       TEXT,
    created_at    TEXT,     -- RFC 3339
    updated_at    TEXT
);
CREATE INDEX cases_village_status ON cases (village, status);
CREATE INDEX cases_case_no ON cases (case_no);

CREATE TABLE contacts (
    id      TEXT PRIMARY KEY,
    village TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    name    TEXT,
    phone   TEXT,
    id_no   TEXT,   -- identity-card number: personal data, shown masked
    address TEXT,
    notes   TEXT
);
CREATE INDEX contacts_village_name ON contacts (village, name);

CREATE TABLE case_parties (
    id         TEXT PRIMARY KEY,
    village    TEXT NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    case_id    TEXT,
    contact_id TEXT,
    role       TEXT,     -- 申请人 applicant | 被申请人 respondent | 第三人 third party
    position   INTEGER   -- order of the parties on the case file
);
CREATE INDEX case_parties_case ON case_parties (case_id);
CREATE INDEX case_parties_contact ON case_parties (contact_id);

-- Events are never edited or deleted: a correction is a new event.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    village     TEXT NOT NULL,
    case_id     TEXT,
    date        TEXT,   -- YYYY-MM-DD, the day it happened
    kind        TEXT,   -- register | inspection | visit | phone | session | agreement | ...
    note        TEXT,
    recorded_at TEXT    -- RFC 3339, when it was entered
);
CREATE INDEX events_case ON events (case_id, date);

-- A mediation agreement (调解协议书) and its five required parts.
CREATE TABLE agreements (
    id                   TEXT PRIMARY KEY,
    village              TEXT NOT NULL,
    deleted              INTEGER NOT NULL DEFAULT 0,
    case_id              TEXT,
    supplements          TEXT,    -- id of the agreement this one supplements
    parties_details      TEXT,    -- (1) the parties' basic details
    facts_and_liability  TEXT,    -- (2) facts, matters in dispute, responsibility
    rights_obligations   TEXT,    -- (3) each party's rights and obligations
    performance_method   TEXT,    -- (4) how the agreement is performed
    performance_place    TEXT,
    performance_deadline TEXT,    --     by when (YYYY-MM-DD)
    parties_signed       INTEGER, -- (5) signatures and seal
    mediator_signed      INTEGER,
    sealed               INTEGER,
    signed_at            TEXT     -- set when signed; the agreement is then locked
);
CREATE INDEX agreements_case ON agreements (case_id);
