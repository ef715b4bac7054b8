/* SPDX-License-Identifier: MIT */
/*
 * hubproc.c - starting, stopping and administering the real hamlet-hub for
 * tests. Programs are started with posix_spawn() and an argument vector,
 * never through a shell; their output goes to files in the hub's folder.
 */
#include "hubproc.h"

#include "hubclient.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_OUTPUT   ((size_t)256 << 20) /* bytes of a command's output read back */
#define PARALLEL_ADD 4                   /* device add commands at once */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read a whole file into a malloc'd, NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len_out)
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

/* Start argv[0] with stdin from /dev/null, stdout to out_path (truncated,
 * or appended to when append is 1) and stderr to err_path (NULL: the
 * test's stderr). Returns the pid, or -1. */
static pid_t spawn(char *const argv[], const char *out_path, const char *err_path, int append)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        return -1;
    }
    int mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
    int rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0) {
        rc = posix_spawn_file_actions_addopen(&fa, 1, out_path, mode, 0600);
    }
    if (rc == 0 && err_path) {
        rc =
            posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    }
    pid_t pid = -1;
    if (rc == 0 && posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        pid = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* Wait for a child; its exit status, or -1 for a signal. */
static int wait_exit(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* argv of `hamlet-hub --db DB args...` into argv (room for max). */
static int build_argv(struct hubproc *h, const char *const *args, char **argv, size_t max)
{
    size_t n = 0;
    argv[n++] = h->bin;
    argv[n++] = "--db";
    argv[n++] = h->db;
    for (size_t i = 0; args && args[i]; i++) {
        if (n + 1 >= max) {
            return -1;
        }
        argv[n++] = (char *)args[i];
    }
    argv[n] = NULL;
    return 0;
}

static int run_to(struct hubproc *h, const char *const *args, const char *out_path, pid_t *pid)
{
    char *argv[40];
    if (build_argv(h, args, argv, sizeof argv / sizeof argv[0]) != 0) {
        return -1;
    }
    *pid = spawn(argv, out_path, NULL, 0);
    return *pid > 0 ? 0 : -1;
}

int hubproc_run(struct hubproc *h, const char *const *args, char **out, size_t *out_len)
{
    char path[HUBPROC_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/cli.out", h->dir);
    pid_t pid;
    if (run_to(h, args, path, &pid) != 0) {
        return -1;
    }
    int status = wait_exit(pid);
    if (out) {
        *out = slurp(path, out_len);
        if (!*out) {
            status = -1;
        }
    }
    unlink(path);
    return status;
}

/* The last non-empty line of text into out; -1 if none fits. */
static int last_line(const char *text, char *out, size_t out_len)
{
    size_t end = strlen(text);
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r')) {
        end--;
    }
    size_t start = end;
    while (start > 0 && text[start - 1] != '\n') {
        start--;
    }
    if (end == start || end - start >= out_len) {
        return -1;
    }
    memcpy(out, text + start, end - start);
    out[end - start] = '\0';
    return 0;
}

int hubproc_village_add(struct hubproc *h, const char *code)
{
    const char *args[] = {"village", "add", code, "--name", code, NULL};
    char *out = NULL;
    int rc = hubproc_run(h, args, &out, NULL);
    free(out);
    return rc == 0 ? 0 : -1;
}

/* Read the enrolment code a finished `device add` wrote to path. */
static int read_code(const char *path, char *code, size_t code_len)
{
    char *out = slurp(path, NULL);
    int rc = out && last_line(out, code, code_len) == 0 &&
                     strncmp(code, DEVICES_CODE_PREFIX, strlen(DEVICES_CODE_PREFIX)) == 0
                 ? 0
                 : -1;
    free(out);
    return rc;
}

int hubproc_device_add(struct hubproc *h, const char *village, char *code, size_t code_len)
{
    const char *args[] = {"device", "add",    "--village", village, "--url",
                          h->url,   "--cert", h->cert,     NULL};
    char *out = NULL;
    int rc = hubproc_run(h, args, &out, NULL);
    if (rc == 0) {
        rc = out && last_line(out, code, code_len) == 0 ? 0 : -1;
    }
    free(out);
    return rc == 0 ? 0 : -1;
}

int hubproc_devices_add(struct hubproc *h, const char *village, size_t n,
                        char (*codes)[HUBPROC_CODE_MAX])
{
    const char *args[] = {"device", "add",    "--village", village, "--url",
                          h->url,   "--cert", h->cert,     NULL};
    int failed = 0;
    for (size_t first = 0; first < n; first += PARALLEL_ADD) {
        pid_t pids[PARALLEL_ADD];
        char paths[PARALLEL_ADD][HUBPROC_PATH_MAX + 32];
        size_t count = n - first < PARALLEL_ADD ? n - first : PARALLEL_ADD;
        for (size_t i = 0; i < count; i++) {
            snprintf(paths[i], sizeof paths[i], "%s/add-%zu.out", h->dir, i);
            if (run_to(h, args, paths[i], &pids[i]) != 0) {
                pids[i] = -1;
            }
        }
        for (size_t i = 0; i < count; i++) {
            if (pids[i] < 0 || wait_exit(pids[i]) != 0 ||
                read_code(paths[i], codes[first + i], HUBPROC_CODE_MAX) != 0) {
                failed = 1;
            }
            unlink(paths[i]);
        }
    }
    return failed ? -1 : 0;
}

int hubproc_export(struct hubproc *h, const char *village, char **out, size_t *out_len)
{
    const char *all[] = {"export", NULL};
    const char *one[] = {"export", "--village", village, NULL};
    int rc = hubproc_run(h, village ? one : all, out, out_len);
    if (rc != 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* A port on 127.0.0.1 that nothing listens on now. */
static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    unsigned port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0) {
        port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
}

int hubproc_new(const char *const *serve_args, struct hubproc **out)
{
    struct hubproc *h = calloc(1, sizeof *h);
    if (!h) {
        return -1;
    }
    const char *bin = getenv("HAMLET_HUB");
    snprintf(h->bin, sizeof h->bin, "%s", bin && bin[0] ? bin : "build/hamlet-hub");
    const char *tmp = getenv("TMPDIR");
    snprintf(h->dir, sizeof h->dir, "%s/hamlet-hub-test-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    char *out_text = NULL;
    if (access(h->bin, X_OK) != 0) {
        fprintf(stderr, "hubproc: %s is not a program (build it, or set HAMLET_HUB)\n", h->bin);
        free(h);
        return -1;
    }
    if (!mkdtemp(h->dir)) {
        fprintf(stderr, "hubproc: cannot make %s: %s\n", h->dir, strerror(errno));
        free(h);
        return -1;
    }
    snprintf(h->db, sizeof h->db, "%s/hub.db", h->dir);
    snprintf(h->cert, sizeof h->cert, "%s/hub.crt", h->dir);
    snprintf(h->key, sizeof h->key, "%s/hub.key", h->dir);
    snprintf(h->log, sizeof h->log, "%s/hub.log", h->dir);
    for (size_t i = 0; serve_args && serve_args[i]; i++) {
        if (h->nserve_args + 1 >= HUBPROC_MAX_ARGS ||
            !(h->serve_args[h->nserve_args++] = strdup(serve_args[i]))) {
            goto fail;
        }
    }
    const char *cert_args[] = {"cert", "generate", "--out", h->dir, "--name", "localhost", NULL};
    if (hubproc_run(h, cert_args, &out_text, NULL) != 0) {
        fprintf(stderr, "hubproc: cert generate failed\n");
        goto fail;
    }
    const char *pin = strstr(out_text, "pin:");
    if (!pin) {
        fprintf(stderr, "hubproc: cert generate printed no pin\n");
        goto fail;
    }
    pin += 4;
    pin += strspn(pin, " \t");
    size_t pin_len = strcspn(pin, "\r\n");
    if (pin_len == 0 || pin_len >= sizeof h->pin) {
        goto fail;
    }
    memcpy(h->pin, pin, pin_len);
    h->pin[pin_len] = '\0';
    const char *init_args[] = {"init", NULL};
    if (hubproc_run(h, init_args, NULL, NULL) != 0) {
        fprintf(stderr, "hubproc: init failed\n");
        goto fail;
    }
    h->port = free_port();
    if (!h->port) {
        goto fail;
    }
    snprintf(h->url, sizeof h->url, "https://localhost:%u", h->port);
    snprintf(h->listen, sizeof h->listen, "127.0.0.1:%u", h->port);
    free(out_text);
    *out = h;
    return 0;
fail:
    free(out_text);
    hubproc_free(h);
    return -1;
}

/* Remove the hub's folder; it holds files only. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    char path[HUBPROC_PATH_MAX + 300];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

void hubproc_free(struct hubproc *h)
{
    if (!h) {
        return;
    }
    hubproc_stop(h);
    if (h->dir[0] && !getenv("HAMLET_KEEP_TMP")) {
        remove_dir(h->dir);
    } else if (h->dir[0]) {
        fprintf(stderr, "hubproc: kept %s\n", h->dir);
    }
    for (size_t i = 0; i < h->nserve_args; i++) {
        free(h->serve_args[i]);
    }
    free(h);
}

/* 1 if the child has exited (and is reaped), 0 if it runs. */
static int reaped(struct hubproc *h, int *status)
{
    pid_t r = waitpid(h->pid, status, WNOHANG);
    if (r < 0 && errno == ECHILD) {
        *status = -1; /* reaped elsewhere: its status is unknown */
    }
    if (r == h->pid || (r < 0 && errno == ECHILD)) {
        h->pid = 0;
        return 1;
    }
    return 0;
}

int hubproc_start(struct hubproc *h)
{
    if (h->pid) {
        return -1;
    }
    char *argv[HUBPROC_MAX_ARGS + 16];
    size_t n = 0;
    argv[n++] = h->bin;
    argv[n++] = "--db";
    argv[n++] = h->db;
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = h->listen;
    argv[n++] = "--cert";
    argv[n++] = h->cert;
    argv[n++] = "--key";
    argv[n++] = h->key;
    for (size_t i = 0; i < h->nserve_args; i++) {
        argv[n++] = h->serve_args[i];
    }
    argv[n] = NULL;
    struct hubclient_target target = {h->url, h->pin, h->cert, 5};
    /* A port just released by a killed hub may refuse a new listener for a
     * moment: try a few times. */
    for (int attempt = 0; attempt < 20; attempt++) {
        h->pid = spawn(argv, h->log, h->log, 1);
        if (h->pid < 0) {
            h->pid = 0;
            return -1;
        }
        h->starts++;
        double deadline = now_s() + 30;
        while (now_s() < deadline) {
            int status;
            if (reaped(h, &status)) {
                break;
            }
            if (hubclient_health(&target) == 200) {
                return 0;
            }
            sleep_ms(20);
        }
        if (h->pid) {
            fprintf(stderr, "hubproc: the hub did not answer within 30 s\n");
            hubproc_kill(h);
            return -1;
        }
        sleep_ms(250);
    }
    fprintf(stderr, "hubproc: the hub would not start (see %s)\n", h->log);
    return -1;
}

int hubproc_stop(struct hubproc *h)
{
    if (!h->pid) {
        return 0;
    }
    kill(h->pid, SIGTERM);
    double deadline = now_s() + 30;
    int status = 0;
    while (now_s() < deadline) {
        if (reaped(h, &status)) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        sleep_ms(10);
    }
    fprintf(stderr, "hubproc: the hub did not stop within 30 s of SIGTERM\n");
    hubproc_kill(h);
    return -1;
}

void hubproc_kill(struct hubproc *h)
{
    if (!h->pid) {
        return;
    }
    kill(h->pid, SIGKILL);
    wait_exit(h->pid);
    h->pid = 0;
}

int hubproc_alive(struct hubproc *h)
{
    int status;
    return h->pid && !reaped(h, &status);
}

long hubproc_peak_kb(struct hubproc *h)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)h->pid);
    char *text = h->pid ? slurp(path, NULL) : NULL;
    const char *line = text ? strstr(text, "VmHWM:") : NULL;
    long kb = -1;
    if (line) {
        char *end;
        kb = strtol(line + 6, &end, 10);
        if (end == line + 6) {
            kb = -1;
        }
    }
    free(text);
    return kb;
}

char *hubproc_read_log(struct hubproc *h)
{
    return slurp(h->log, NULL);
}

int hubproc_open_db(struct hubproc *h, sqlite3 **out)
{
    if (sqlite3_open_v2(h->db, out, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(*out);
        *out = NULL;
        return -1;
    }
    sqlite3_busy_timeout(*out, 10000);
    return 0;
}

int hubproc_query_int(struct hubproc *h, const char *sql, long long *out)
{
    sqlite3 *db;
    if (hubproc_open_db(h, &db) != 0) {
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}
