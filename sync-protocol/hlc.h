/* SPDX-License-Identifier: MIT */
/*
 * hlc.h - hybrid logical clock.
 *
 * Every change the journal records is stamped with an hlc, so that replicas
 * that never talk to each other still order edits the same way. A stamp is
 * 64 bits: Unix milliseconds in the high 48, a counter in the low 16; the
 * node id breaks ties between equal stamps. The clock follows the wall clock
 * (plus a correction learned from the hub), never runs backwards on its own,
 * and refuses remote stamps further ahead than the configured drift.
 */
#ifndef HAMLET_HLC_H
#define HAMLET_HLC_H

#include <stdint.h>

#define HLC_MS(stamp)        ((int64_t)((stamp) >> 16))
#define HLC_COUNT(stamp)     ((unsigned)((stamp)&0xffffu))
#define HLC_STAMP(ms, count) (((uint64_t)(ms) << 16) | ((uint64_t)(count)&0xffffu))
#define HLC_HEXLEN           16 /* characters of a stamp or node id in text */

struct hlc; /* opaque: fields live in hlc.c */

/* hlc_new(max_drift_ms): a clock that reads the system's real-time clock.
 * NULL on out-of-memory. Free with hlc_free(). */
struct hlc *hlc_new(int64_t max_drift_ms);
void hlc_free(struct hlc *clock); /* accepts NULL */

/* hlc_set_wall(clock, wall, ctx): read milliseconds from wall(ctx) instead of
 * the system clock (simulations and tests). wall NULL restores the system
 * clock. */
void hlc_set_wall(struct hlc *clock, int64_t (*wall)(void *ctx), void *ctx);

/* hlc_wall(clock): the corrected wall clock, in Unix milliseconds. */
int64_t hlc_wall(const struct hlc *clock);

/* hlc_now(clock, out): a new stamp for a local event, greater than every
 * stamp this clock issued or observed. Returns 0, or SYNC_E_HLC_OVERFLOW when
 * 65,536 stamps were needed within one millisecond of the wall clock; the
 * clock is unchanged and the caller may try again. (A clock that followed a
 * remote stamp ahead of the wall carries into the next millisecond instead.) */
int hlc_now(struct hlc *clock, uint64_t *out);

/* hlc_observe(clock, remote): advance past a stamp received from another
 * node. Returns 0, SYNC_E_HLC_DRIFT when remote is more than max_drift_ms
 * ahead of the corrected wall clock; the clock is then unchanged. A refused stamp is still valid
 * data: merging never depends on having observed it. */
int hlc_observe(struct hlc *clock, uint64_t remote);

/* hlc_last(clock): the latest stamp issued or observed (0 for none). */
uint64_t hlc_last(const struct hlc *clock);

/* hlc_restore(clock, last): resume after a restart from a persisted
 * hlc_last(); the clock only moves forward. */
void hlc_restore(struct hlc *clock, uint64_t last);

/* hlc_correct(clock, offset_ms): set the correction added to the wall clock
 * (the hub's time minus ours). If the clock had run ahead of the corrected
 * wall by more than the allowed drift (the machine's clock was wrong), it
 * restarts from the corrected wall: stamps issued before stay valid, and
 * every write is stamped above the value it replaces, so nothing is lost. */
void hlc_correct(struct hlc *clock, int64_t offset_ms);

/* hlc_offset(clock): the current correction in milliseconds. */
int64_t hlc_offset(const struct hlc *clock);

/* hlc_max_drift(clock): the drift limit given to hlc_new(). */
int64_t hlc_max_drift(const struct hlc *clock);

/* hlc_format(value, out): a stamp or node id as 16 lower-case hex digits
 * into out (17 bytes). */
void hlc_format(uint64_t value, char out[HLC_HEXLEN + 1]);

/* hlc_parse(text, out): parse exactly 16 hex digits (either case).
 * Returns 0, or SYNC_E_FIELD_TYPE. */
int hlc_parse(const char *text, uint64_t *out);

#endif
