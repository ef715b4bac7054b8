-- SPDX-License-Identifier: MIT
-- What the review pages' table of all cases needs to stay fast with
-- 100,000 cases (hub/view.h): indexes for its filters and sort orders, and
-- full-text indexes for its search, in Chinese or not.
--
-- Search uses FTS5 with the trigram tokenizer: any text of 3 or more
-- characters is found where it occurs, whatever the language, without a
-- word list. The indexes are external-content tables: they hold no copy of
-- the text, only the index, and read the text from cases and events by
-- rowid. Triggers keep them in step with every write, whoever makes it (the
-- engine creates a row with an INSERT of its id and then writes its fields
-- with an UPDATE; events are written once that way and never changed). The
-- rowids of cases and events are their SQLite row numbers, which are
-- stable (nothing here runs VACUUM); should a repair ever renumber rows,
-- INSERT INTO case_text (case_text) VALUES ('rebuild') and the same for
-- event_text make the indexes whole again, as below.

-- The sort orders and filters of the table. Every index leaves deleted
-- cases out (the table never shows them), starts with a sort key or a
-- filter, has the day received and the id next (the table's tie-breakers,
-- so that the index gives the page's order without sorting), and
-- carries the other filtered columns, with what the overdue filter reads:
-- a page and its COUNT then read only the index, never the cases' long
-- text, whatever filters are combined (a COUNT of 100,000 cases reads a
-- few megabytes instead of the whole table).
CREATE INDEX cases_by_created ON cases (created_at, id, village, category, status, kind,
    severity, level, deadline, accepted_on, extension_days) WHERE deleted = 0;
CREATE INDEX cases_by_village ON cases (village, created_at, id, category, status, kind,
    severity, level, deadline, accepted_on, extension_days) WHERE deleted = 0;
CREATE INDEX cases_by_category ON cases (category, created_at, id, village, status, kind,
    severity, level, deadline, accepted_on, extension_days) WHERE deleted = 0;
CREATE INDEX cases_by_status ON cases (status, created_at, id, village, category, kind,
    severity, level, deadline, accepted_on, extension_days) WHERE deleted = 0;
CREATE INDEX cases_by_level ON cases (level, created_at, id, village, category, status, kind,
    severity, deadline, accepted_on, extension_days) WHERE deleted = 0;
-- The township's deadline first, cases without one last (view.h).
CREATE INDEX cases_by_deadline ON cases ((deadline IS NULL), deadline, created_at, id)
    WHERE deleted = 0;
CREATE INDEX cases_by_updated ON cases (updated_at, created_at, id) WHERE deleted = 0;
CREATE INDEX cases_by_case_no ON cases (case_no, created_at, id) WHERE deleted = 0;

-- The text of a case: its title, facts and claims.
CREATE VIRTUAL TABLE case_text USING fts5 (
    title, facts, claims,
    content = 'cases', content_rowid = 'rowid', tokenize = 'trigram'
);

CREATE TRIGGER case_text_insert AFTER INSERT ON cases BEGIN
    INSERT INTO case_text (rowid, title, facts, claims)
        VALUES (new.rowid, new.title, new.facts, new.claims);
END;

CREATE TRIGGER case_text_update AFTER UPDATE OF title, facts, claims ON cases BEGIN
    INSERT INTO case_text (case_text, rowid, title, facts, claims)
        VALUES ('delete', old.rowid, old.title, old.facts, old.claims);
    INSERT INTO case_text (rowid, title, facts, claims)
        VALUES (new.rowid, new.title, new.facts, new.claims);
END;

CREATE TRIGGER case_text_delete AFTER DELETE ON cases BEGIN
    INSERT INTO case_text (case_text, rowid, title, facts, claims)
        VALUES ('delete', old.rowid, old.title, old.facts, old.claims);
END;

-- The notes of the events of a case (the record of each visit, session,
-- follow-up...).
CREATE VIRTUAL TABLE event_text USING fts5 (
    note,
    content = 'events', content_rowid = 'rowid', tokenize = 'trigram'
);

CREATE TRIGGER event_text_insert AFTER INSERT ON events BEGIN
    INSERT INTO event_text (rowid, note) VALUES (new.rowid, new.note);
END;

CREATE TRIGGER event_text_update AFTER UPDATE OF note ON events BEGIN
    INSERT INTO event_text (event_text, rowid, note) VALUES ('delete', old.rowid, old.note);
    INSERT INTO event_text (rowid, note) VALUES (new.rowid, new.note);
END;

CREATE TRIGGER event_text_delete AFTER DELETE ON events BEGIN
    INSERT INTO event_text (event_text, rowid, note) VALUES ('delete', old.rowid, old.note);
END;

-- A hub that held cases before this migration: index what it holds.
INSERT INTO case_text (case_text) VALUES ('rebuild');
INSERT INTO event_text (event_text) VALUES ('rebuild');

-- Which case each conflict touches: a conflict on the case itself, on one
-- of its parties (case_parties) or their contacts, on one of its events or
-- agreements. A contact that is a party of several cases touches each.
CREATE VIEW conflict_cases AS
    SELECT x.id AS conflict_id, x.row_id AS case_id, x.resolved_ms AS resolved_ms
        FROM hl_conflict x WHERE x.tbl = 'cases'
    UNION ALL
    SELECT x.id, p.case_id, x.resolved_ms
        FROM hl_conflict x JOIN case_parties p ON p.id = x.row_id WHERE x.tbl = 'case_parties'
    UNION ALL
    SELECT x.id, p.case_id, x.resolved_ms
        FROM hl_conflict x JOIN case_parties p ON p.contact_id = x.row_id WHERE x.tbl = 'contacts'
    UNION ALL
    SELECT x.id, e.case_id, x.resolved_ms
        FROM hl_conflict x JOIN events e ON e.id = x.row_id WHERE x.tbl = 'events'
    UNION ALL
    SELECT x.id, a.case_id, x.resolved_ms
        FROM hl_conflict x JOIN agreements a ON a.id = x.row_id WHERE x.tbl = 'agreements';
