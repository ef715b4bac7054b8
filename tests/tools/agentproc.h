/* SPDX-License-Identifier: MIT */
/*
 * agentproc.h - the real hamlet (the village agent) and the slow-link
 * proxy, run by tests.
 *
 * A test gets laptops: each is a ledger file in a temporary folder and the
 * program `hamlet --db FILE ARGS...`, run the way a village secretary runs
 * it, with its output, its error text and its exit status captured. A run
 * can also be started in the background and ended with a signal at any
 * moment (to crash the agent mid-sync), and every run of a laptop can carry
 * extra environment (LD_PRELOAD and FAKETIME, for a laptop whose clock is
 * wrong). The ledger file can be read directly, read-only, for checks that
 * no command shows (the change sequence, the acknowledgement).
 *
 * The slow-link proxy (tests/tools/slowlink.c) is started the same way:
 * agentproc_link_start() gives its port, so that an enrolment code can be
 * pointed at it (agentproc_code_with_url()).
 *
 * Programs: $HAMLET_AGENT, or build/hamlet; $SLOWLINK, or tests/slowlink
 * beside $HAMLET_AGENT if it is there (build/asan/tests/slowlink for
 * build/asan/hamlet), or build/tests/slowlink; relative to the current
 * folder (the repository's root).
 */
#ifndef HAMLET_AGENTPROC_H
#define HAMLET_AGENTPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AGENTPROC_PATH_MAX 512
#define AGENTPROC_MAX_ENV  8  /* extra NAME=VALUE entries of a laptop */
#define AGENTPROC_MAX_ARGS 32 /* arguments of one run */

/* What one run of a program gave. */
struct agentproc_result {
    int status;     /* exit status 0-255; -1 when a signal ended it or it never ran */
    int signal;     /* the signal that ended it, 0 if none */
    int timed_out;  /* it ran past the laptop's timeout and was killed */
    char *out;      /* stdout, malloc'd and NUL-terminated ("" when empty) */
    size_t out_len; /* bytes of out */
    char *err;      /* stderr, the same */
    size_t err_len;
    double seconds; /* wall time from start to exit */
};

/* agentproc_result_clear(result): free the output and zero the rest. */
void agentproc_result_clear(struct agentproc_result *result);

/* One village laptop. */
struct agentproc {
    char bin[AGENTPROC_PATH_MAX];      /* the hamlet program */
    char dir[AGENTPROC_PATH_MAX - 80]; /* the folder of its files (not owned) */
    char name[64];                     /* a short name for messages: "a1" */
    char db[AGENTPROC_PATH_MAX];       /* DIR/NAME.db */
    char *env[AGENTPROC_MAX_ENV];      /* extra "NAME=VALUE" for every run, malloc'd */
    size_t nenv;
    double timeout_s; /* a run still going after this long is killed (default 300) */
    pid_t pid;        /* the background run, 0 if none */
    double started;   /* when the background run started (monotonic seconds) */
    unsigned bg_run;  /* the number of the background run (names its output files) */
    unsigned runs;    /* runs started, for unique output file names */
};

/* agentproc_new(dir, name, out): a laptop whose ledger is DIR/NAME.db
 * (nothing is created until a command runs). dir must exist and outlive
 * the laptop. Returns 0, or -1 (the program is missing, or out of memory)
 * with the reason on stderr. Free with agentproc_free(). */
int agentproc_new(const char *dir, const char *name, struct agentproc **out);

/* agentproc_free(laptop): SIGKILL and reap a background run if one is
 * going, free. The laptop's files stay (they are in the caller's folder).
 * Accepts NULL. */
void agentproc_free(struct agentproc *laptop);

/* agentproc_setenv(laptop, name, value): give every later run NAME=VALUE
 * (replacing an extra of that name), or remove the extra when value is
 * NULL. Returns 0, or -1 when AGENTPROC_MAX_ENV are set already or out of
 * memory. */
int agentproc_setenv(struct agentproc *laptop, const char *name, const char *value);

/* agentproc_run(laptop, args, result): run `hamlet --db DB args...` (args
 * NULL-terminated), stdin from /dev/null, and wait for it (at most
 * laptop->timeout_s). result receives the exit status and the output; the
 * caller clears it. Returns the exit status, or -1 (see result->signal,
 * result->timed_out; or the program could not start). */
int agentproc_run(struct agentproc *laptop, const char *const *args,
                  struct agentproc_result *result);

/* agentproc_spawn(laptop, args): start `hamlet --db DB args...` in the
 * background (one at a time per laptop). Returns 0, or -1 (one runs
 * already, or it could not start). */
