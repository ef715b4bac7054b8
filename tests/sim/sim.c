/* SPDX-License-Identifier: MIT */
/*
 * sim.c - the convergence simulation.
 *
 * A hub and five devices in three villages (two villages with two laptops
 * each) make random writes (creates, field edits, deletes, events, parties)
 * on real SQLite files, with skewed clocks (one laptop 200 days ahead), and
 * sync at random through a network that drops, duplicates and delays both
 * requests and replies. Every message goes through the real encoding and
 * envelope. After a final full sync the simulation checks DESIGN.md's
 * promises:
 *   - each device's canonical export equals the hub's export of its village;
 *   - no write is missing: the hub holds every change each device made;
 *   - each concurrent edit left exactly one conflict record: an independent
 *     model replays the hub's journal and says which arrivals were
 *     concurrent with the value standing, and the hub's records must match.
 * Seeded: the seed is printed, and --seed gives it back.
 */
#include "delta.h"
#include "envelope.h"
#include "hlc.h"
#include "ledger_schema.h"
#include "replica.h"
#include "sync_error.h"
#include "uuid7.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NDEVICES  5
#define NVILLAGES 3
#define MAX_QUEUE 4096
#define DAY_MS    (86400LL * 1000)

static const char *const villages[NVILLAGES] = {"杨柳村", "桃花村", "石桥村"};
static const int device_village[NDEVICES] = {0, 0, 1, 1, 2};
/* Laptop clocks: most are near the truth; device 3 is 200 days ahead. */
static const int64_t device_skew[NDEVICES] = {0, 3 * 3600 * 1000LL, -5 * 60 * 1000LL, 200 * DAY_MS,
                                              1500};

static const char *const statuses[] = {"registered", "accepted", "mediating", "agreement",
                                       "failed",     "referred", "closed"};
static const char *const titles[] = {"宅基地边界纠纷", "邻里排水纠纷",   "劳务费拖欠",
                                     "山林权属争议",   "征地补偿款分配", "婚姻家庭纠纷"};
static const char *const notes[] = {"走访双方当事人，了解情况。", "组织双方调解，未达成一致。",
                                    "电话回访，当事人表示满意。", "现场勘查四至边界。",
                                    "达成调解协议，当场履行。"};
static const char *const names[] = {"张建国", "李秀英", "王德明", "刘桂兰", "陈志强", "杨小红"};

/* ---- reproducible randomness ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static unsigned below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static int chance(unsigned percent)
{
    return below(100) < percent;
}

static void make_id(char out[UUID7_STRLEN + 1], int64_t ms)
{
    uint64_t a = rnd(), b = rnd();
    snprintf(out, UUID7_STRLEN + 1,
             "%08" PRIx64 "-%04" PRIx64 "-7%03" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
             ((uint64_t)ms >> 16) & 0xffffffff, (uint64_t)ms & 0xffff, a & 0xfff,
             (uint64_t)0x8000 | ((a >> 12) & 0x3fff), b & (uint64_t)0xffffffffffff);
}

/* ---- the world ---- */

static int64_t sim_ms = 1767225600000LL; /* 2026-01-01T00:00:00Z */
static uint64_t seed;

struct device {
    struct replica *r;
    int village;
    int64_t skew;
    int64_t acked;  /* what the hub last said it holds of ours */
    int64_t cursor; /* pull position in the hub's journal */
};

static struct replica *hub;
static struct device devices[NDEVICES];
static const struct schema *schema;
static struct envelope_limits limits;
static char dir[64];

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sim: FAILED: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nsim: replay with --seed %" PRIu64 " (files kept in %s)\n", seed, dir);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        die("%s: %s", what, sync_strerror(rc));
    }
}

static int64_t wall_of(void *ctx)
{
    return sim_ms + *(const int64_t *)ctx;
}

static int64_t hub_skew = 0;

