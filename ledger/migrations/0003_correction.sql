-- SPDX-License-Identifier: MIT
-- The township's request that a village correct a case (要求更正), and the
-- village's answer (ledger/RULES.md, "The township's actions"). The hub
-- writes the request and its day; the laptop writes the answer and its day.
-- Each side owns its own fields, so that a request and an answer made at the
-- same time never meet in one field and never become a conflict. A request
-- that is NULL (or empty) asks for nothing: the township cleared it, or
-- never made one. Every change of these fields is also an event of the case
-- (kinds "correction" and "correction_reply"), which keeps the words of each
-- request and answer after the fields have moved on.

ALTER TABLE cases ADD COLUMN correction TEXT;          -- the township's comment: what to correct
ALTER TABLE cases ADD COLUMN correction_on TEXT;       -- YYYY-MM-DD, the day it was asked
ALTER TABLE cases ADD COLUMN correction_reply TEXT;    -- the village's answer
ALTER TABLE cases ADD COLUMN correction_reply_on TEXT; -- YYYY-MM-DD, the day it was answered
