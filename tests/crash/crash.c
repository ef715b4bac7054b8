/* SPDX-License-Identifier: MIT */
/*
 * crash.c - the crash test of the replica store (DESIGN.md rule 2).
 *
 * A village laptop loses power while it writes; the ledger must come back
 * with every write either whole, with its journal entry, or absent. This
 * program forks a child that writes to a ledger replica as fast as it can
 * (new cases with long Chinese text, edits, events, deletions, grouped
 * writes, batches "received" from other nodes) and tells the parent over a
 * pipe what it committed. The parent kills the child with SIGKILL at a
 * random moment, reopens the file and checks it: SQLite's integrity check;
 * that replaying the journal into an empty replica gives byte for byte the
 * same export as the rows; that stamps and journal refer to real rows, that
 * every row has its stamps and they decode to fields of its table; and
 * that everything reported as committed or acknowledged is still there.
 * The next round goes on with the same file.
 *
 *   crash [--kills N] [--dir DIR] [--seed S]
 */
#include "delta.h"
#include "hlc.h"
#include "ledger_schema.h"
#include "replica.h"
#include "stamps.h"
#include "sync_error.h"
#include "uuid7.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VILLAGE          "杨柳村"
#define NFOREIGN         2                 /* fake nodes whose batches the child applies */
#define KILL_MIN_MS      1                 /* the child lives this long after starting, */
#define KILL_MAX_MS      60                /* up to this */
#define START_TIMEOUT_MS 60000             /* the child must have opened the file by then */
#define DB_MAX_BYTES     (20LL << 20)      /* a bigger file is replaced by a fresh one */
#define REPLAY_BUDGET_MS 200               /* ... and so is one whose replay took longer */
#define TEXT_MAX         (6u << 10)        /* longest text the child writes */
#define PAGE_BYTES       ((size_t)1 << 20) /* journal bytes per replay page */
#define PROGRESS_EVERY   50
#define CHILD_ALARM_S    120 /* a child the parent forgot dies anyway */
#define DB_NAME          "crash.db"
#define MEDIATOR_ID      "0190a3c0-7d2e-7000-8000-00000000a001"

/* ---- what the child tells the parent ---- */

enum report_kind {
    REPORT_START = 1, /* the replica is open */
    REPORT_COMMIT,    /* a unit of work committed */
    REPORT_ERROR,     /* an unexpected error; the child exits */
};

/* One record on the pipe. Smaller than PIPE_BUF, so each write is atomic. */
struct report {
    int32_t kind;
    int32_t code;    /* REPORT_ERROR: the SYNC_E_* code */
    int64_t own_seq; /* replica_own_seq() after the unit */
    uint64_t node;   /* a foreign node whose batch the unit applied, or 0 */
    int64_t acked;   /* ... and the seq acknowledged for it */
    char what[240];  /* REPORT_ERROR: the call that failed and SQLite's words */
};

/* ---- small helpers ---- */

/* splitmix64: small, fast and good enough to pick writes. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *state, uint64_t n)
{
    return n ? rng_next(state) % n : 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write all of buf, through EINTR and short writes. 0 or -1. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A growing byte buffer, for exports. */
struct buf {
    char *data;
    size_t len, cap;
};

static int buf_write(void *ctx, const char *line, size_t len)
{
    struct buf *b = ctx;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + len) {
            cap *= 2;
        }
        char *grown = realloc(b->data, cap);
        if (!grown) {
            return SYNC_E_NOMEM;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, line, len);
    b->len += len;
    return 0;
}

/* How many bytes of b from at to show: up to the end of the line, at most
 * 240. */
static int excerpt(const struct buf *b, size_t at)
{
    size_t n = 0;
    while (at + n < b->len && n < 240 && b->data[at + n] != '\n') {
        n++;
    }
    while (n > 0 && at + n < b->len && ((unsigned char)b->data[at + n] & 0xc0) == 0x80) {
        n--; /* end on a whole character */
    }
    return (int)n;
}

/* ---- the child: a writer that never stops ---- */

static const char *const phrases[] = {
    "村民张某与邻居李某因宅基地界址发生争议，",
    "双方各执一词，互不相让，",
    "调解员多次上门了解情况，",
    "经实地丈量并查阅一九八四年的土地证，",
    "邻里关系一度十分紧张，",
    "当事人情绪激动，要求村委会主持公道。",
    "山林边界以老界石和山脊分水线为准，",
    "征地补偿款在兄弟三人之间分配不均，",
    "家中老人的赡养费用由子女按月分担，",
    "灌溉用水的先后次序引发口角，",
    "承包地流转合同到期后未及时续签，",
    "养殖场气味影响周边住户生活，",
    "拆迁安置房的楼层分配存在异议，",
    "婚姻家庭纠纷经多次劝说后趋于缓和，",
    "务工工资被拖欠三个月，涉及十二名村民，",
    "双方同意在司法所的见证下签订协议，",
    "约定于下月十五日前履行完毕。",
    "调解委员会将于一周后回访。",
};

static const char *const statuses[] = {
    "registered", "accepted", "mediating", "agreement", "failed", "closed",
};

static const char *const kinds[] = {"dispute", "petition", "screening"};
static const char *const channels[] = {"visit", "letter", "call", "online", "referral"};
static const char *const categories[] = {
    "land", "forest_boundary", "demolition_compensation", "family", "neighbour", "wages",
};
static const char *const event_kinds[] = {"register", "inspection", "visit", "phone", "session"};

#define COUNT(array)   (sizeof(array) / sizeof((array)[0]))
#define PICK(w, array) ((array)[rng_below(&(w)->rng, COUNT(array))])