static struct replica *open_replica(const char *name, int keep_conflicts, uint64_t node,
                                    int64_t *skew)
{
    char path[128], why[256];
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    static struct replica_config configs[2];
    ledger_schema_config(&configs[keep_conflicts], keep_conflicts);
    struct replica *r;
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = replica_open(path, &configs[keep_conflicts], &r, why, sizeof why);
        if (rc != 0) {
            die("open %s: %s", path, why);
        }
        if (replica_node(r) == node) {
            break;
        }
        /* Fixed node ids keep a seeded run reproducible (ties break on them). */
        check(replica_set_meta_int(r, "hl.node", (int64_t)node), "set node");
        replica_close(r);
    }
    /* Durability is the crash test's subject; here it would only cost time. */
    sqlite3_exec(replica_db(r), "PRAGMA synchronous = OFF", NULL, NULL, NULL);
    hlc_set_wall(replica_clock(r), wall_of, skew);
    return r;
}

/* ---- random writes ---- */

static int pick_row(struct replica *r, const char *table, const char *village, char *out)
{
    char sql[160];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE village = ?1", table);
    sqlite3_prepare_v2(replica_db(r), sql, -1, &st, NULL);
    sqlite3_bind_text(st, 1, village, -1, SQLITE_STATIC);
    sqlite3_step(st);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (n == 0) {
        return 0;
    }
    snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE village = ?1 ORDER BY id LIMIT 1 OFFSET ?2",
             table);
    sqlite3_prepare_v2(replica_db(r), sql, -1, &st, NULL);
    sqlite3_bind_text(st, 1, village, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)below((unsigned)n));
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(out, UUID7_STRLEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return found;
}

static struct sync_value text(const char *s)
{
    return (struct sync_value){.type = SYNC_TEXT, .s = s};
}

static struct sync_value integer(int64_t i)
{
    return (struct sync_value){.type = SYNC_INT, .i = i};
}

static long writes_made;

static void create_case(struct replica *r, const char *village)
{
    char id[UUID7_STRLEN + 1], created[40];
    make_id(id, sim_ms);
    snprintf(created, sizeof created, "%" PRId64, sim_ms);
    const char *cols[] = {"title", "status", "severity", "category", "facts", "created_at"};
    struct sync_value vals[] = {text(titles[below(6)]), text("registered"),
                                integer(1 + below(3)),  text("neighbour"),
                                text(notes[below(5)]),  text(created)};
    check(replica_put(r, "cases", id, village, 6, cols, vals, NULL), "create case");
}

static void edit_case(struct replica *r, const char *village)
{
    char id[UUID7_STRLEN + 1];
    if (!pick_row(r, "cases", village, id)) {
        return;
    }
    const char *cols[3];
    struct sync_value vals[3];
    size_t n = 0;
    /* Few distinct values, so that concurrent edits sometimes agree. */
    if (chance(70)) {
        cols[n] = "status";
        vals[n++] = text(statuses[below(7)]);
    }
    if (chance(30)) {
        cols[n] = "title";
        vals[n++] = text(titles[below(6)]);
    }
    if (n == 0 || chance(25)) {
        cols[n] = "level";
        vals[n++] = chance(10) ? (struct sync_value){.type = SYNC_NULL} : integer(1 + below(7));
    }
    check(replica_put(r, "cases", id, village, n, cols, vals, NULL), "edit case");
    /* An edit made here stands here at once, whatever the stamps before it. */
    if (!strcmp(cols[0], "status")) {
        sqlite3_stmt *st;
        sqlite3_prepare_v2(replica_db(r), "SELECT status FROM cases WHERE id = ?1", -1, &st, NULL);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW ||
            strcmp((const char *)sqlite3_column_text(st, 0), vals[0].s) != 0) {
            die("case %s: status %s was written but does not stand", id, vals[0].s);
        }
        sqlite3_finalize(st);
    }
}

static void delete_case(struct replica *r, const char *village)
{
    char id[UUID7_STRLEN + 1];
    if (pick_row(r, "cases", village, id)) {
        check(replica_delete(r, "cases", id), "delete case");
    }
}

