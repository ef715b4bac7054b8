-- SPDX-License-Identifier: MIT
-- Search for words of 1 or 2 characters (土地, 宅基, 纠) without reading
-- every case's text (hub/view.h).
--
-- The trigram indexes of 0004_search.sql cannot be asked for a word
-- shorter than a trigram, but every trigram that contains the word can:
-- any text of 3 or more characters that holds the word holds one of them.
-- FTS5's own vocabulary (fts5vocab) lists the trigrams only by reading the
-- whole index (two seconds with 100,000 cases), so the trigrams are kept
-- here as well, in two plain tables with nothing but the distinct
-- trigrams of the cases' text and of the events' notes (their ASCII
-- letters in lower case: LIKE finds them either way). view.c picks the
-- trigrams that contain the word with LIKE (a pass over some ten thousand
-- short strings, not over the text), asks the index for the OR of them,
-- and checks the cases found. Triggers add the trigrams of every write, in
-- plain SQL, so that any connection may write; trigrams of text since
-- changed or deleted are never removed: the index then simply finds
-- nothing for them. A trigram is cut from the text with substr() at each
-- position; json_each() over an array of that many zeros counts them out
-- (a trigger may not use WITH).
CREATE TABLE case_trigrams (term TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE note_trigrams (term TEXT PRIMARY KEY) WITHOUT ROWID;

CREATE TRIGGER case_trigrams_insert AFTER INSERT ON cases BEGIN
    INSERT OR IGNORE INTO case_trigrams
        SELECT lower(substr(x.text, j.key + 1, 3))
        FROM (SELECT new.title AS text UNION ALL SELECT new.facts UNION ALL SELECT new.claims) x,
            json_each('[' || substr(replace(hex(zeroblob(length(x.text) - 2)), '00', ',0'), 2)
                || ']') j;
END;

CREATE TRIGGER case_trigrams_update AFTER UPDATE OF title, facts, claims ON cases BEGIN
    INSERT OR IGNORE INTO case_trigrams
        SELECT lower(substr(x.text, j.key + 1, 3))
        FROM (SELECT new.title AS text UNION ALL SELECT new.facts UNION ALL SELECT new.claims) x,
            json_each('[' || substr(replace(hex(zeroblob(length(x.text) - 2)), '00', ',0'), 2)
                || ']') j;
END;

CREATE TRIGGER note_trigrams_insert AFTER INSERT ON events BEGIN
    INSERT OR IGNORE INTO note_trigrams
        SELECT lower(substr(new.note, j.key + 1, 3))
        FROM json_each('[' || substr(replace(hex(zeroblob(length(new.note) - 2)), '00', ',0'), 2)
            || ']') j;
END;

CREATE TRIGGER note_trigrams_update AFTER UPDATE OF note ON events BEGIN
    INSERT OR IGNORE INTO note_trigrams
        SELECT lower(substr(new.note, j.key + 1, 3))
        FROM json_each('[' || substr(replace(hex(zeroblob(length(new.note) - 2)), '00', ',0'), 2)
            || ']') j;
END;

-- A text of 1 or 2 characters has no trigram: these are found here, and
-- view.c repeats the same conditions word for word so that SQLite uses
-- these indexes.
CREATE INDEX cases_short_text ON cases (deleted)
    WHERE length(title) BETWEEN 1 AND 2 OR length(facts) BETWEEN 1 AND 2
        OR length(claims) BETWEEN 1 AND 2;
CREATE INDEX events_short_note ON events (case_id) WHERE length(note) BETWEEN 1 AND 2;

-- A hub that held cases before this migration: list their trigrams (about
-- a minute for 100,000 cases).
INSERT OR IGNORE INTO case_trigrams
    SELECT lower(substr(x.text, j.key + 1, 3))
    FROM (SELECT title AS text FROM cases UNION ALL SELECT facts FROM cases
          UNION ALL SELECT claims FROM cases) x,
        json_each('[' || substr(replace(hex(zeroblob(length(x.text) - 2)), '00', ',0'), 2)
            || ']') j;
INSERT OR IGNORE INTO note_trigrams
    SELECT lower(substr(e.note, j.key + 1, 3))
    FROM events e,
        json_each('[' || substr(replace(hex(zeroblob(length(e.note) - 2)), '00', ',0'), 2)
            || ']') j;
