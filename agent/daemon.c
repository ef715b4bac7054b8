/* SPDX-License-Identifier: MIT */
/*
 * daemon.c - the background sync loop.
 */
#include "daemon.h"

#include "sync_client.h"

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

/* Syslog priorities of the log lines (sd-daemon(3) prefixes). */
#define LOG_PRI_ERR  3
#define LOG_PRI_WARN 4
#define LOG_PRI_INFO 6

static volatile sig_atomic_t stop_requested, wake_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_wake(int sig)
{
    (void)sig;
    wake_requested = 1;
}

void daemon_opts_default(struct daemon_opts *opts)
{
    opts->debounce_s = 5;
    opts->interval_s = 900;
    opts->idle_max_s = 14400;
    opts->backoff_min_s = 30;
    opts->backoff_max_s = 1800;
    opts->log = stderr;
}

static int64_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* Whether f is the stream systemd connected to the journal: JOURNAL_STREAM
 * names its device and inode ("DEV:INODE"). The journal stamps each line
 * itself and reads a leading "<N>" as its priority. */
static int is_journal(FILE *f)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(fileno(f), &st) != 0) {
        return 0;
    }
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static void say(const struct daemon_opts *o, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(const struct daemon_opts *o, int priority, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (is_journal(o->log)) {
        fprintf(o->log, "<%d>hamlet daemon: ", priority);
    } else {
        char stamp[32];
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(o->log, "%s hamlet daemon: ", stamp);
    }
    vfprintf(o->log, fmt, ap);
    fprintf(o->log, "\n");
    fflush(o->log);
    va_end(ap);
}

unsigned daemon_next_interval(const struct daemon_opts *o, unsigned current, int moved)
{
    unsigned top = o->idle_max_s > o->interval_s ? o->idle_max_s : o->interval_s;
    if (moved || current < o->interval_s) {
        return o->interval_s;
    }
    return current > top / 2 ? top : current * 2;
}

/* A delay of base seconds, spread by +-25% at random. */
static int64_t jittered(int64_t base)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
        r = (uint32_t)time(NULL);
    }
    int64_t spread = base / 2;
    return base - base / 4 + (spread > 0 ? (int64_t)(r % (uint32_t)(spread + 1)) : 0);
}

int daemon_loop(struct local *l, const struct daemon_opts *o)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_wake;
    sigaction(SIGUSR1, &sa, NULL);
    stop_requested = 0;
    wake_requested = 0;
    say(o, LOG_PRI_INFO,
        "started for village %s (sync %u s after a change, then every %u s, up to %u s while"
        " nothing moves)",
        l->village, o->debounce_s, o->interval_s, o->idle_max_s);
    int64_t seen_seq = replica_own_seq(l->replica);
    int64_t next = now_s() + 1; /* sync once at start */
    int64_t backoff = 0;
    unsigned interval = o->interval_s;
    int rc = 0;
    while (!stop_requested) {
        if (wake_requested) {
            wake_requested = 0;
            say(o, LOG_PRI_INFO, "woken (SIGUSR1): syncing now");
            next = now_s();
            backoff = 0;
        }
        int64_t seq = replica_own_seq(l->replica);
        if (seq != seen_seq) {
            seen_seq = seq;
            int64_t soon = now_s() + o->debounce_s;
            if (backoff == 0 && soon < next) {
                next = soon;
            }
            interval = o->interval_s;
        }
        if (now_s() >= next) {
            struct sync_client_summary s;
            if (sync_client_run(l, 3, &s) == 0) {
                backoff = 0;
                interval = daemon_next_interval(o, interval, s.sent > 0 || s.received > 0);
                next = now_s() + interval;
                say(o, LOG_PRI_INFO,
                    "synced: sent %lld, received %lld, %lld bytes up, %lld down; next in %u s%s",
                    (long long)s.sent, (long long)s.received, (long long)s.bytes_up,
                    (long long)s.bytes_down, interval,
                    s.clock_off ? "; this laptop's clock is off, Hamlet follows the hub's" : "");
            } else if (s.revoked) {
                say(o, LOG_PRI_ERR, "stopping: %s", s.error);
                rc = -1;
                break;
            } else if (s.busy) {
                next = now_s() + 10;
            } else {
                backoff = backoff ? backoff * 2 : o->backoff_min_s;
                if (backoff > o->backoff_max_s) {
                    backoff = o->backoff_max_s;
                }
                int64_t wait = jittered(backoff);
                next = now_s() + wait;
                say(o, LOG_PRI_WARN, "sync failed (%s); trying again in %lld s", s.error,
                    (long long)wait);
            }
        }
        struct timespec tick = {1, 0};
        nanosleep(&tick, NULL);
    }
    if (!rc) {
        say(o, LOG_PRI_INFO, "stopped");
    }
    return rc;
}