/* Half the time a record of a case is named by a derivation of the case's
 * id (PROTOCOL.md 1), as an import names parties and events, so that the
 * compact deltas carry derivations, relative and whole, and references to
 * them. what/NODE/N is this device's own: no other writes it. */
static unsigned derivations;

static void name_record(struct replica *r, const char *case_id, const char *what,
                        char id[UUID7_FROMLEN + 1])
{
    if (chance(50)) {
        snprintf(id, UUID7_FROMLEN + 1, "%s/%s/%016" PRIx64 "/%u", case_id, what, replica_node(r),
                 derivations++);
    } else {
        make_id(id, sim_ms);
    }
}

/* The id a record named by name_record() has. */
static void record_id(const char *named, char id[UUID7_STRLEN + 1])
{
    if (uuid7_from_valid(named)) {
        check(uuid7_derive(named, id), "derive");
    } else {
        memcpy(id, named, UUID7_STRLEN + 1); /* a UUID: make_id()'s */
    }
}

static void add_event(struct replica *r, const char *village)
{
    char case_id[UUID7_STRLEN + 1], id[UUID7_FROMLEN + 1];
    if (!pick_row(r, "cases", village, case_id)) {
        return;
    }
    name_record(r, case_id, "event", id);
    const char *cols[] = {"case_id", "date", "kind", "note"};
    struct sync_value vals[] = {text(case_id), text("2026-03-01"), text("visit"),
                                text(notes[below(5)])};
    check(replica_append(r, "events", id, village, 4, cols, vals), "add event");
}

static void add_party(struct replica *r, const char *village)
{
    char case_id[UUID7_STRLEN + 1], contact[UUID7_FROMLEN + 1], party[UUID7_FROMLEN + 1];
    char contact_id[UUID7_STRLEN + 1];
    if (!pick_row(r, "cases", village, case_id)) {
        return;
    }
    name_record(r, case_id, "contact", contact);
    name_record(r, case_id, "party", party);
    record_id(contact, contact_id);
    const char *ccols[] = {"name", "phone"};
    struct sync_value cvals[] = {text(names[below(6)]), text("13800138000")};
    const char *pcols[] = {"case_id", "contact_id", "role", "position"};
    struct sync_value pvals[] = {text(case_id), text(contact_id), text("申请人"),
                                 integer(below(4))};
    /* Two records written together: both or neither. */
    check(replica_begin(r), "begin");
    check(replica_put(r, "contacts", contact, village, 2, ccols, cvals, NULL), "add contact");
    check(replica_put(r, "case_parties", party, village, 4, pcols, pvals, NULL), "add party");
    check(replica_commit(r), "commit");
}

static void edit_contact(struct replica *r, const char *village)
{
    char id[UUID7_STRLEN + 1];
    if (!pick_row(r, "contacts", village, id)) {
        return;
    }
    const char *cols[] = {"phone"};
    struct sync_value vals[] = {text(chance(50) ? "13900139000" : "13700137000")};
    check(replica_put(r, "contacts", id, village, 1, cols, vals, NULL), "edit contact");
}

static void local_write(struct replica *r, const char *village)
{
    unsigned p = below(100);
    if (p < 22) {
        create_case(r, village);
    } else if (p < 62) {
        edit_case(r, village);
    } else if (p < 66) {
        delete_case(r, village);
    } else if (p < 84) {
        add_event(r, village);
    } else if (p < 92) {
        add_party(r, village);
    } else {
        edit_contact(r, village);
    }
    writes_made++;
}

/* ---- the network ---- */

struct message {
    int to_hub; /* 1: a request from device, 0: a reply to device */
    int device;
    uint8_t *bytes;
    size_t len;
    long due; /* step at which a delayed message arrives */
};

static struct message queue[MAX_QUEUE];
static size_t queued;
static long step_no;
static long sent, dropped, duplicated, delayed;

static uint8_t *pack(const struct delta *d, size_t *len)
{
    uint8_t *bytes;
    check(delta_pack(schema, d, 1 + (int)below(9), &bytes, len), "pack");
    return bytes;
}

