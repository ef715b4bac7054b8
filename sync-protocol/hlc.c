/* SPDX-License-Identifier: MIT */
/*
 * hlc.c - hybrid logical clock (Kulkarni et al., "Logical Physical Clocks").
 * The stamp is kept as one integer, so "greater" is one comparison; the
 * counter lives in the low 16 bits and resets whenever the wall clock moves
 * past the stamp's milliseconds.
 */
#include "hlc.h"

#include "sync_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hlc {
    uint64_t last;
    int64_t max_drift_ms;
    int64_t offset_ms;
    int64_t (*wall)(void *ctx);
    void *wall_ctx;
};

static int64_t system_wall(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct hlc *hlc_new(int64_t max_drift_ms)
{
    struct hlc *clock = calloc(1, sizeof *clock);
    if (!clock) {
        return NULL;
    }
    clock->max_drift_ms = max_drift_ms;
    clock->wall = system_wall;
    return clock;
}

void hlc_free(struct hlc *clock)
{
    free(clock);
}

void hlc_set_wall(struct hlc *clock, int64_t (*wall)(void *ctx), void *ctx)
{
    clock->wall = wall ? wall : system_wall;
    clock->wall_ctx = ctx;
}

int64_t hlc_wall(const struct hlc *clock)
{
    int64_t ms = clock->wall(clock->wall_ctx) + clock->offset_ms;
    /* The stamp holds 48 bits of milliseconds; keep within them. */
    if (ms < 0) {
        ms = 0;
    }
    if (ms > (int64_t)0xffffffffffffLL) {
        ms = (int64_t)0xffffffffffffLL;
    }
    return ms;
}

int hlc_now(struct hlc *clock, uint64_t *out)
{
    uint64_t wall = HLC_STAMP(hlc_wall(clock), 0);
    uint64_t stamp;
    if (wall > clock->last) {
        stamp = wall;
    } else if (HLC_COUNT(clock->last) < 0xffffu || HLC_MS(clock->last) > HLC_MS(wall)) {
        /* Count within the millisecond; a clock already ahead of the wall
         * (it followed a remote stamp) carries into the next one rather than
         * stop, since it runs ahead anyway. */
        stamp = clock->last + 1;
    } else {
        return SYNC_E_HLC_OVERFLOW;
    }
    clock->last = stamp;
    *out = stamp;
    return 0;
}

int hlc_observe(struct hlc *clock, uint64_t remote)
{
    if (HLC_MS(remote) > hlc_wall(clock) + clock->max_drift_ms) {
        return SYNC_E_HLC_DRIFT;
    }
    /* Remember it even when the wall is past it: the wall may step back. */
    if (remote > clock->last) {
        clock->last = remote;
    }
    return 0;
}

uint64_t hlc_last(const struct hlc *clock)
{
    return clock->last;
}

void hlc_restore(struct hlc *clock, uint64_t last)
{
    if (last > clock->last) {
        clock->last = last;
    }
}

void hlc_correct(struct hlc *clock, int64_t offset_ms)
{
    clock->offset_ms = offset_ms;
    int64_t wall_ms = hlc_wall(clock);
    if (HLC_MS(clock->last) > wall_ms + clock->max_drift_ms) {
        clock->last = HLC_STAMP(wall_ms, 0);
    }
}

int64_t hlc_offset(const struct hlc *clock)
{
    return clock->offset_ms;
}

int64_t hlc_max_drift(const struct hlc *clock)
{
    return clock->max_drift_ms;
}

void hlc_format(uint64_t value, char out[HLC_HEXLEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = HLC_HEXLEN - 1; i >= 0; i--) {
        out[i] = digits[value & 0xf];
        value >>= 4;
    }
    out[HLC_HEXLEN] = '\0';
}

int hlc_parse(const char *text, uint64_t *out)
{
    if (!text || strlen(text) != HLC_HEXLEN) {
        return SYNC_E_FIELD_TYPE;
    }
    uint64_t v = 0;
    for (int i = 0; i < HLC_HEXLEN; i++) {
        char c = text[i];
        unsigned d;
        if (c >= '0' && c <= '9') {
            d = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = (unsigned)(c - 'A' + 10);
        } else {
            return SYNC_E_FIELD_TYPE;
        }
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}