struct writer {
    struct replica *replica;
    const struct schema *schema;
    int fd;
    uint64_t rng;
    const uint64_t *foreign;       /* NFOREIGN node ids */
    char (*ids)[UUID7_STRLEN + 1]; /* cases the child knows of */
    size_t nids, cap;
    unsigned serial; /* makes every text new, so every edit changes it */
    char text[TEXT_MAX + 256];
    char title[512];
    char stamp[32]; /* RFC 3339, now */
};

/* Report an error to the parent and stop. */
static void child_fail(struct writer *w, const char *call, int code)
{
    struct report rep = {.kind = REPORT_ERROR, .code = code};
    snprintf(rep.what, sizeof rep.what, "%s: %s", call,
             code == SYNC_E_DB && w->replica ? replica_errmsg(w->replica) : "");
    (void)write_all(w->fd, &rep, sizeof rep);
    _exit(3);
}

static void send_report(struct writer *w, const struct report *rep)
{
    if (write_all(w->fd, rep, sizeof *rep) != 0) {
        _exit(4); /* the parent is gone */
    }
}

/* Chinese text of a random size up to max bytes into out; returns out. */
static const char *make_text(struct writer *w, char *out, size_t out_len, size_t max)
{
    /* Mostly short, sometimes several pages long. */
    size_t a = (size_t)rng_below(&w->rng, max + 1), b = (size_t)rng_below(&w->rng, max + 1);
    size_t target = a * b / (max ? max : 1);
    int n = snprintf(out, out_len, "第%u稿：", ++w->serial);
    size_t len = n > 0 ? (size_t)n : 0;
    while (len < target) {
        const char *p = PICK(w, phrases);
        size_t plen = strlen(p);
        if (len + plen + 1 > out_len) {
            break;
        }
        memcpy(out + len, p, plen);
        len += plen;
    }
    out[len] = '\0';
    return out;
}