static struct delta *unpack(const uint8_t *bytes, size_t len)
{
    struct delta *d;
    char why[200];
    int rc = delta_unpack(schema, &limits, bytes, len, &d, why, sizeof why);
    if (rc != 0) {
        die("unpack: %s: %s", sync_strerror(rc), why);
    }
    return d;
}

/* The hub's side of one sync: apply the push, answer with the pull. */
static uint8_t *hub_handle(int dev, const uint8_t *bytes, size_t len, size_t *out_len)
{
    struct delta *req = unpack(bytes, len);
    const char *village = villages[devices[dev].village];
    struct replica_apply_opts opts = {replica_node(devices[dev].r), village, 1};
    struct replica_apply_result result;
    struct delta *reply = delta_new(DELTA_REPLY);
    check(replica_apply(hub, req, &opts, &result, reply), "hub apply");
    if (result.refused) {
        die("the hub refused %zu changes of device %d", result.refused, dev);
    }
    reply->node = replica_node(hub);
    reply->time_ms = hlc_wall(replica_clock(hub));
    reply->clock = hlc_last(replica_clock(hub));
    reply->acked = result.acked;
    reply->resume_from = result.resume_from;
    reply->conflicts = (int64_t)result.conflicts;
    if (req->pull_bytes > 0) {
        check(replica_changes_since(hub, req->cursor, village, req->node, (size_t)req->pull_bytes,
                                    reply),
              "hub pull");
    } else {
        reply->cursor = req->cursor;
    }
    delta_free(req);
    uint8_t *out = pack(reply, out_len);
    delta_free(reply);
    return out;
}

/* The device's side of a reply. Returns 1 if more changes wait. */
static int device_handle(int dev, const uint8_t *bytes, size_t len)
{
    struct device *d = &devices[dev];
    struct delta *reply = unpack(bytes, len);
    struct replica_apply_opts opts = {replica_node(hub), villages[d->village], 0};
    struct replica_apply_result result;
    check(replica_apply(d->r, reply, &opts, &result, NULL), "device apply");
    if (reply->acked > d->acked) {
        d->acked = reply->acked;
    }
    if (reply->cursor > d->cursor) {
        d->cursor = reply->cursor;
    }
    int more = reply->more;
    delta_free(reply);
    return more;
}

static uint8_t *device_request(int dev, size_t push_bytes, size_t pull_bytes, size_t *len)
{
    struct device *d = &devices[dev];
    struct delta *req = delta_new(DELTA_PUSH);
    req->node = replica_node(d->r);
    snprintf(req->part, sizeof req->part, "%s", villages[d->village]);
    req->time_ms = hlc_wall(replica_clock(d->r));
    req->clock = hlc_last(replica_clock(d->r));
    req->cursor = d->cursor;
    req->pull_bytes = (int64_t)pull_bytes;
    if (push_bytes) {
        check(replica_pending(d->r, d->acked, push_bytes, req), "pending");
    }
    uint8_t *out = pack(req, len);
    delta_free(req);
    return out;
}

static void enqueue(int to_hub, int dev, uint8_t *bytes, size_t len, long due)
{
    if (queued == MAX_QUEUE) {
        free(bytes);
        dropped++;
        return;
    }
    queue[queued++] = (struct message){to_hub, dev, bytes, len, due};
}

static void deliver(const struct message *m)
{
    if (m->to_hub) {
        size_t len;
        uint8_t *reply = hub_handle(m->device, m->bytes, m->len, &len);
        /* Replies meet the same faults on the way back. */
        if (chance(10)) {
            dropped++;
            free(reply);
        } else if (chance(8)) {
            delayed++;
            enqueue(0, m->device, reply, len, step_no + 1 + below(200));
        } else {
            device_handle(m->device, reply, len);
            if (chance(5)) {
                duplicated++;
                device_handle(m->device, reply, len);
            }
            free(reply);
        }
    } else {
        device_handle(m->device, m->bytes, m->len);
    }
}

