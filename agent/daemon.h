/* SPDX-License-Identifier: MIT */
/*
 * daemon.h - hamlet daemon: sync in the background.
 *
 * Syncs soon after local changes (a few seconds after the last one, so a
 * burst of edits travels together), and every interval otherwise, to bring
 * the township's changes down. A village pays for every byte, so while syncs
 * find nothing to send or receive the interval doubles, up to idle_max; any
 * change, local or from the hub, brings it back to interval. A quiet day
 * then costs about ten syncs instead of ninety-six. While the hub cannot be reached it retries
 * with capped exponential backoff and jitter, so a hundred laptops coming
 * back online do not all knock at once. It never runs two syncs at once (the
 * sync lock), and stops cleanly on SIGTERM or SIGINT. SIGUSR1 asks for a
 * sync now, ending any backoff: NetworkManager's hook sends it when a link
 * comes up. Its log lines carry syslog priorities ("<6>", sd-daemon(3))
 * when the log is the systemd journal's stream, so that failures stand out
 * in journalctl.
 */
#ifndef HAMLET_DAEMON_H
#define HAMLET_DAEMON_H

#include "local.h"

#include <stdio.h>

struct daemon_opts {
    unsigned debounce_s;                   /* after a local change (default 5) */
    unsigned interval_s;                   /* between syncs after a change (default 900) */
    unsigned idle_max_s;                   /* the longest interval when idle (default 14400) */
    unsigned backoff_min_s, backoff_max_s; /* default 30 and 1800 */
    FILE *log;
};

void daemon_opts_default(struct daemon_opts *opts);

/* daemon_next_interval(opts, current, moved): the interval after a sync
 * that succeeded: opts->interval_s when it sent or received anything
 * (moved), else current doubled, at most opts->idle_max_s (and never below
 * interval_s). */
unsigned daemon_next_interval(const struct daemon_opts *opts, unsigned current, int moved);

/* daemon_loop(local, opts): run until SIGTERM/SIGINT (0) or until the hub
 * revokes this laptop (-1); SIGUSR1 makes it sync at once. */
int daemon_loop(struct local *local, const struct daemon_opts *opts);

#endif