static void update_stamp(struct writer *w)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(w->stamp, sizeof w->stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static struct sync_value text_value(const char *s)
{
    return (struct sync_value){.type = SYNC_TEXT, .s = s};
}

static struct sync_value int_value(int64_t i)
{
    return (struct sync_value){.type = SYNC_INT, .i = i};
}

static void remember(struct writer *w, const char *id)
{
    if (w->nids == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        void *grown = realloc(w->ids, cap * sizeof *w->ids);
        if (!grown) {
            child_fail(w, "realloc", SYNC_E_NOMEM);
        }
        w->ids = grown;
        w->cap = cap;
    }
    memcpy(w->ids[w->nids++], id, UUID7_STRLEN + 1);
}

/* A known case, or NULL when there is none yet. */
static const char *some_case(struct writer *w)
{
    return w->nids ? w->ids[rng_below(&w->rng, w->nids)] : NULL;
}

static void new_id(struct writer *w, char id[UUID7_STRLEN + 1])
{
    int rc = uuid7_now(id);
    if (rc != 0) {
        child_fail(w, "uuid7_now", rc);
    }
}

static void write_event(struct writer *w, const char *case_id)
{
    char id[UUID7_STRLEN + 1];
    new_id(w, id);
    const char *columns[] = {"case_id", "date", "kind", "note", "recorded_at"};
    char date[16];
    memcpy(date, w->stamp, 10);
    date[10] = '\0';
    struct sync_value values[] = {
        text_value(case_id),
        text_value(date),
        text_value(PICK(w, event_kinds)),
        text_value(make_text(w, w->text, sizeof w->text, TEXT_MAX / 2)),
        text_value(w->stamp),
    };
    int rc = replica_append(w->replica, "events", id, VILLAGE, COUNT(columns), columns, values);
    if (rc != 0) {
        child_fail(w, "replica_append", rc);
    }
}

static void new_case(struct writer *w)
{
    char id[UUID7_STRLEN + 1], case_no[96];
    new_id(w, id);
    snprintf(case_no, sizeof case_no, "（2026）杨柳调字第%04u号", (unsigned)(w->nids % 10000));
    const char *columns[] = {"case_no",     "kind",       "channel",     "category",
                             "severity",    "status",     "level",       "title",
                             "facts",       "claims",     "mediator_id", "mediator_name",
                             "received_by", "created_at", "updated_at"};
    struct sync_value values[] = {
        text_value(case_no),
        text_value(PICK(w, kinds)),
        text_value(PICK(w, channels)),
        text_value(PICK(w, categories)),
        int_value(1 + (int64_t)rng_below(&w->rng, 3)),
        text_value("registered"),
        int_value(1 + (int64_t)rng_below(&w->rng, 7)),
        text_value(make_text(w, w->title, sizeof w->title, 120)),
        text_value(make_text(w, w->text, sizeof w->text, TEXT_MAX)),
        text_value("请求依法调解，恢复原状并赔偿损失。"),
        text_value(MEDIATOR_ID),
        text_value("王调解员"),
        text_value("村委会值班员刘某"),
        text_value(w->stamp),
        text_value(w->stamp),
    };
    int rc = replica_put(w->replica, "cases", id, VILLAGE, COUNT(columns), columns, values, NULL);
    if (rc != 0) {
        child_fail(w, "replica_put (new case)", rc);
    }
    remember(w, id);
    if (rng_below(&w->rng, 2) == 0) {
        write_event(w, id);
    }
}

static void edit_case(struct writer *w)
{
    const char *id = some_case(w);
    if (!id) {
        new_case(w);
        return;
    }
    const char *columns[4];
    struct sync_value values[4];
    size_t n = 0;
    columns[n] = "updated_at";
    values[n++] = text_value(w->stamp);
    if (rng_below(&w->rng, 2) == 0) {
        columns[n] = "status";
        values[n++] = text_value(PICK(w, statuses));
    }
    if (rng_below(&w->rng, 2) == 0) {
        columns[n] = "title";
        values[n++] = text_value(make_text(w, w->title, sizeof w->title, 120));
    }
    if (n == 1 || rng_below(&w->rng, 3) != 0) {
        columns[n] = "facts";
        values[n++] = text_value(make_text(w, w->text, sizeof w->text, TEXT_MAX));
    }
    int rc = replica_put(w->replica, "cases", id, VILLAGE, n, columns, values, NULL);
    if (rc != 0) {
        child_fail(w, "replica_put (edit)", rc);
    }
}

static void add_event(struct writer *w)
{
    const char *id = some_case(w);
    if (!id) {
        new_case(w);
        return;
    }
    write_event(w, id);
}

static void delete_case(struct writer *w)
{
    const char *id = some_case(w);
    if (!id) {
        return;
    }
    int rc = replica_delete(w->replica, "cases", id);
    if (rc != 0) {
        child_fail(w, "replica_delete", rc);
    }
}

/* A contact and the party that ties them to a case. */
static void add_party(struct writer *w)
{
    const char *case_id = some_case(w);
    if (!case_id) {
        return;
    }
    char contact[UUID7_STRLEN + 1], party[UUID7_STRLEN + 1];
    new_id(w, contact);
    new_id(w, party);
    const char *contact_columns[] = {"name", "phone", "address", "notes"};
    struct sync_value contact_values[] = {
        text_value("赵某某"),
        text_value("13800000000"),
        text_value("杨柳村三组"),
        text_value(make_text(w, w->text, sizeof w->text, TEXT_MAX / 4)),
    };
    const char *party_columns[] = {"case_id", "contact_id", "role", "position"};
    struct sync_value party_values[] = {
        text_value(case_id),
        text_value(contact),
        text_value("申请人"),
        int_value((int64_t)rng_below(&w->rng, 4)),
    };
    int rc = replica_put(w->replica, "contacts", contact, VILLAGE, COUNT(contact_columns),
                         contact_columns, contact_values, NULL);
    if (rc == 0) {
        rc = replica_put(w->replica, "case_parties", party, VILLAGE, COUNT(party_columns),
                         party_columns, party_values, NULL);
    }
    if (rc != 0) {
        child_fail(w, "replica_put (party)", rc);
    }
}

/* Fill one field of a hand-made change. */
static void set_field(struct writer *w, struct delta *d, struct change *c, size_t i,
                      const char *column, struct sync_value v)
{
    c->fields[i].column = schema_column(&w->schema->tables[c->table], column);
    if (c->fields[i].column < 0) {
        child_fail(w, "schema_column", SYNC_E_UNKNOWN_COLUMN);
    }
    if (v.type == SYNC_TEXT) {
        if (delta_set_text(d, &c->fields[i].value, v.s) != 0) {
            child_fail(w, "delta_set_text", SYNC_E_NOMEM);
        }
    } else {
        c->fields[i].value = v;
    }
}

/* A batch "pushed" by another node of the village: new cases, edits and
 * deletions of known ones, events; stamps a little in the past or now, so
 * that some edits win and some lose. Applies it and fills the report. */
static void apply_foreign(struct writer *w, struct report *rep)
{
    size_t k = (size_t)rng_below(&w->rng, NFOREIGN);
    uint64_t node = w->foreign[k];
    int64_t acked = replica_acked(w->replica, node);
    if (acked < 0) {
        child_fail(w, "replica_acked", (int)acked);
    }
    struct delta *d = delta_new(DELTA_PUSH);
    if (!d) {
        child_fail(w, "delta_new", SYNC_E_NOMEM);
    }
    d->node = node;
    snprintf(d->part, sizeof d->part, "%s", VILLAGE);
    size_t n = 1 + (size_t)rng_below(&w->rng, 6);
    int cases = schema_table(w->schema, "cases");
    int events = schema_table(w->schema, "events");
    for (size_t i = 0; i < n; i++) {
        const char *known = some_case(w);
        unsigned what = (unsigned)rng_below(&w->rng, 10);
        if (!known) {
            what = 0;
        }
        size_t nfields = what < 4 ? 4 : what < 7 ? 2 : what < 9 ? 5 : 1;
        struct change *c = delta_add_change(d, nfields);
        if (!c) {
            child_fail(w, "delta_add_change", SYNC_E_NOMEM);
        }
        c->node = node;
        c->seq = acked + 1 + (int64_t)i;
        c->hlc = HLC_STAMP(wall_ms() - (int64_t)rng_below(&w->rng, 3000), i);
        snprintf(c->part, sizeof c->part, "%s", VILLAGE);
        if (what < 4) {
            c->op = CHANGE_PUT;
            c->table = cases;
            new_id(w, c->id);
            set_field(w, d, c, 0, "status", text_value("registered"));
            set_field(w, d, c, 1, "title",
                      text_value(make_text(w, w->title, sizeof w->title, 120)));
            set_field(w, d, c, 2, "facts",
                      text_value(make_text(w, w->text, sizeof w->text, TEXT_MAX)));
            set_field(w, d, c, 3, "created_at", text_value(w->stamp));
            remember(w, c->id);
        } else if (what < 7) {
            c->op = CHANGE_PUT;
            c->table = cases;
            memcpy(c->id, known, UUID7_STRLEN + 1);
            set_field(w, d, c, 0, "status", text_value(PICK(w, statuses)));
            set_field(w, d, c, 1, "facts",
                      text_value(make_text(w, w->text, sizeof w->text, TEXT_MAX)));
        } else if (what < 9) {
            c->op = CHANGE_APPEND;
            c->table = events;
            new_id(w, c->id);
            set_field(w, d, c, 0, "case_id", text_value(known));
            set_field(w, d, c, 1, "date", text_value("2026-01-15"));
            set_field(w, d, c, 2, "kind", text_value("phone"));
            set_field(w, d, c, 3, "note",
                      text_value(make_text(w, w->text, sizeof w->text, TEXT_MAX / 2)));
            set_field(w, d, c, 4, "recorded_at", text_value(w->stamp));
        } else {
            c->op = CHANGE_DELETE;
            c->table = cases;
            memcpy(c->id, known, UUID7_STRLEN + 1);
            c->fields[0].column = DELTA_DELETED;
            c->fields[0].value = int_value(1);
        }
    }
    struct replica_apply_opts opts = {.sender = node, .part = VILLAGE, .contiguous = 1};
    struct replica_apply_result result;
    int rc = replica_apply(w->replica, d, &opts, &result, NULL);
    delta_free(d);
    if (rc != 0) {
        child_fail(w, "replica_apply", rc);
    }
    if (result.acked != acked + (int64_t)n || result.applied != n || result.refused != 0) {
        child_fail(w, "replica_apply did not take the whole batch", SYNC_E_STATE);
    }
    rep->node = node;
    rep->acked = result.acked;
}

/* One write outside a group. */
static void single_write(struct writer *w, struct report *rep, int allow_foreign)
{
    unsigned choice = (unsigned)rng_below(&w->rng, 100);
    if (choice < 25) {
        new_case(w);
    } else if (choice < 55) {
        edit_case(w);
    } else if (choice < 72) {
        add_event(w);
    } else if (choice < 78) {
        delete_case(w);
    } else if (choice < 86 || !allow_foreign) {
        add_party(w);
    } else {
        apply_foreign(w, rep);
    }
}

/* One unit of work: a single write, or a group in one transaction (which
 * is sometimes rolled back on purpose); reported to the parent once it has
 * committed. */
static void write_unit(struct writer *w)
{
    struct report rep = {.kind = REPORT_COMMIT};
    update_stamp(w);
    if (rng_below(&w->rng, 8) != 0) {
        single_write(w, &rep, 1);
    } else {
        size_t known = w->nids;
        int rc = replica_begin(w->replica);
        if (rc != 0) {
            child_fail(w, "replica_begin", rc);
        }
        size_t n = 2 + (size_t)rng_below(&w->rng, 5);
        for (size_t i = 0; i < n; i++) {
            single_write(w, &rep, rep.node == 0);
        }
        if (rng_below(&w->rng, 10) == 0) {
            replica_rollback(w->replica);
            w->nids = known;
            return;
        }
        if ((rc = replica_commit(w->replica)) != 0) {
            child_fail(w, "replica_commit", rc);
        }
    }
    rep.own_seq = replica_own_seq(w->replica);
    send_report(w, &rep);
}

/* The cases already in the file, so that edits reach old records too. */
static void load_cases(struct writer *w)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(replica_db(w->replica),
                           "SELECT id FROM cases ORDER BY random() LIMIT 512", -1, &st,
                           NULL) != SQLITE_OK) {
        child_fail(w, "load cases", SYNC_E_DB);
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (id && uuid7_valid(id)) {
            remember(w, id);
        }
    }
    sqlite3_finalize(st);
}

