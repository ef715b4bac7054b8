-- SPDX-License-Identifier: MIT
-- Each device gets, at enrolment, a short code unique in its village
-- (rules_device_code(), ledger/RULES.md "Case numbers"); the case numbers
-- it makes carry it, so that two laptops of a village never make the same
-- number without talking to each other.

ALTER TABLE devices ADD COLUMN case_code TEXT;
CREATE UNIQUE INDEX devices_case_code ON devices (village, case_code);
