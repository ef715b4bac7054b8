/* SPDX-License-Identifier: MIT */
/*
 * sync_client.h - the agent's side of a sync, and enrolment.
 *
 * A sync sends the laptop's unacknowledged changes and asks for the
 * village's new ones in the same request (PROTOCOL.md §6.4), repeating until
 * both sides are caught up. Batches are sized in bytes: halved after a
 * failure (a cut link loses at most the batch in flight) and doubled after a
 * success, so that a bad link still makes progress. The hub's time comes
 * with every reply; the laptop's clock follows it. Only one sync runs at a
 * time per ledger file (a lock beside the file, that the daemon respects).
 */
#ifndef HAMLET_SYNC_CLIENT_H
#define HAMLET_SYNC_CLIENT_H

#include "local.h"

#include <stdint.h>

/* A batch's changes in their compact form (PROTOCOL.md 5.2), about what
 * the request's body is before compression. The largest holds a village's
 * first sync of the reference data (under 300 KB) in one request, and keeps
 * the agent's peak memory under 16 MiB (bench/). */
#define SYNC_CLIENT_MIN_BATCH     (2u << 10)
#define SYNC_CLIENT_MAX_BATCH     (320u << 10)
#define SYNC_CLIENT_CLOCK_WARN_MS (5LL * 60 * 1000) /* say so past 5 minutes */

struct sync_client_summary {
    int64_t sent, received, refused, conflicts;
    int64_t bytes_up, bytes_down;
    int rounds, failures;
    int64_t clock_offset_ms; /* hub minus laptop, before correction */
    int clock_off;           /* the laptop's clock is off by more than the warning */
    int busy;                /* another sync holds the lock */
    int revoked;             /* the hub revoked this laptop */
    int pin_mismatch;        /* the hub presented another key than the pinned one */
    char error[400];         /* why the sync did not complete */
};

/* sync_client_run(local, max_failures, summary): sync until caught up, or
 * until max_failures attempts in a row failed. Returns 0 when caught up,
 * -1 with summary->error otherwise. */
int sync_client_run(struct local *local, int max_failures, struct sync_client_summary *summary);

/* sync_client_enroll(local, code, why, why_len): enrol with a code from
 * 'hamlet-hub device add': check its form, exchange it at the hub for this
 * laptop's credential (the pin from the code is the only trust), and keep
 * the hub's URL, pin, device id, credential and village. Returns 0 or -1
 * with the reason in why. */
int sync_client_enroll(struct local *local, const char *code, char *why, size_t why_len);

/* sync_client_lock(local): take the sync lock without waiting; returns a
 * descriptor to pass to sync_client_unlock(), or -1 if another sync holds
 * it (or the lock file cannot be made). */
int sync_client_lock(struct local *local);
void sync_client_unlock(int fd);

#endif