static void child_main(const char *path, int fd, uint64_t seed, const uint64_t *foreign)
{
    signal(SIGPIPE, SIG_IGN);
    alarm(CHILD_ALARM_S);
    struct writer *w = calloc(1, sizeof *w);
    if (!w) {
        _exit(5);
    }
    w->fd = fd;
    w->rng = seed;
    w->foreign = foreign;
    struct replica_config config;
    ledger_schema_config(&config, 0);
    w->schema = config.schema;
    char why[256];
    int rc = replica_open(path, &config, &w->replica, why, sizeof why);
    if (rc != 0) {
        struct report rep = {.kind = REPORT_ERROR, .code = rc};
        snprintf(rep.what, sizeof rep.what, "replica_open: %.200s", why);
        (void)write_all(fd, &rep, sizeof rep);
        _exit(3);
    }
    load_cases(w);
    struct report start = {.kind = REPORT_START, .own_seq = replica_own_seq(w->replica)};
    send_report(w, &start);
    for (;;) {
        write_unit(w);
    }
}

/* ---- the parent: kill, reopen, check ---- */

struct options {
    long kills;
    const char *dir;
    uint64_t seed;
};

/* What the parent knows must be in the current file. */
struct expect {
    uint64_t node;              /* the file's node id, once seen */
    int64_t own_seq;            /* own changes reported committed */
    uint64_t foreign[NFOREIGN]; /* fake nodes of this file */
    int64_t acked[NFOREIGN];    /* their seqs reported acknowledged */
};

struct totals {
    long units;   /* units the children reported committed */
    long changes; /* journal entries replayed at the last check */
    long files;   /* files started */
};

struct run {
    struct options opt;
    uint64_t rng;
    char path[PATH_MAX];
    struct expect expect;
    struct totals totals;
    long round;
    int64_t replay_ms;         /* how long the last replay and export took */
    struct buf mine, replayed; /* exports, kept to spare allocations */
};

static void fresh_expect(struct run *run)
{
    memset(&run->expect, 0, sizeof run->expect);
    for (size_t i = 0; i < NFOREIGN; i++) {
        uint64_t node = 0;
        while (node == 0) {
            node = rng_next(&run->rng) >> 1; /* positive, as SQLite stores it */
        }
        run->expect.foreign[i] = node;
    }
    run->totals.files++;
}