/* A sync over the faulty network. */
static void random_sync(int dev)
{
    size_t len;
    size_t push_bytes = chance(15) ? 0 : 300 + below(20000);
    size_t pull_bytes = chance(15) ? 0 : 300 + below(20000);
    uint8_t *req = device_request(dev, push_bytes, pull_bytes, &len);
    sent++;
    if (chance(10)) {
        dropped++;
        free(req);
        return;
    }
    if (chance(8)) {
        delayed++;
        enqueue(1, dev, req, len, step_no + 1 + below(200));
        return;
    }
    struct message m = {1, dev, req, len, 0};
    deliver(&m);
    if (chance(5)) {
        duplicated++;
        deliver(&m);
    }
    free(req);
}

static void deliver_due(int all)
{
    size_t kept = 0;
    for (size_t i = 0; i < queued; i++) {
        if (all || queue[i].due <= step_no) {
            deliver(&queue[i]);
            free(queue[i].bytes);
        } else {
            queue[kept++] = queue[i];
        }
    }
    queued = kept;
}

/* A sync over a good link: until everything is sent and received. */
static void full_sync(int dev)
{
    for (int round = 0; round < 100000; round++) {
        size_t len, reply_len;
        uint8_t *req = device_request(dev, 64 << 10, 64 << 10, &len);
        uint8_t *reply = hub_handle(dev, req, len, &reply_len);
        int more = device_handle(dev, reply, reply_len);
        free(req);
        free(reply);
        if (!more && devices[dev].acked == replica_own_seq(devices[dev].r)) {
            return;
        }
    }
    die("device %d never caught up", dev);
}

/* ---- checks ---- */

struct text {
    char *data;
    size_t len;
};

static int collect_line(void *ctx, const char *line, size_t len)
{
    struct text *t = ctx;
    char *grown = realloc(t->data, t->len + len + 1);
    if (!grown) {
        return SYNC_E_NOMEM;
    }
    t->data = grown;
    memcpy(t->data + t->len, line, len);
    t->len += len;
    t->data[t->len] = '\0';
    return 0;
}

static char *export_of(struct replica *r, const char *village)
{
    struct text t = {calloc(1, 1), 0};
    check(replica_export(r, village, collect_line, &t), "export");
    return t.data;
}

static void check_exports(void)
{
    for (int dev = 0; dev < NDEVICES; dev++) {
        const char *village = villages[devices[dev].village];
        char *mine = export_of(devices[dev].r, village);
        char *hubs = export_of(hub, village);
        if (strcmp(mine, hubs) != 0) {
            size_t at = 0;
            while (mine[at] && mine[at] == hubs[at]) {
                at++;
            }
            die("device %d's export differs from the hub's for %s at byte %zu:\n"
                "  device: %.160s\n  hub:    %.160s",
                dev, village, at, mine + (at > 40 ? at - 40 : 0), hubs + (at > 40 ? at - 40 : 0));
        }
        /* A device holds nothing of other villages. */
        char *all = export_of(devices[dev].r, NULL);
        if (strcmp(all, mine) != 0) {
            die("device %d holds records of another village", dev);
        }
        free(all);
        free(mine);
        free(hubs);
    }
}

