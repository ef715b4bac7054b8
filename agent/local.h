/* SPDX-License-Identifier: MIT */
/*
 * local.h - the laptop's ledger file and the agent's settings in it.
 *
 * The village ledger is one SQLite file (a replica of the ledger schema);
 * the agent's settings live beside the data in the same file, so that a
 * copy of the file is a whole laptop: its village, the hub it syncs with and
 * that hub's pin, its credential, its acknowledgement and pull cursor, the
 * last sync's result, the data used, and the clock correction learned from
 * the hub. The file is created readable by its owner only.
 */
#ifndef HAMLET_LOCAL_H
#define HAMLET_LOCAL_H

#include "replica.h"

#include <stddef.h>
#include <stdint.h>

#define LOCAL_TEXT 512 /* longest setting text */

struct local {
    struct replica *replica;
    char path[LOCAL_TEXT];
    char village[LOCAL_TEXT];      /* code; "" until init or enroll */
    char village_name[LOCAL_TEXT]; /* as people call it, if known */
};

/* local_default_path(out, len): $HAMLET_DB, else
 * $XDG_DATA_HOME/hamlet/ledger.db, else ~/.local/share/hamlet/ledger.db.
 * Returns 0, or -1 when no home is known. */
int local_default_path(char *out, size_t len);

/* local_open(path, create, out, why, why_len): open the laptop's file (its
 * folder made if needed when create is 1), apply the stored clock
 * correction. Returns 0, SYNC_E_NOT_FOUND (no file and create 0: "run
 * hamlet init first"), or an engine error, with the reason in why. */
int local_open(const char *path, int create, struct local *out, char *why, size_t why_len);
void local_close(struct local *local);

/* Settings: text and integers under "agent.*" keys. */
int local_get(struct local *local, const char *key, char *out, size_t out_len);
int local_set(struct local *local, const char *key, const char *value);
int64_t local_get_int(struct local *local, const char *key, int64_t fallback);
int local_set_int(struct local *local, const char *key, int64_t value);

/* local_set_village(local, code, name): record the village (once: a
 * different one later is SYNC_E_STATE, since records belong to a village for
 * life). */
int local_set_village(struct local *local, const char *code, const char *name);

/* local_count_bytes(local, up, down): add to today's and this month's data
 * use (hub time, Asia/Shanghai days). */
int local_count_bytes(struct local *local, int64_t up, int64_t down);

/* local_pending(local): own changes not yet acknowledged by the hub. */
int64_t local_pending(struct local *local);

#endif
