/* SPDX-License-Identifier: MIT */
/*
 * local.c - opening the laptop's file and keeping the agent's settings.
 */
#include "local.h"

#include "hlc.h"
#include "ledger_schema.h"
#include "sync_error.h"

#include <errno.h>
#include <sqlite3.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct replica_config config;

int local_default_path(char *out, size_t len)
{
    const char *db = getenv("HAMLET_DB");
    if (db && db[0]) {
        snprintf(out, len, "%s", db);
        return 0;
    }
    const char *data = getenv("XDG_DATA_HOME");
    if (data && data[0]) {
        snprintf(out, len, "%s/hamlet/ledger.db", data);
        return 0;
    }
    const char *home = getenv("HOME");
    if (!home || !home[0]) {
        return -1;
    }
    snprintf(out, len, "%s/.local/share/hamlet/ledger.db", home);
    return 0;
}

/* mkdir -p for the file's folder, private to its owner. */
static int make_parent(const char *path)
{
    char dir[LOCAL_TEXT];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
        return 0;
    }
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    return mkdir(dir, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int local_open(const char *path, int create, struct local *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    if (access(path, F_OK) != 0) {
        if (!create) {
            snprintf(why, why_len, "no ledger at %s (run 'hamlet init --village CODE' first)",
                     path);
            return SYNC_E_NOT_FOUND;
        }
        if (make_parent(path) != 0) {
            snprintf(why, why_len, "cannot make the folder of %s: %s", path, strerror(errno));
            return SYNC_E_DB;
        }
        /* Create it private before SQLite opens it: it holds personal data
         * and the laptop's credential. */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0 && errno != EEXIST) {
            snprintf(why, why_len, "cannot create %s: %s", path, strerror(errno));
            return SYNC_E_DB;
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    ledger_schema_config(&config, 0);
    int rc = replica_open(path, &config, &out->replica, why, why_len);
    if (rc != 0) {
        return rc;
    }
    /* A village's ledger is a few megabytes and an old laptop has little
     * memory: a 512 KiB page cache (SQLite's default is 2 MiB). */
    sqlite3_exec(replica_db(out->replica), "PRAGMA cache_size = -512", NULL, NULL, NULL);
    local_get(out, "agent.village", out->village, sizeof out->village);
    local_get(out, "agent.village_name", out->village_name, sizeof out->village_name);
    int64_t offset = local_get_int(out, "agent.clock_offset_ms", 0);
    if (offset != 0) {
        hlc_correct(replica_clock(out->replica), offset);
    }
    return 0;
}

void local_close(struct local *local)
{
    replica_close(local->replica);
    local->replica = NULL;
}

int local_get(struct local *local, const char *key, char *out, size_t out_len)
{
    out[0] = '\0';
    return replica_meta_text(local->replica, key, out, out_len);
}

int local_set(struct local *local, const char *key, const char *value)
{
    return replica_set_meta_text(local->replica, key, value);
}

int64_t local_get_int(struct local *local, const char *key, int64_t fallback)
{
    return replica_meta_int(local->replica, key, fallback);
}

int local_set_int(struct local *local, const char *key, int64_t value)
{
    return replica_set_meta_int(local->replica, key, value);
}

int local_set_village(struct local *local, const char *code, const char *name)
{
    if (local->village[0] && strcmp(local->village, code) != 0) {
        return SYNC_E_STATE;
    }
    int rc = local_set(local, "agent.village", code);
    if (rc == 0 && name && name[0]) {
        rc = local_set(local, "agent.village_name", name);
        snprintf(local->village_name, sizeof local->village_name, "%s", name);
    }
    snprintf(local->village, sizeof local->village, "%s", code);
    return rc;
}

int local_count_bytes(struct local *local, int64_t up, int64_t down)
{
    /* Days and months of China Standard Time (UTC+8, no summer time). */
    int64_t ms = hlc_wall(replica_clock(local->replica)) + 8LL * 3600 * 1000;
    int64_t day = ms / (86400LL * 1000);
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    int64_t month = (int64_t)(tm.tm_year + 1900) * 100 + tm.tm_mon + 1;
    int rc = replica_begin(local->replica);
    if (rc != 0) {
        return rc;
    }
    if (local_get_int(local, "agent.bytes_day", -1) != day) {
        local_set_int(local, "agent.bytes_day", day);
        local_set_int(local, "agent.bytes_up_today", 0);
        local_set_int(local, "agent.bytes_down_today", 0);
    }
    if (local_get_int(local, "agent.bytes_month", -1) != month) {
        local_set_int(local, "agent.bytes_month", month);
        local_set_int(local, "agent.bytes_up_month", 0);
        local_set_int(local, "agent.bytes_down_month", 0);
    }
    const char *keys[] = {"agent.bytes_up_today", "agent.bytes_down_today", "agent.bytes_up_month",
                          "agent.bytes_down_month"};
    int64_t adds[] = {up, down, up, down};
    for (size_t i = 0; rc == 0 && i < 4; i++) {
        rc = local_set_int(local, keys[i], local_get_int(local, keys[i], 0) + adds[i]);
    }
    if (rc != 0) {
        replica_rollback(local->replica);
        return rc;
    }
    return replica_commit(local->replica);
}

int64_t local_pending(struct local *local)
{
    int64_t pending = replica_own_seq(local->replica) - local_get_int(local, "agent.acked", 0);
    return pending > 0 ? pending : 0;
}
