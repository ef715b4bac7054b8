/* SPDX-License-Identifier: MIT */
/*
 * uuid7.h - record ids made offline: 128-bit, time-ordered UUIDv7 (RFC 9562).
 *
 * Every record gets its id on the device that creates it, with no network:
 * 48 bits of Unix milliseconds, a 12-bit counter that keeps ids made in the
 * same millisecond in order, and 62 random bits, so no two devices make the
 * same id. Ids travel and are stored in the canonical lower-case text form.
 */
#ifndef HAMLET_UUID7_H
#define HAMLET_UUID7_H

#include <stdint.h>

#define UUID7_STRLEN    36 /* characters, without the terminating NUL */
#define UUID7_MAX_LABEL 48 /* bytes of a derivation's label */
/* A derivation: "<uuid>/<label>", without the terminating NUL. */
#define UUID7_FROMLEN (UUID7_STRLEN + 1 + UUID7_MAX_LABEL)

/* uuid7_make(unix_ms, out): a new id for the given time into out (37 bytes,
 * NUL-terminated). Ids made by one thread are strictly increasing.
 * Returns 0, or SYNC_E_RANDOM if the system gives no random bytes. */
int uuid7_make(int64_t unix_ms, char out[UUID7_STRLEN + 1]);

/* uuid7_now(out): as uuid7_make() with the system clock. */
int uuid7_now(char out[UUID7_STRLEN + 1]);

/* uuid7_valid(s): 1 if s is a UUID in canonical lower-case form
 * (8-4-4-4-12 hex digits, any version), else 0. Accepts NULL (0). */
int uuid7_valid(const char *s);

/* uuid7_derive(seed, out): the id every replica derives alike from the same
 * seed text, for a record that has no id of its own but must be recognised
 * when it is made again (a party of an imported case; the one record of a
 * kind a village has): the first 16 bytes of BLAKE2b (RFC 7693, unkeyed) of
 * seed, as a version-8 UUID (RFC 9562). Returns 0, or SYNC_E_ARG for a NULL
 * argument or a seed over 1,000 bytes. */
int uuid7_derive(const char *seed, char out[UUID7_STRLEN + 1]);

/* uuid7_from_valid(from): 1 if from is a derivation "<uuid>/<label>": a
 * UUID in canonical form, a slash, and a label of 1 to UUID7_MAX_LABEL
 * bytes of ASCII letters, digits, '_', '-', '.' and '/' (PROTOCOL.md 1).
 * The record's id is then uuid7_derive(from). Accepts NULL (0). */
int uuid7_from_valid(const char *from);

/* uuid7_time(s): the Unix milliseconds in a valid version-7 id, or -1. */
int64_t uuid7_time(const char *s);

#endif