/* Remove the file and its WAL and shared-memory companions. */
static int remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < COUNT(suffixes); i++) {
        char name[PATH_MAX + 16];
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        if (unlink(name) != 0 && errno != ENOENT) {
            fprintf(stderr, "crash: cannot remove %s: %s\n", name, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static long long db_bytes(const char *path)
{
    long long total = 0;
    static const char *const suffixes[] = {"", "-wal"};
    for (size_t i = 0; i < COUNT(suffixes); i++) {
        char name[PATH_MAX + 16];
        struct stat st;
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        if (stat(name, &st) == 0) {
            total += (long long)st.st_size;
        }
    }
    return total;
}

struct stamp_check {
    const struct schema_table *table;
    size_t fields, unknown;
};

/* One field of a record's packed stamps: a column, or the tombstone of a
 * record table, or the one stamp of an appended row. */
static int check_stamp(void *ctx, const struct stamps_field *f)
{
    struct stamp_check *c = ctx;
    char name[STAMPS_NAME_MAX + 1];
    memcpy(name, f->name, f->name_len);
    name[f->name_len] = '\0';
    int known = c->table->kind == SCHEMA_RECORD
                    ? !strcmp(name, "deleted") || schema_column(c->table, name) >= 0
                    : !strcmp(name, "*");
    c->fields++;
    c->unknown += !known;
    return 0;
}

/* A record's history (replica_history()) being checked: how many changes
 * it gave, and how many of them were of another record. */
struct history_check {
    int table;
    const char *id;
    int64_t changes, foreign;
};

static int check_history(void *ctx, const struct replica_history_entry *e)
{
    struct history_check *h = ctx;
    h->changes++;
    h->foreign += e->change->table != h->table || strcmp(e->change->id, h->id) != 0;
    return 0;
}

static int fail_check(struct run *run, int check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_check(struct run *run, int check, const char *fmt, ...)
{
    static const char *const names[] = {
        "", "the child ran", "integrity_check", "journal and rows agree", "durability",
    };
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    fprintf(stderr, "crash: round %ld: check %d (%s) failed: %s\n", run->round, check, names[check],
            detail);
    fprintf(stderr, "crash: repeat with --seed %" PRIu64 "; the file is kept at %s\n",
            run->opt.seed, run->path);
    return -1;
}

/* One integer from a query with one optional text and one integer
 * parameter. */
static int query_int(sqlite3 *db, const char *sql, const char *text, int64_t number, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    if (text) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    }
    if (sqlite3_bind_parameter_count(st) >= 2) {
        sqlite3_bind_int64(st, 2, number);
    }
    int rc = SYNC_E_DB;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static int check_integrity(struct run *run, struct replica *r)
{
    sqlite3_stmt *st = NULL;
    sqlite3 *db = replica_db(r);
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
        return fail_check(run, 2, "%s", sqlite3_errmsg(db));
    }
    int step = sqlite3_step(st);
    const char *answer = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    int rc = 0;
    if (!answer || strcmp(answer, "ok") != 0) {
        rc = fail_check(run, 2, "%s", answer ? answer : sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return rc;
}

/* Replay the whole journal of r into an empty replica and compare the
 * exports; then look for stamps without rows, rows without stamps or
 * journal, stamps that do not decode, and records' histories that name
 * changes not of the record or leave a change out. */
static int check_journal(struct run *run, struct replica *r, const struct replica_config *config)
{
    struct replica *fresh = NULL;
    struct delta *page = NULL;
    struct buf *mine = &run->mine, *replayed = &run->replayed;
    mine->len = replayed->len = 0;
    char why[256];
    int rc = replica_open(":memory:", config, &fresh, why, sizeof why);
    if (rc != 0) {
        rc = fail_check(run, 3, "cannot open a replica in memory: %s", why);
        goto done;
    }
    int64_t began = now_ms();
    int64_t cursor = 0, applied = 0;
    int more = 1;
    while (more) {
        if (!(page = delta_new(DELTA_REPLY))) {
            rc = fail_check(run, 3, "out of memory");
            goto done;
        }
        if ((rc = replica_changes_since(r, cursor, NULL, 0, PAGE_BYTES, page)) != 0) {
            rc = fail_check(run, 3, "replica_changes_since: %s (%s)", sync_strerror(rc),
                            replica_errmsg(r));
            goto done;
        }
        struct replica_apply_opts opts = {.sender = 0, .part = NULL, .contiguous = 0};
        struct replica_apply_result result;
        if ((rc = replica_apply(fresh, page, &opts, &result, NULL)) != 0) {
            rc = fail_check(run, 3, "replaying: replica_apply: %s (%s)", sync_strerror(rc),
                            replica_errmsg(fresh));
            goto done;
        }
        if (result.applied != page->nchanges) {
            rc = fail_check(run, 3,
                            "replaying %zu journal entries applied %zu (%zu duplicates,"
                            " %zu refused)",
                            page->nchanges, result.applied, result.duplicates, result.refused);
            goto done;
        }
        if (page->more && page->cursor <= cursor) {
            rc = fail_check(run, 3, "replica_changes_since did not move past %" PRId64, cursor);
            goto done;
        }
        applied += (int64_t)result.applied;
        cursor = page->cursor;
        more = page->more;
        delta_free(page);
        page = NULL;
    }
    run->totals.changes = (long)applied;

    sqlite3 *db = replica_db(r);
    int64_t logged = 0;
    if ((rc = query_int(db, "SELECT coalesce(sum(n), 0) FROM hl_run", NULL, 0, &logged)) != 0) {
        rc = fail_check(run, 3, "counting the journal: %s", sqlite3_errmsg(db));
        goto done;
    }
    if (logged != applied) {
        rc = fail_check(run, 3, "the journal holds %" PRId64 " entries, %" PRId64 " replayed",
                        logged, applied);
        goto done;
    }
    if ((rc = replica_export(r, NULL, buf_write, mine)) != 0 ||
        (rc = replica_export(fresh, NULL, buf_write, replayed)) != 0) {
        rc = fail_check(run, 3, "replica_export: %s", sync_strerror(rc));
        goto done;
    }
    run->replay_ms = now_ms() - began;
    if (mine->len != replayed->len ||
        (mine->len && memcmp(mine->data, replayed->data, mine->len))) {
        size_t at = 0, line = 1;
        while (at < mine->len && at < replayed->len && mine->data[at] == replayed->data[at]) {
            line += mine->data[at++] == '\n';
        }
        /* Show both from a little before the first difference. */
        size_t start = at;
        while (start > 0 && at - start < 80 && mine->data[start - 1] != '\n') {
            start--;
        }
        while (start < at && ((unsigned char)mine->data[start] & 0xc0) == 0x80) {
            start++; /* not in the middle of a character */
        }
        rc = fail_check(run, 3,
                        "the rows differ from the replayed journal (%zu and %zu bytes of"
                        " export), first at line %zu:\n  rows:    %.*s\n  journal: %.*s",
                        mine->len, replayed->len, line, excerpt(mine, start),
                        mine->data ? mine->data + start : "", excerpt(replayed, start),
                        replayed->data ? replayed->data + start : "");
        goto done;
    }

    /* Every record's stamps and history are in its row (hl_stamps,
     * hl_hist); the table an older engine kept them in stays empty. */
    const struct schema *schema = config->schema;
    int64_t n = 0;
    if ((rc = query_int(db, "SELECT count(*) FROM hl_stamp", NULL, 0, &n)) != 0 || n != 0) {
        rc = fail_check(run, 3, "%" PRId64 " stamps outside their rows%s%s", n, rc ? ": " : "",
                        rc ? sqlite3_errmsg(db) : "");
        goto done;
    }
    int64_t listed = 0;
    for (size_t t = 0; rc == 0 && t < schema->ntables; t++) {
        const char *name = schema->tables[t].name;
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\" WHERE hl_stamps IS NULL", name);
        if ((rc = query_int(db, sql, NULL, 0, &n)) != 0 || n != 0) {
            rc = fail_check(run, 3, "%" PRId64 " rows of %s have no stamps%s%s", n, name,
                            rc ? ": " : "", rc ? sqlite3_errmsg(db) : "");
            goto done;
        }
        /* A record's changes are the positions its history lists; that
         * they are its own is checked below, record by record. */
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\" WHERE coalesce(hl_hist, '') = ''",
                 name);
        if ((rc = query_int(db, sql, NULL, 0, &n)) != 0 || n != 0) {
            rc = fail_check(run, 3, "%" PRId64 " rows of %s have no journal entry%s%s", n, name,
                            rc ? ": " : "", rc ? sqlite3_errmsg(db) : "");
            goto done;
        }
        sqlite3_stmt *st = NULL;
        snprintf(sql, sizeof sql,
                 "SELECT id, hl_stamps, length(hl_hist) - length(replace(hl_hist, ',', '')) + 1"
                 " FROM \"%s\"",
                 name);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            rc = fail_check(run, 3, "%s", sqlite3_errmsg(db));
            goto done;
        }
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
            const char *id = (const char *)sqlite3_column_text(st, 0);
            /* Every packed value decodes, and names fields of its table. */
            struct stamp_check check = {&schema->tables[t], 0, 0};
            int drc = stamps_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                                    check_stamp, &check);
            if (drc != 0 || check.fields == 0) {
                rc = fail_check(run, 3, "the stamps of %s %s are damaged or empty", name,
                                id ? id : "");
            } else if (check.unknown) {
                rc = fail_check(run, 3, "the stamps of %s %s name a field the table lacks", name,
                                id ? id : "");
            }
            if (rc != 0 || !id) {
                continue;
            }
            /* Its history: every position it lists is a change of it. */
            struct history_check history = {(int)t, id, 0, 0};
            int64_t positions = sqlite3_column_int64(st, 2);
            listed += positions;
            int hrc = replica_history(r, name, id, check_history, &history);
            if (hrc != 0) {
                rc = fail_check(run, 3, "the history of %s %s: replica_history: %s (%s)", name, id,
                                sync_strerror(hrc), replica_errmsg(r));
            } else if (history.changes != positions || history.foreign != 0) {
                rc = fail_check(run, 3,
                                "the history of %s %s lists %" PRId64
                                " positions; the journal gives %" PRId64 " changes there, %" PRId64
                                " of other records",
                                name, id, positions, history.changes, history.foreign);
            }
        }
        sqlite3_finalize(st);
    }
    /* Every journaled change is in the history of exactly one record: the
     * histories list as many positions as the runs hold changes, and each
     * position (above) is a change of its record. */
    if (rc == 0 && listed != logged) {
        rc = fail_check(
            run, 3, "the records' histories list %" PRId64 " changes, the journal holds %" PRId64,
            listed, logged);
    }
done:
    delta_free(page);
    replica_close(fresh);
    return rc;
}