int agentproc_spawn(struct agentproc *laptop, const char *const *args);

/* agentproc_running(laptop): 1 while the background run has not exited. */
int agentproc_running(struct agentproc *laptop);

/* agentproc_wait(laptop, result): wait for the background run (at most
 * laptop->timeout_s from its start) and collect it as agentproc_run()
 * does. Returns its exit status or -1; -1 with nothing collected when no
 * background run exists. */
int agentproc_wait(struct agentproc *laptop, struct agentproc_result *result);

/* agentproc_signal(laptop, sig, result): send sig to the background run
 * and collect it. Returns 1 if sig ended it (it was still running), 0 if
 * it had exited on its own first (result says how), -1 if none ran. */
int agentproc_signal(struct agentproc *laptop, int sig, struct agentproc_result *result);

/* agentproc_meta_int(laptop, key, out): a value of the ledger's hl_meta
 * table ("hl.seq", "agent.acked"...), read from the file directly on a
 * read-only connection; *out is 0 when the key is absent. Returns 0, or -1
 * when the file cannot be read. */
int agentproc_meta_int(struct agentproc *laptop, const char *key, int64_t *out);

/* agentproc_query_int(laptop, sql, out): the first column of the first row
 * of one fixed statement on the ledger, read-only. 0 or -1. */
int agentproc_query_int(struct agentproc *laptop, const char *sql, int64_t *out);

/* ---- enrolment codes ---- */

/* agentproc_code_with_url(code, url, out, out_len): the enrolment code
 * "HAMLET1:<url>|<pin>|<device>|<code>" with another URL (that of a proxy
 * in front of the hub). agentproc_code_with_pin() changes the pin. Returns
 * 0, or -1 when code is not in that form or out_len is too small. */
int agentproc_code_with_url(const char *code, const char *url, char *out, size_t out_len);
int agentproc_code_with_pin(const char *code, const char *pin, char *out, size_t out_len);

/* agentproc_code_part(code, index, out, out_len): part index (0 url, 1 pin,
 * 2 device, 3 one-time code) of an enrolment code. 0 or -1. */
int agentproc_code_part(const char *code, int index, char *out, size_t out_len);

/* ---- the slow-link proxy ---- */

struct agentproc_link {
    pid_t pid;
    unsigned port;                  /* where it listens on 127.0.0.1 */
    char url[64];                   /* https://localhost:PORT */
    char stats[AGENTPROC_PATH_MAX]; /* DIR/slowlink-N.stats (JSON) */
    char log[AGENTPROC_PATH_MAX];   /* its stdout and stderr */
    char port_file[AGENTPROC_PATH_MAX];
};

/* agentproc_link_start(dir, connect, options, out): start slowlink with
 * --listen 127.0.0.1:0 --connect CONNECT and options (NULL-terminated, e.g.
 * "--rate", "64"), its files in dir, and wait (at most 10 s) until it
 * listens. Returns 0, or -1 with the reason on stderr. Stop it with
 * agentproc_link_stop(). */
int agentproc_link_start(const char *dir, const char *connect, const char *const *options,
                         struct agentproc_link **out);

/* agentproc_link_stop(link): SIGTERM (it writes its stats), wait, free.
 * Accepts NULL. */
void agentproc_link_stop(struct agentproc_link *link);

/* agentproc_link_stat(link, name, out): a number from the proxy's stats
 * file ("connections", "bytes_up", "bytes_down", "cuts"). 0 or -1. */
int agentproc_link_stat(struct agentproc_link *link, const char *name, uint64_t *out);

/* ---- folders and files ---- */

/* agentproc_tmpdir(prefix, out, out_len): make $TMPDIR/PREFIX-XXXXXX
 * (default /tmp). 0 or -1. */
int agentproc_tmpdir(const char *prefix, char *out, size_t out_len);

/* agentproc_rmdir(dir): remove a folder and the files in it (it holds
 * files only), unless HAMLET_KEEP_TMP is set (it is then named on
 * stderr). Accepts NULL or "". */
void agentproc_rmdir(const char *dir);

/* agentproc_slurp(path, len): a whole file, malloc'd and NUL-terminated,
 * or NULL. len (may be NULL) receives its length. */
char *agentproc_slurp(const char *path, size_t *len);

/* agentproc_now(): monotonic seconds. agentproc_sleep_ms(ms): sleep. */
double agentproc_now(void);
void agentproc_sleep_ms(long ms);

#endif
