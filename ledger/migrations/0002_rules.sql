-- SPDX-License-Identifier: MIT
-- What the workflow rules need (ledger/RULES.md): the days a case was
-- accepted and concluded, the deadline the township set on it and the one
-- extension of a petition's deadline, the day the written result notice
-- went out, and the party's opinion of the result. Events gain a
-- machine-readable detail (the new status of a status change, the office a
-- case was transferred to, the new level of an escalation...), so that the
-- figures never parse a note written for people. The township's rules
-- themselves travel to the villages as a record of township_rules.

ALTER TABLE cases ADD COLUMN accepted_on TEXT;      -- YYYY-MM-DD, China time
ALTER TABLE cases ADD COLUMN concluded_on TEXT;     -- YYYY-MM-DD
ALTER TABLE cases ADD COLUMN deadline TEXT;         -- set by the township (督办时限), YYYY-MM-DD
ALTER TABLE cases ADD COLUMN extension_days INTEGER; -- a petition's one extension, in days
ALTER TABLE cases ADD COLUMN result_notice_on TEXT; -- the written result notice (书面告知)
ALTER TABLE cases ADD COLUMN opinion TEXT;          -- satisfied | basically_satisfied | not_satisfied

ALTER TABLE events ADD COLUMN detail TEXT;

CREATE TABLE township_rules (
    id         TEXT PRIMARY KEY,
    village    TEXT NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    settings   TEXT,   -- "key=value" lines, as rules_config_set() reads them
    updated_at TEXT
);