static int64_t query_int(struct replica *r, const char *sql, int64_t arg)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(replica_db(r), sql, -1, &st, NULL) != SQLITE_OK) {
        die("query %s: %s", sql, sqlite3_errmsg(replica_db(r)));
    }
    sqlite3_bind_int64(st, 1, arg);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static void check_nothing_lost(void)
{
    for (int dev = 0; dev < NDEVICES; dev++) {
        struct replica *r = devices[dev].r;
        int64_t own = replica_own_seq(r);
        int64_t node = (int64_t)replica_node(r);
        /* The hub journals by runs: a run of n changes holds seq to
         * seq + n - 1. Every change is there once when the runs add up to
         * the device's own seq, cover 1 to it, and none overlaps another. */
        int64_t held =
            query_int(hub, "SELECT coalesce(sum(n), 0) FROM hl_run WHERE node = ?1", node);
        int64_t first =
            query_int(hub, "SELECT coalesce(min(seq), 0) FROM hl_run WHERE node = ?1", node);
        int64_t top = query_int(
            hub, "SELECT coalesce(max(seq + n - 1), 0) FROM hl_run WHERE node = ?1", node);
        int64_t overlapping =
            query_int(hub,
                      "SELECT count(*) FROM hl_run a JOIN hl_run b ON b.node = a.node"
                      " AND b.pos <> a.pos AND b.seq BETWEEN a.seq AND a.seq + a.n - 1"
                      " WHERE a.node = ?1",
                      node);
        if (held != own || top != own || (own > 0 && first != 1) || overlapping != 0 ||
            replica_acked(hub, (uint64_t)node) != own) {
            die("device %d made %" PRId64 " changes; the hub holds %" PRId64 " (seq %" PRId64
                " to %" PRId64 ", %" PRId64 " runs overlapping, acked %" PRId64 ")",
                dev, own, held, first, top, overlapping, replica_acked(hub, (uint64_t)node));
        }
    }
}

/* The independent model of conflicts: a map from field to the stamp and
 * value standing at the hub, replayed from the hub's journal. */
struct cell {
    char *key;
    uint64_t hlc, node;
    char *value;
};

static struct cell *cells;
static size_t ncells, cells_cap;

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

static struct cell *cell_find(const char *key, int create)
{
    if (create && (ncells + 1) * 10 > cells_cap * 7) {
        size_t cap = cells_cap ? cells_cap * 2 : 1024;
        struct cell *grown = calloc(cap, sizeof *grown);
        for (size_t i = 0; i < cells_cap; i++) {
            if (cells[i].key) {
                size_t j = fnv(cells[i].key) % cap;
                while (grown[j].key) {
                    j = (j + 1) % cap;
                }
                grown[j] = cells[i];
            }
        }
        free(cells);
        cells = grown;
        cells_cap = cap;
    }
    if (!cells_cap) {
        return NULL;
    }
    size_t j = fnv(key) % cells_cap;
    while (cells[j].key) {
        if (!strcmp(cells[j].key, key)) {
            return &cells[j];
        }
        j = (j + 1) % cells_cap;
    }
    if (!create) {
        return NULL;
    }
    cells[j].key = strdup(key);
    ncells++;
    return &cells[j];
}

static char *value_text(const struct sync_value *v)
{
    char buf[64];
    switch (v->type) {
    case SYNC_TEXT: {
        size_t n = strlen(v->s) + 3;
        char *s = malloc(n);
        snprintf(s, n, "t:%s", v->s);
        return s;
    }
    case SYNC_INT:
        snprintf(buf, sizeof buf, "i:%" PRId64, v->i);
        break;
    case SYNC_REAL:
        snprintf(buf, sizeof buf, "r:%.17g", v->r);
        break;
    case SYNC_NULL:
        snprintf(buf, sizeof buf, "n");
        break;
    }
    return strdup(buf);
}

struct arrival {
    uint64_t node;
    int64_t seq;
    char col[64];
};

static int arrival_cmp(const void *pa, const void *pb)
{
    const struct arrival *a = pa, *b = pb;
    if (a->node != b->node) {
        return a->node < b->node ? -1 : 1;
    }
    if (a->seq != b->seq) {
        return a->seq < b->seq ? -1 : 1;
    }
    return strcmp(a->col, b->col);
}