/* The changes of node the journal holds, by runs (a run of n changes has
 * seq to seq + n - 1): how many, the first and last seq, and the pairs of
 * runs that share a seq. 0 or SYNC_E_DB. */
static int journal_of_node(sqlite3 *db, uint64_t node, int64_t *count, int64_t *first,
                           int64_t *last, int64_t *overlapping)
{
    int rc = query_int(db, "SELECT coalesce(sum(n), 0) FROM hl_run WHERE node = ?2", NULL,
                       (int64_t)node, count);
    if (rc == 0) {
        rc = query_int(db, "SELECT coalesce(min(seq), 0) FROM hl_run WHERE node = ?2", NULL,
                       (int64_t)node, first);
    }
    if (rc == 0) {
        rc = query_int(db, "SELECT coalesce(max(seq + n - 1), 0) FROM hl_run WHERE node = ?2", NULL,
                       (int64_t)node, last);
    }
    if (rc == 0) {
        rc = query_int(db,
                       "SELECT count(*) FROM hl_run a JOIN hl_run b ON b.node = a.node"
                       " AND b.pos <> a.pos AND b.seq BETWEEN a.seq AND a.seq + a.n - 1"
                       " WHERE a.node = ?2",
                       NULL, (int64_t)node, overlapping);
    }
    return rc;
}

