/* SPDX-License-Identifier: MIT */
/*
 * checks.c - the end-of-sync checks the integration tests share.
 */
#include "checks.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
    return -1;
}

int checks_exactly_once(struct hubproc *hub, struct agentproc *laptop, char *why, size_t why_len)
{
    int64_t seq = -1, acked = -1, node = -1;
    if (agentproc_meta_int(laptop, "hl.seq", &seq) != 0 ||
        agentproc_meta_int(laptop, "agent.acked", &acked) != 0 ||
        agentproc_meta_int(laptop, "hl.node", &node) != 0) {
        return fail(why, why_len, "%s: cannot read its ledger's sequence", laptop->name);
    }
    /* The hub journals by runs (hl_run): a run of n changes holds the
     * sequence numbers seq to seq + n - 1. The changes are there exactly
     * once when the runs add up to the laptop's sequence, start at 1, end at
     * it and no two of them share a number. */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (hubproc_open_db(hub, &db) != 0 ||
        sqlite3_prepare_v2(db,
                           "SELECT coalesce(sum(n), 0), coalesce(min(seq), 0),"
                           " coalesce(max(seq + n - 1), 0),"
                           " (SELECT count(*) FROM hl_run a JOIN hl_run b ON b.node = a.node"
                           "  AND b.pos <> a.pos AND b.seq BETWEEN a.seq AND a.seq + a.n - 1"
                           "  WHERE a.node = ?1),"
                           " (SELECT acked FROM hl_peer WHERE node = ?1)"
                           " FROM hl_run WHERE node = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return fail(why, why_len, "cannot read the hub's journal");
    }
    sqlite3_bind_int64(st, 1, node);
    int row = sqlite3_step(st) == SQLITE_ROW;
    int64_t changes = row ? sqlite3_column_int64(st, 0) : -1;
    int64_t min = row ? sqlite3_column_int64(st, 1) : -1;
    int64_t max = row ? sqlite3_column_int64(st, 2) : -1;
    int64_t overlaps = row ? sqlite3_column_int64(st, 3) : -1;
    int64_t hub_acked = row ? sqlite3_column_int64(st, 4) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    printf("    %s: %" PRId64 " changes made, %" PRId64 " acknowledged; the hub holds %" PRId64
           " (seq %" PRId64 " to %" PRId64 ", %" PRId64 " runs overlapping, acknowledged %" PRId64
           ")\n",
           laptop->name, seq, acked, changes, min, max, overlaps, hub_acked);
    if (seq <= 0 || acked != seq || changes != seq || min != 1 || max != seq || overlaps != 0 ||
        hub_acked != seq) {
        return fail(why, why_len, "%s: not every change is at the hub exactly once", laptop->name);
    }
    return 0;
}

int checks_same_as_hub(struct hubproc *hub, struct agentproc *laptop, const char *village,
                       char *why, size_t why_len)
{
    static const char *const export[] = {"export", NULL};
    struct agentproc_result r;
    if (agentproc_run(laptop, export, &r) != 0) {
        int rc = fail(why, why_len, "%s: hamlet export: exit %d: %.200s", laptop->name, r.status,
                      r.err ? r.err : "");
        agentproc_result_clear(&r);
        return rc;
    }
    char *hub_text = NULL;
    size_t len = 0;
    if (hubproc_export(hub, village, &hub_text, &len) != 0) {
        agentproc_result_clear(&r);
        return fail(why, why_len, "hamlet-hub export --village %s failed", village);
    }
    const char *mine = r.out ? r.out : "";
    int rc = 0;
    if (len == 0) {
        rc = fail(why, why_len, "the hub's export of %s is empty", village);
    } else if (strcmp(mine, hub_text) != 0) {
        size_t at = 0;
        while (mine[at] && mine[at] == hub_text[at]) {
            at++;
        }
        size_t line = at;
        while (line > 0 && mine[line - 1] != '\n') {
            line--;
        }
        fprintf(stderr, "  laptop: %.400s\n  hub:    %.400s\n", mine + line, hub_text + line);
        rc = fail(why, why_len,
                  "%s: its export differs from the hub's export of %s (%zu and %zu bytes) at "
                  "byte %zu",
                  laptop->name, village, strlen(mine), len, at);
    }
    free(hub_text);
    agentproc_result_clear(&r);
    return rc;
}