static size_t model_conflicts(struct arrival **out)
{
    size_t n = 0, cap = 64;
    struct arrival *list = malloc(cap * sizeof *list);
    int64_t cursor = 0;
    for (int more = 1; more;) {
        struct delta *d = delta_new(DELTA_REPLY);
        check(replica_changes_since(hub, cursor, NULL, 0, 1 << 20, d), "read hub journal");
        for (size_t i = 0; i < d->nchanges; i++) {
            const struct change *c = &d->changes[i];
            const struct schema_table *table = &schema->tables[c->table];
            if (table->kind == SCHEMA_APPEND) {
                continue;
            }
            for (size_t k = 0; k < c->nfields; k++) {
                const struct change_field *f = &c->fields[k];
                const char *col =
                    f->column == DELTA_DELETED ? "deleted" : table->columns[f->column].name;
                if (f->column != DELTA_DELETED && table->columns[f->column].merge != SCHEMA_LWW) {
                    continue;
                }
                char key[160];
                snprintf(key, sizeof key, "%s/%s/%s", table->name, c->id, col);
                struct cell *cell = cell_find(key, 1);
                char *incoming = value_text(&f->value);
                int standing = cell->value != NULL;
                const char *standing_value = standing                     ? cell->value
                                             : f->column == DELTA_DELETED ? "i:0"
                                                                          : "n";
                int prev_set = f->prev_hlc || f->prev_node;
                int same = prev_set == standing &&
                           (!standing || (f->prev_hlc == cell->hlc && f->prev_node == cell->node));
                if (!same && strcmp(standing_value, incoming) != 0) {
                    if (n == cap) {
                        cap *= 2;
                        list = realloc(list, cap * sizeof *list);
                    }
                    list[n] = (struct arrival){c->node, c->seq, ""};
                    snprintf(list[n].col, sizeof list[n].col, "%s", col);
                    n++;
                }
                int wins = !standing || c->hlc > cell->hlc ||
                           (c->hlc == cell->hlc && c->node > cell->node);
                if (wins) {
                    free(cell->value);
                    cell->value = incoming;
                    cell->hlc = c->hlc;
                    cell->node = c->node;
                } else {
                    free(incoming);
                }
            }
        }
        cursor = d->cursor;
        more = d->more;
        delta_free(d);
    }
    *out = list;
    return n;
}

static void check_conflicts(size_t *count)
{
    struct arrival *expected;
    size_t nexpected = model_conflicts(&expected);
    sqlite3_stmt *st;
    /* The change that raised a conflict is at log_pos: in the run with the
     * greatest pos up to it, whose k-th change has seq + k. A log_pos past
     * the end of that run names no change, and the conflict drops out of
     * the list (and so differs from the model). */
    sqlite3_prepare_v2(replica_db(hub),
                       "SELECT r.node, r.seq + c.log_pos - r.pos, c.col FROM hl_conflict c"
                       " JOIN hl_run r ON r.pos = (SELECT max(pos) FROM hl_run"
                       " WHERE pos <= c.log_pos) AND c.log_pos < r.pos + r.n",
                       -1, &st, NULL);
    size_t n = 0, cap = 64;
    struct arrival *got = malloc(cap * sizeof *got);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap *= 2;
            got = realloc(got, cap * sizeof *got);
        }
        got[n] = (struct arrival){(uint64_t)sqlite3_column_int64(st, 0),
                                  sqlite3_column_int64(st, 1), ""};
        snprintf(got[n].col, sizeof got[n].col, "%s", (const char *)sqlite3_column_text(st, 2));
        n++;
    }
    sqlite3_finalize(st);
    qsort(expected, nexpected, sizeof *expected, arrival_cmp);
    qsort(got, n, sizeof *got, arrival_cmp);
    for (size_t i = 0; i < n || i < nexpected; i++) {
        if (i >= n || i >= nexpected || arrival_cmp(&got[i], &expected[i]) != 0) {
            const struct arrival *a = i < n ? &got[i] : &expected[i];
            die("conflict records differ from the model (%zu recorded, %zu expected); first"
                " difference: node %016" PRIx64 " seq %" PRId64 " field %s",
                n, nexpected, a->node, a->seq, a->col);
        }
    }
    if (nexpected == 0) {
        die("no concurrent edits happened: the run tested nothing about conflicts");
    }
    *count = n;
    free(expected);
    free(got);
}