/* Everything reported committed is there; the sequence has no holes. */
static int check_durable(struct run *run, struct replica *r)
{
    struct expect *ex = &run->expect;
    sqlite3 *db = replica_db(r);
    uint64_t node = replica_node(r);
    int64_t own = replica_own_seq(r), min = 0, max = 0, count = 0, overlapping = 0;
    if (ex->node && node != ex->node) {
        return fail_check(run, 4, "the node id changed from %016" PRIx64 " to %016" PRIx64,
                          ex->node, node);
    }
    if (own < ex->own_seq) {
        return fail_check(run, 4,
                          "own seq %" PRId64 " was reported committed, the file holds %" PRId64,
                          ex->own_seq, own);
    }
    if (journal_of_node(db, node, &count, &min, &max, &overlapping) != 0) {
        return fail_check(run, 4, "reading the journal: %s", sqlite3_errmsg(db));
    }
    if (max != own || count != own || (own > 0 && min != 1) || overlapping != 0) {
        return fail_check(run, 4,
                          "own seq is %" PRId64 " but the journal holds %" PRId64
                          " own changes from seq %" PRId64 " to %" PRId64 " (%" PRId64
                          " runs overlapping)",
                          own, count, min, max, overlapping);
    }
    for (size_t i = 0; i < NFOREIGN; i++) {
        int64_t acked = replica_acked(r, ex->foreign[i]);
        if (acked < 0) {
            return fail_check(run, 4, "replica_acked: %s", replica_errmsg(r));
        }
        if (acked < ex->acked[i]) {
            return fail_check(run, 4,
                              "seq %" PRId64 " of node %016" PRIx64
                              " was reported acknowledged, the file acknowledges %" PRId64,
                              ex->acked[i], ex->foreign[i], acked);
        }
        if (journal_of_node(db, ex->foreign[i], &count, &min, &max, &overlapping) != 0) {
            return fail_check(run, 4, "reading the journal: %s", sqlite3_errmsg(db));
        }
        if (count != acked || overlapping != 0) {
            return fail_check(run, 4,
                              "node %016" PRIx64 " is acknowledged up to %" PRId64
                              " but the journal holds %" PRId64 " of its changes (%" PRId64
                              " runs overlapping)",
                              ex->foreign[i], acked, count, overlapping);
        }
        ex->acked[i] = acked; /* held now, so held forever */
    }
    ex->node = node;
    ex->own_seq = own;
    return 0;
}

static int check_file(struct run *run)
{
    struct replica_config config;
    ledger_schema_config(&config, 0);
    struct replica *r = NULL;
    char why[256];
    int rc = replica_open(run->path, &config, &r, why, sizeof why);
    if (rc != 0) {
        return fail_check(run, 2, "replica_open: %s (%s)", sync_strerror(rc), why);
    }
    rc = check_integrity(run, r);
    if (rc == 0) {
        rc = check_journal(run, r, &config);
    }
    if (rc == 0) {
        rc = check_durable(run, r);
    }
    replica_close(r);
    return rc;
}

/* Take the reports out of the pipe buffer; keep a partial one for later. */
static int take_reports(struct run *run, char *pending, size_t *len, int *started,
                        struct report *error)
{
    size_t at = 0;
    while (*len - at >= sizeof(struct report)) {
        struct report rep;
        memcpy(&rep, pending + at, sizeof rep);
        at += sizeof rep;
        switch (rep.kind) {
        case REPORT_START:
            *started = 1;
            if (rep.own_seq < run->expect.own_seq) {
                return fail_check(run, 4,
                                  "the child opened the file at own seq %" PRId64 ", below %" PRId64
                                  " held before",
                                  rep.own_seq, run->expect.own_seq);
            }
            break;
        case REPORT_COMMIT:
            run->totals.units++;
            if (rep.own_seq > run->expect.own_seq) {
                run->expect.own_seq = rep.own_seq;
            }
            for (size_t i = 0; rep.node && i < NFOREIGN; i++) {
                if (run->expect.foreign[i] == rep.node && rep.acked > run->expect.acked[i]) {
                    run->expect.acked[i] = rep.acked;
                }
            }
            break;
        case REPORT_ERROR:
            *error = rep;
            error->what[sizeof error->what - 1] = '\0';
            break;
        default:
            return fail_check(run, 1, "a report of unknown kind %d", (int)rep.kind);
        }
    }
    memmove(pending, pending + at, *len - at);
    *len -= at;
    return 0;
}

/* Read reports from the pipe until deadline (monotonic ms), the end of the
 * pipe, or, with until_start, the child's start. Returns 1 at the end of the
 * pipe, 0 at the deadline or on start, -1 on a failed check. */
static int read_reports(struct run *run, int fd, int64_t deadline, char *pending, size_t *len,
                        size_t cap, int *started, struct report *error, int until_start)
{
    for (;;) {
        if (until_start && *started) {
            return 0;
        }
        int64_t left = deadline - now_ms();
        if (left < 0) {
            left = 0;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return fail_check(run, 1, "poll: %s", strerror(errno));
        }
        if (n == 0) {
            return 0;
        }
        ssize_t got = read(fd, pending + *len, cap - *len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return fail_check(run, 1, "read: %s", strerror(errno));
        }
        if (got == 0) {
            return 1;
        }
        *len += (size_t)got;
        if (take_reports(run, pending, len, started, error) != 0) {
            return -1;
        }
    }
}

