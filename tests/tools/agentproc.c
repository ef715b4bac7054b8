/* SPDX-License-Identifier: MIT */
/*
 * agentproc.c - running the real hamlet and the slow-link proxy for tests.
 * Programs are started with posix_spawn() and an argument vector, never
 * through a shell; their output goes to files in the laptop's folder and is
 * read back once they exit.
 */
#include "agentproc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_OUTPUT      ((size_t)256 << 20) /* bytes of a run's output read back */
#define DEFAULT_TIMEOUT 300.0               /* seconds a run may take */
#define LINK_START_S    10.0                /* seconds slowlink may take to listen */
#define CODE_PREFIX     "HAMLET1:"
#define CODE_PARTS      4

double agentproc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void agentproc_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

char *agentproc_slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            break;
        }
        if (len + 1 == cap) {
            char *grown = cap < MAX_OUTPUT ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[len] = '\0';
        if (len_out) {
            *len_out = len;
        }
    }
    return buf;
}

void agentproc_result_clear(struct agentproc_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

/* ---- folders ---- */

int agentproc_tmpdir(const char *prefix, char *out, size_t out_len)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(out, out_len, "%s/%s-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", prefix);
    if (n < 0 || (size_t)n >= out_len) {
        return -1;
    }
    if (!mkdtemp(out)) {
        fprintf(stderr, "agentproc: cannot make %s: %s\n", out, strerror(errno));
        return -1;
    }
    return 0;
}

void agentproc_rmdir(const char *dir)
{
    if (!dir || !dir[0]) {
        return;
    }
    if (getenv("HAMLET_KEEP_TMP")) {
        fprintf(stderr, "agentproc: kept %s\n", dir);
        return;
    }
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    char path[AGENTPROC_PATH_MAX + 300];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

/* ---- spawning ---- */

/* The process environment with extras added, replacing entries of the same
 * names. The array is malloc'd; its strings are borrowed. */
static char **merged_env(char *const *extra, size_t nextra)
{
    size_t n = 0;
    while (environ[n]) {
        n++;
    }
    char **env = calloc(n + nextra + 1, sizeof *env);
    if (!env) {
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int replaced = 0;
        for (size_t j = 0; j < nextra && !replaced; j++) {
            size_t name_len = strcspn(extra[j], "=");
            replaced = strncmp(environ[i], extra[j], name_len + 1) == 0;
        }
        if (!replaced) {
            env[k++] = environ[i];
        }
    }
    for (size_t j = 0; j < nextra; j++) {
        env[k++] = extra[j];
    }
    env[k] = NULL;
    return env;
}

/* Start argv[0] with stdin from /dev/null, stdout to out_path and stderr to
 * err_path (both truncated; err_path NULL: stderr goes with stdout), with
 * the extra environment. Returns the pid, or -1. */
static pid_t spawn(char *const argv[], char *const *extra_env, size_t nextra, const char *out_path,
                   const char *err_path)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        return -1;
    }
    char **env = merged_env(extra_env, nextra);
    int rc = env ? posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) : -1;
    if (rc == 0) {
        rc = posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    }
    if (rc == 0) {
        rc = err_path ? posix_spawn_file_actions_addopen(&fa, 2, err_path,
                                                         O_WRONLY | O_CREAT | O_TRUNC, 0600)
                      : posix_spawn_file_actions_adddup2(&fa, 1, 2);
    }
    pid_t pid = -1;
    if (rc == 0 && posix_spawn(&pid, argv[0], &fa, NULL, argv, env) != 0) {
        pid = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    return pid;
}

/* Wait for pid until deadline (monotonic seconds; 0: for ever). Returns 1
 * with *status when it exited, 0 at the deadline (it still runs). */
static int wait_until(pid_t pid, double deadline, int *status)
{
    long pause_ms = 1;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) {
            return 1;
        }
        if (r < 0 && errno != EINTR) {
            *status = -1;
            return 1; /* not our child any more: nothing to wait for */
        }
        if (deadline > 0 && agentproc_now() >= deadline) {
            return 0;
        }
        agentproc_sleep_ms(pause_ms);
        if (pause_ms < 5) {
            pause_ms++;
        }
    }
}

