-- SPDX-License-Identifier: MIT
-- The devices page counts each device's logged refusals since its last
-- good sync (store_device_list()); this index keeps that count cheap when
-- the log grows long.
CREATE INDEX hub_log_device ON hub_log (device, at_ms);