/* ---- main ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sim [--ops N] [--seed S] [--dir DIR] [--keep]\n"
            "  Runs N random operations (default 20000) on a hub and %d devices over a\n"
            "  faulty network, then checks convergence. Prints the seed to replay.\n",
            NDEVICES);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) {
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t ops = 20000;
    int keep = 0, have_seed = 0;
    const char *base = NULL;
    static const struct option options[] = {
        {"ops", required_argument, NULL, 'o'}, {"seed", required_argument, NULL, 's'},
        {"dir", required_argument, NULL, 'd'}, {"keep", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "o:s:d:kh", options, NULL)) != -1) {
        switch (opt) {
        case 'o':
            if (parse_u64(optarg, &ops) != 0 || ops == 0) {
                fprintf(stderr, "sim: --ops wants a positive number\n");
                return 2;
            }
            break;
        case 's':
            if (parse_u64(optarg, &seed) != 0) {
                fprintf(stderr, "sim: --seed wants a number\n");
                return 2;
            }
            have_seed = 1;
            break;
        case 'd':
            base = optarg;
            break;
        case 'k':
            keep = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!have_seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
    }
    rng_state = seed ? seed : 1;
    snprintf(dir, sizeof dir, "%s/hamlet-sim-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "sim: cannot make a directory under %s: %s\n", base ? base : "/tmp",
                strerror(errno));
        return 1;
    }
    printf("sim: seed %" PRIu64 ", %" PRIu64 " operations, %d devices, files in %s\n", seed, ops,
           NDEVICES, dir);
    fflush(stdout);

    schema = ledger_schema_get();
    envelope_limits_default(&limits);
    hub = open_replica("hub", 1, 0x4855420000000001ULL, &hub_skew);
    for (int dev = 0; dev < NDEVICES; dev++) {
        char name[32];
        snprintf(name, sizeof name, "device%d", dev);
        devices[dev].village = device_village[dev];
        devices[dev].skew = device_skew[dev];
        devices[dev].r =
            open_replica(name, 0, 0x1000 + (uint64_t)dev * 0x1111111111ULL, &devices[dev].skew);
    }

    long syncs = 0, hub_writes = 0;
    for (step_no = 0; (uint64_t)step_no < ops; step_no++) {
        sim_ms += below(5000);
        deliver_due(0);
        unsigned p = below(100);
        if (p < 70) {
            int dev = (int)below(NDEVICES);
            local_write(devices[dev].r, villages[devices[dev].village]);
        } else if (p < 74) {
            /* The township edits a case of any village. */
            char id[UUID7_STRLEN + 1];
            const char *village = villages[below(NVILLAGES)];
            if (pick_row(hub, "cases", village, id)) {
                const char *cols[] = {"status"};
                struct sync_value v = text(statuses[below(7)]);
                check(replica_put(hub, "cases", id, village, 1, cols, &v, NULL), "hub edit");
                hub_writes++;
            }
        } else {
            random_sync((int)below(NDEVICES));
            syncs++;
        }
    }
    /* Whatever is still on the way arrives; then every laptop syncs on a
     * good link, twice round so that each sees the others' last changes. */
    deliver_due(1);
    for (int pass = 0; pass < 2; pass++) {
        for (int dev = 0; dev < NDEVICES; dev++) {
            full_sync(dev);
        }
    }

    check_exports();
    check_nothing_lost();
    size_t conflicts;
    check_conflicts(&conflicts);
    printf("sim: %ld writes (%ld at the hub), %ld syncs; %ld messages dropped, %ld duplicated,"
           " %ld delayed; %zu conflicts, each recorded once\n",
           writes_made, hub_writes, syncs, dropped, duplicated, delayed, conflicts);
    printf("sim: all %d devices converged with the hub (seed %" PRIu64 ")\n", NDEVICES, seed);

    replica_close(hub);
    for (int dev = 0; dev < NDEVICES; dev++) {
        replica_close(devices[dev].r);
    }
    for (size_t i = 0; i < cells_cap; i++) {
        free(cells[i].key);
        free(cells[i].value);
    }
    free(cells);
    if (!keep) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "sim: could not remove %s\n", dir);
        }
    }
    return 0;
}