/* One round: start a writer, kill it, check the file. */
static int crash_round(struct run *run)
{
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "crash: pipe: %s\n", strerror(errno));
        return -1;
    }
    uint64_t child_seed = rng_next(&run->rng);
    int64_t wait_ms = KILL_MIN_MS + (int64_t)rng_below(&run->rng, KILL_MAX_MS - KILL_MIN_MS + 1);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "crash: fork: %s\n", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        child_main(run->path, fds[1], child_seed, run->expect.foreign);
        _exit(0);
    }
    close(fds[1]);

    char pending[sizeof(struct report) * 64];
    size_t len = 0;
    int started = 0;
    struct report error = {0};
    int rc = read_reports(run, fds[0], now_ms() + START_TIMEOUT_MS, pending, &len, sizeof pending,
                          &started, &error, 1);
    if (rc == 0 && !started) {
        rc = fail_check(run, 1, "the child did not open the file within %d s",
                        START_TIMEOUT_MS / 1000);
    }
    if (rc == 0) {
        rc = read_reports(run, fds[0], now_ms() + wait_ms, pending, &len, sizeof pending, &started,
                          &error, 0);
    }
    kill(pid, SIGKILL);
    /* Whatever the child wrote before it died still counts. */
    if (rc >= 0) {
        int end = read_reports(run, fds[0], now_ms() + START_TIMEOUT_MS, pending, &len,
                               sizeof pending, &started, &error, 0);
        rc = end < 0 ? -1 : 0;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "crash: waitpid: %s\n", strerror(errno));
            return -1;
        }
    }
    if (rc != 0) {
        return -1;
    }
    if (error.kind == REPORT_ERROR) {
        return fail_check(run, 1, "the writer failed: %s: %s", error.what,
                          sync_strerror(error.code));
    }
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        return fail_check(run, 1, "the writer ended by itself (status %d)", status);
    }
    return check_file(run);
}

static int make_dir(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        fprintf(stderr, "crash: the directory name is too long\n");
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char was = *p;
            *p = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "crash: cannot create %s: %s\n", path, strerror(errno));
                return -1;
            }
            *p = was;
            if (was == '\0') {
                break;
            }
        }
    }
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: crash [--kills N] [--dir DIR] [--seed S]\n"
                 "  Kills a process that writes to a ledger replica N times (default 200)\n"
                 "  at random moments and checks the file after each kill: integrity,\n"
                 "  journal against rows, durability of what was reported committed.\n"
                 "  --dir DIR   where " DB_NAME " lives (default crash.d; created if missing;\n"
                 "              an old " DB_NAME " there is removed)\n"
                 "  --seed S    repeat a run's choices (default: from the clock)\n");
}

static int parse_options(int argc, char **argv, struct options *opt)
{
    static const struct option longs[] = {
        {"kills", required_argument, NULL, 'k'},
        {"dir", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *opt = (struct options){.kills = 200, .dir = "crash.d"};
    opt->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    int c;
    while ((c = getopt_long(argc, argv, "k:d:s:h", longs, NULL)) != -1) {
        char *end = NULL;
        errno = 0;
        switch (c) {
        case 'k':
            opt->kills = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || opt->kills < 1 || opt->kills > 1000000) {
                fprintf(stderr, "crash: --kills wants a number from 1 to 1000000\n");
                return 2;
            }
            break;
        case 'd':
            if (!*optarg) {
                fprintf(stderr, "crash: --dir wants a directory\n");
                return 2;
            }
            opt->dir = optarg;
            break;
        case 's': {
            unsigned long long seed = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                fprintf(stderr, "crash: --seed wants a non-negative integer\n");
                return 2;
            }
            opt->seed = (uint64_t)seed;
            break;
        }
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "crash: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct run run;
    int rc = parse_options(argc, argv, &run.opt);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    if (make_dir(run.opt.dir) != 0) {
        return 1;
    }
    if (snprintf(run.path, sizeof run.path, "%s/%s", run.opt.dir, DB_NAME) >=
        (int)sizeof run.path) {
        fprintf(stderr, "crash: the directory name is too long\n");
        return 1;
    }
    if (remove_db(run.path) != 0) {
        return 1;
    }
    run.rng = run.opt.seed;
    printf("crash: %ld kills in %s (seed %" PRIu64 ")\n", run.opt.kills, run.path, run.opt.seed);
    int64_t began = now_ms();
    fresh_expect(&run);
    for (run.round = 1; run.round <= run.opt.kills; run.round++) {
        long long bytes = db_bytes(run.path);
        if (bytes > DB_MAX_BYTES || run.replay_ms > REPLAY_BUDGET_MS) {
            /* Every check replays the whole journal: keep that short. */
            run.replay_ms = 0;
            if (remove_db(run.path) != 0) {
                return 1;
            }
            fresh_expect(&run);
        }
        if (crash_round(&run) != 0) {
            printf("crash: FAILED at round %ld of %ld (seed %" PRIu64 ")\n", run.round,
                   run.opt.kills, run.opt.seed);
            return 1;
        }
        if (run.round % PROGRESS_EVERY == 0 || run.round == run.opt.kills) {
            printf("crash: %ld/%ld kills checked; file %ld: %.1f MB, %ld journal entries;"
                   " %ld units committed; %.1f s\n",
                   run.round, run.opt.kills, run.totals.files,
                   (double)db_bytes(run.path) / (1 << 20), run.totals.changes, run.totals.units,
                   (double)(now_ms() - began) / 1000);
        }
    }
    printf("crash: %ld kills, %ld checks passed (seed %" PRIu64 ")\n", run.opt.kills, run.opt.kills,
           run.opt.seed);
    free(run.mine.data);
    free(run.replayed.data);
    return remove_db(run.path) == 0 ? 0 : 1;
}
