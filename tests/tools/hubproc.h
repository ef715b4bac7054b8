/* SPDX-License-Identifier: MIT */
/*
 * hubproc.h - the real hamlet-hub, run by tests.
 *
 * A test gets a hub of its own: a temporary folder with a certificate made
 * for "localhost", a database, a free port on 127.0.0.1, and the program
 * `hamlet-hub serve` started there (its log in the folder). The helpers run
 * the admin commands (village add, device add, device revoke, export) the
 * way a township administrator would, stop the hub with SIGTERM, kill it
 * with SIGKILL, restart it on the same database and port, and read its log
 * and its peak memory. The program is $HAMLET_HUB, or build/hamlet-hub
 * relative to the current folder (the repository's root).
 */
#ifndef HAMLET_HUBPROC_H
#define HAMLET_HUBPROC_H

#include <sqlite3.h>
#include <stddef.h>
#include <sys/types.h>

#define HUBPROC_PATH_MAX 512
#define HUBPROC_CODE_MAX 512 /* an enrolment code line */
#define HUBPROC_MAX_ARGS 16

struct hubproc {
    char bin[HUBPROC_PATH_MAX];      /* the hamlet-hub program */
    char dir[HUBPROC_PATH_MAX - 64]; /* the temporary folder, removed by hubproc_free() */
    char db[HUBPROC_PATH_MAX];       /* DIR/hub.db */
    char cert[HUBPROC_PATH_MAX];     /* DIR/hub.crt */
    char key[HUBPROC_PATH_MAX];      /* DIR/hub.key */
    char log[HUBPROC_PATH_MAX];      /* DIR/hub.log: the server's stderr, all runs */
    char pin[128];                   /* sha256//..., as `cert generate` printed it */
    char url[64];                    /* https://localhost:PORT */
    char listen[64];                 /* 127.0.0.1:PORT */
    unsigned port;
    pid_t pid; /* the running server, 0 if none */
    unsigned starts;
    char *serve_args[HUBPROC_MAX_ARGS]; /* extra arguments of serve */
    size_t nserve_args;
};

/* hubproc_new(serve_args, out): make the folder, the certificate and the
 * database, and choose a port; serve_args (NULL-terminated, may be NULL) are
 * added to every `serve` (e.g. "--idle-timeout", "2"). The hub is not
 * started. Returns 0, or -1 with the reason on stderr. Free with
 * hubproc_free(). */
int hubproc_new(const char *const *serve_args, struct hubproc **out);

/* hubproc_free(hub): stop the server if it runs (SIGTERM, then SIGKILL
 * after 30 s), remove the folder (kept when HAMLET_KEEP_TMP is set), free.
 * Accepts NULL. */
void hubproc_free(struct hubproc *hub);

/* hubproc_run(hub, args, out, out_len): run `hamlet-hub --db DB args...`
 * (args NULL-terminated) and wait for it. stdout is returned in *out
 * (malloc'd, NUL-terminated) when out is not NULL; stderr goes to the
 * test's stderr. Returns the exit status (0-255), or -1 if it could not
 * run or died of a signal. */
int hubproc_run(struct hubproc *hub, const char *const *args, char **out, size_t *out_len);

/* hubproc_village_add(hub, code): `village add CODE --name CODE`. 0 or -1. */
int hubproc_village_add(struct hubproc *hub, const char *code);

/* hubproc_device_add(hub, village, code, code_len): `device add` with the
 * hub's URL and certificate; the enrolment code (its last line) goes to
 * code. hubproc_devices_add(hub, village, n, codes) adds n devices, running
 * a few commands at once; codes[i] receives each code. 0 or -1. */
int hubproc_device_add(struct hubproc *hub, const char *village, char *code, size_t code_len);
int hubproc_devices_add(struct hubproc *hub, const char *village, size_t n,
                        char (*codes)[HUBPROC_CODE_MAX]);

/* hubproc_export(hub, village, out, out_len): `export [--village V]`
 * (village may be NULL); *out malloc'd. 0 or -1. */
int hubproc_export(struct hubproc *hub, const char *village, char **out, size_t *out_len);

/* hubproc_start(hub): start `serve` on the hub's port and wait (at most
 * 30 s) until GET /v1/health answers 200. Returns 0, or -1 (the server
 * exited or never answered; it is killed then). */
int hubproc_start(struct hubproc *hub);

/* hubproc_stop(hub): SIGTERM and wait. Returns the exit status (0 for a
 * clean stop), or -1 if it died of a signal or did not stop in 30 s (it is
 * killed then). 0 when nothing ran. */
int hubproc_stop(struct hubproc *hub);

/* hubproc_kill(hub): SIGKILL and wait. */
void hubproc_kill(struct hubproc *hub);

/* hubproc_alive(hub): 1 if the server process still runs. */
int hubproc_alive(struct hubproc *hub);

/* hubproc_peak_kb(hub): the server's peak resident memory (VmHWM), in KiB,
 * or -1. */
long hubproc_peak_kb(struct hubproc *hub);

/* hubproc_read_log(hub): the server's log so far, malloc'd, or NULL. */
char *hubproc_read_log(struct hubproc *hub);

/* hubproc_open_db(hub, out): the hub's database opened read-only, for
 * checks. Close with sqlite3_close(). 0 or -1. */
int hubproc_open_db(struct hubproc *hub, sqlite3 **out);

/* hubproc_query_int(hub, sql, out): the first column of the first row of
 * one fixed SQL statement, on a read-only connection. 0 or -1. */
int hubproc_query_int(struct hubproc *hub, const char *sql, long long *out);

#endif