/* 1 with *status if pid has exited (it is reaped then), 0 if it runs. */
static int exited_now(pid_t pid, int *status)
{
    pid_t r;
    while ((r = waitpid(pid, status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (r < 0) {
        *status = -1;
    }
    return r != 0;
}

/* ---- laptops ---- */

int agentproc_new(const char *dir, const char *name, struct agentproc **out)
{
    struct agentproc *a = calloc(1, sizeof *a);
    if (!a) {
        return -1;
    }
    const char *bin = getenv("HAMLET_AGENT");
    snprintf(a->bin, sizeof a->bin, "%s", bin && bin[0] ? bin : "build/hamlet");
    if (access(a->bin, X_OK) != 0) {
        fprintf(stderr, "agentproc: %s is not a program (build it, or set HAMLET_AGENT)\n", a->bin);
        free(a);
        return -1;
    }
    snprintf(a->dir, sizeof a->dir, "%s", dir);
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->db, sizeof a->db, "%s/%s.db", a->dir, a->name);
    a->timeout_s = DEFAULT_TIMEOUT;
    *out = a;
    return 0;
}

void agentproc_free(struct agentproc *a)
{
    if (!a) {
        return;
    }
    if (a->pid) {
        kill(a->pid, SIGKILL);
        int status;
        wait_until(a->pid, 0, &status);
        a->pid = 0;
    }
    for (size_t i = 0; i < a->nenv; i++) {
        free(a->env[i]);
    }
    free(a);
}

int agentproc_setenv(struct agentproc *a, const char *name, const char *value)
{
    size_t name_len = strlen(name);
    for (size_t i = 0; i < a->nenv; i++) {
        if (strncmp(a->env[i], name, name_len) == 0 && a->env[i][name_len] == '=') {
            free(a->env[i]);
            a->env[i] = a->env[--a->nenv];
            a->env[a->nenv] = NULL;
            break;
        }
    }
    if (!value) {
        return 0;
    }
    if (a->nenv >= AGENTPROC_MAX_ENV) {
        return -1;
    }
    size_t len = name_len + 1 + strlen(value) + 1;
    char *entry = malloc(len);
    if (!entry) {
        return -1;
    }
    snprintf(entry, len, "%s=%s", name, value);
    a->env[a->nenv++] = entry;
    return 0;
}

static void output_paths(struct agentproc *a, unsigned run, char *out, char *err, size_t len)
{
    snprintf(out, len, "%s/%s.run%u.out", a->dir, a->name, run);
    snprintf(err, len, "%s/%s.run%u.err", a->dir, a->name, run);
}

static pid_t start(struct agentproc *a, const char *const *args, unsigned *run)
{
    char *argv[AGENTPROC_MAX_ARGS + 4];
    size_t n = 0;
    argv[n++] = a->bin;
    argv[n++] = "--db";
    argv[n++] = a->db;
    for (size_t i = 0; args && args[i]; i++) {
        if (n + 1 >= sizeof argv / sizeof argv[0]) {
            fprintf(stderr, "agentproc: too many arguments\n");
            return -1;
        }
        argv[n++] = (char *)args[i];
    }
    argv[n] = NULL;
    char out[AGENTPROC_PATH_MAX + 32], err[AGENTPROC_PATH_MAX + 32];
    *run = a->runs++;
    output_paths(a, *run, out, err, sizeof out);
    pid_t pid = spawn(argv, a->env, a->nenv, out, err);
    if (pid < 0) {
        fprintf(stderr, "agentproc: cannot start %s: %s\n", a->bin, strerror(errno));
    }
    return pid;
}

/* Fill result from a finished run's status and files (which are removed). */
static int collect(struct agentproc *a, unsigned run, int status, double started,
                   struct agentproc_result *r)
{
    char out[AGENTPROC_PATH_MAX + 32], err[AGENTPROC_PATH_MAX + 32];
    output_paths(a, run, out, err, sizeof out);
    r->seconds = agentproc_now() - started;
    r->out = agentproc_slurp(out, &r->out_len);
    r->err = agentproc_slurp(err, &r->err_len);
    unlink(out);
    unlink(err);
    if (!r->out) {
        r->out = calloc(1, 1);
        r->out_len = 0;
    }
    if (!r->err) {
        r->err = calloc(1, 1);
        r->err_len = 0;
    }
    if (status != -1 && WIFEXITED(status)) {
        r->status = WEXITSTATUS(status);
    } else {
        r->status = -1;
        r->signal = status != -1 && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    return r->status;
}

int agentproc_run(struct agentproc *a, const char *const *args, struct agentproc_result *r)
{
    memset(r, 0, sizeof *r);
    double started = agentproc_now();
    unsigned run;
    pid_t pid = start(a, args, &run);
    if (pid < 0) {
        r->status = -1;
        r->out = calloc(1, 1);
        r->err = calloc(1, 1);
        return -1;
    }
    int status;
    if (!wait_until(pid, started + a->timeout_s, &status)) {
        fprintf(stderr, "agentproc: %s: %s %s ran past %.0f s; killed\n", a->name, a->bin,
                args && args[0] ? args[0] : "", a->timeout_s);
        kill(pid, SIGKILL);
        wait_until(pid, 0, &status);
        r->timed_out = 1;
    }
    return collect(a, run, status, started, r);
}

int agentproc_spawn(struct agentproc *a, const char *const *args)
{
    if (a->pid) {
        return -1;
    }
    a->started = agentproc_now();
    pid_t pid = start(a, args, &a->bg_run);
    if (pid < 0) {
        return -1;
    }
    a->pid = pid;
    return 0;
}

int agentproc_running(struct agentproc *a)
{
    if (!a->pid) {
        return 0;
    }
    siginfo_t info;
    memset(&info, 0, sizeof info);
    /* WNOWAIT: look without reaping, so that agentproc_wait() still can. */
    if (waitid(P_PID, (id_t)a->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        return 0;
    }
    return info.si_pid == 0;
}

int agentproc_wait(struct agentproc *a, struct agentproc_result *r)
{
    memset(r, 0, sizeof *r);
    if (!a->pid) {
        r->status = -1;
        return -1;
    }
    int status;
    if (!wait_until(a->pid, a->started + a->timeout_s, &status)) {
        fprintf(stderr, "agentproc: %s: a background run went past %.0f s; killed\n", a->name,
                a->timeout_s);
        kill(a->pid, SIGKILL);
        wait_until(a->pid, 0, &status);
        r->timed_out = 1;
    }
    a->pid = 0;
    return collect(a, a->bg_run, status, a->started, r);
}

int agentproc_signal(struct agentproc *a, int sig, struct agentproc_result *r)
{
    memset(r, 0, sizeof *r);
    if (!a->pid) {
        r->status = -1;
        return -1;
    }
    int status;
    int exited = exited_now(a->pid, &status);
    if (!exited) {
        kill(a->pid, sig);
        wait_until(a->pid, 0, &status);
    }
    a->pid = 0;
    collect(a, a->bg_run, status, a->started, r);
    return exited ? 0 : 1;
}

static int open_ledger(struct agentproc *a, sqlite3 **db)
{
    if (sqlite3_open_v2(a->db, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "agentproc: cannot open %s: %s\n", a->db,
                *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(*db, 10000);
    return 0;
}

int agentproc_meta_int(struct agentproc *a, const char *key, int64_t *out)
{
    sqlite3 *db;
    if (open_ledger(a, &db) != 0) {
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT value FROM hl_meta WHERE key = ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = 0;
        } else if (step == SQLITE_DONE) {
            *out = 0;
            rc = 0;
        }
    }
    if (rc != 0) {
        fprintf(stderr, "agentproc: %s: cannot read %s: %s\n", a->name, key, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

int agentproc_query_int(struct agentproc *a, const char *sql, int64_t *out)
{
    sqlite3 *db;
    if (open_ledger(a, &db) != 0) {
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    if (rc != 0) {
        fprintf(stderr, "agentproc: %s: %s: %s\n", a->name, sql, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

/* ---- enrolment codes ---- */

/* Split "HAMLET1:a|b|c|d" into the offsets and lengths of its parts. */
static int split_code(const char *code, size_t start[CODE_PARTS], size_t len[CODE_PARTS])
{
    size_t prefix = strlen(CODE_PREFIX);
    if (strncmp(code, CODE_PREFIX, prefix) != 0) {
        return -1;
    }
    size_t end = strcspn(code, "\r\n");
    size_t pos = prefix;
    for (int i = 0; i < CODE_PARTS; i++) {
        start[i] = pos;
        while (pos < end && code[pos] != '|') {
            pos++;
        }
        len[i] = pos - start[i];
        if (i < CODE_PARTS - 1) {
            if (pos >= end) {
                return -1;
            }
            pos++;
        } else if (pos != end) {
            return -1;
        }
    }
    return 0;
}

int agentproc_code_part(const char *code, int index, char *out, size_t out_len)
{
    size_t start[CODE_PARTS], len[CODE_PARTS];
    if (index < 0 || index >= CODE_PARTS || split_code(code, start, len) != 0 ||
        len[index] >= out_len) {
        return -1;
    }
    memcpy(out, code + start[index], len[index]);
    out[len[index]] = '\0';
    return 0;
}

/* The code with part index replaced by value. */
static int replace_part(const char *code, int index, const char *value, char *out, size_t out_len)
{
    size_t start[CODE_PARTS], len[CODE_PARTS];
    if (split_code(code, start, len) != 0) {
        return -1;
    }
    int n = snprintf(out, out_len, "%.*s%s%s", (int)start[index], code, value,
                     code + start[index] + len[index]);
    if (n < 0 || (size_t)n >= out_len) {
        return -1;
    }
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

int agentproc_code_with_url(const char *code, const char *url, char *out, size_t out_len)
{
    return replace_part(code, 0, url, out, out_len);
}

int agentproc_code_with_pin(const char *code, const char *pin, char *out, size_t out_len)
{
    return replace_part(code, 1, pin, out, out_len);
}

/* ---- the slow-link proxy ---- */

/* $SLOWLINK; else tests/slowlink in the build folder of $HAMLET_AGENT
 * (build/asan/hamlet: build/asan/tests/slowlink) if it is there; else
 * build/tests/slowlink. */
static void slowlink_path(char *out, size_t len)
{
    const char *env = getenv("SLOWLINK");
    const char *agent = getenv("HAMLET_AGENT");
    const char *slash = agent ? strrchr(agent, '/') : NULL;
    if (env && env[0]) {
        snprintf(out, len, "%s", env);
        return;
    }
    if (slash) {
        snprintf(out, len, "%.*s/tests/slowlink", (int)(slash - agent), agent);
        if (access(out, X_OK) == 0) {
            return;
        }
    }
    snprintf(out, len, "build/tests/slowlink");
}

int agentproc_link_start(const char *dir, const char *connect, const char *const *options,
                         struct agentproc_link **out)
{
    static unsigned links;
    struct agentproc_link *l = calloc(1, sizeof *l);
    if (!l) {
        return -1;
    }
    char bin[AGENTPROC_PATH_MAX];
    slowlink_path(bin, sizeof bin);
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "agentproc: %s is not a program (build it, or set SLOWLINK)\n", bin);
        free(l);
        return -1;
    }
    unsigned n = links++;
    snprintf(l->stats, sizeof l->stats, "%.*s/slowlink-%u.stats", AGENTPROC_PATH_MAX - 40, dir, n);
    snprintf(l->log, sizeof l->log, "%.*s/slowlink-%u.log", AGENTPROC_PATH_MAX - 40, dir, n);
    snprintf(l->port_file, sizeof l->port_file, "%.*s/slowlink-%u.port", AGENTPROC_PATH_MAX - 40,
             dir, n);
    char *argv[AGENTPROC_MAX_ARGS + 12];
    size_t k = 0;
    argv[k++] = bin;
    argv[k++] = "--listen";
    argv[k++] = "127.0.0.1:0";
    argv[k++] = "--connect";
    argv[k++] = (char *)connect;
    argv[k++] = "--stats";
    argv[k++] = l->stats;
    argv[k++] = "--port-file";
    argv[k++] = l->port_file;
    for (size_t i = 0; options && options[i]; i++) {
        if (k + 1 >= sizeof argv / sizeof argv[0]) {
            free(l);
            return -1;
        }
        argv[k++] = (char *)options[i];
    }
    argv[k] = NULL;
    l->pid = spawn(argv, NULL, 0, l->log, NULL);
    if (l->pid < 0) {
        fprintf(stderr, "agentproc: cannot start %s\n", bin);
        free(l);
        return -1;
    }
    double deadline = agentproc_now() + LINK_START_S;
    while (agentproc_now() < deadline) {
        char *text = agentproc_slurp(l->port_file, NULL);
        if (text) {
            char *end;
            errno = 0;
            unsigned long port = strtoul(text, &end, 10);
            int ok = errno == 0 && end != text && port > 0 && port < 65536;
            free(text);
            if (ok) {
                l->port = (unsigned)port;
                snprintf(l->url, sizeof l->url, "https://localhost:%u", l->port);
                *out = l;
                return 0;
            }
        }
        int status;
        if (exited_now(l->pid, &status)) {
            l->pid = 0;
            break;
        }
        agentproc_sleep_ms(10);
    }
    char *log = agentproc_slurp(l->log, NULL);
    fprintf(stderr, "agentproc: slowlink did not start listening: %s\n", log ? log : "");
    free(log);
    agentproc_link_stop(l);
    return -1;
}

void agentproc_link_stop(struct agentproc_link *l)
{
    if (!l) {
        return;
    }
    if (l->pid > 0) {
        kill(l->pid, SIGTERM);
        int status;
        if (!wait_until(l->pid, agentproc_now() + 10, &status)) {
            kill(l->pid, SIGKILL);
            wait_until(l->pid, 0, &status);
        }
    }
    free(l);
}

int agentproc_link_stat(struct agentproc_link *l, const char *name, uint64_t *out)
{
    char *text = agentproc_slurp(l->stats, NULL);
    if (!text) {
        return -1;
    }
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *at = strstr(text, key);
    int rc = -1;
    if (at) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(at + strlen(key), &end, 10);
        if (errno == 0 && end != at + strlen(key)) {
            *out = v;
            rc = 0;
        }
    }
    free(text);
    return rc;
}
