/* SPDX-License-Identifier: MIT */
/*
 * envelope.h - the frame around every delta, on the wire and in a file.
 *
 * An envelope is a 20-byte header (magic "HMLT", format version, flags,
 * stored and inflated body lengths, CRC-32 of header and body) followed by
 * the body, usually zlib-compressed JSON. The same bytes travel in an HTTPS
 * request or on a USB stick (DESIGN.md rule 11). Opening one enforces every
 * limit before memory is spent: a damaged, hostile or oversized envelope is
 * refused with its own error and nothing is decoded. PROTOCOL.md gives the
 * layout byte by byte.
 */
#ifndef HAMLET_ENVELOPE_H
#define HAMLET_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_HEADER  20   /* bytes before the body */
#define ENVELOPE_VERSION 1    /* the format this code writes and reads */
#define ENVELOPE_DEFLATE 0x01 /* flag: the body is zlib-compressed (RFC 1950) */

/* The limits every decode enforces. Each refusal has its own error code. */
struct envelope_limits {
    size_t max_envelope; /* header plus stored body, bytes (SYNC_E_ENV_TOO_BIG) */
    size_t max_body;     /* body after inflation, bytes (SYNC_E_ENV_INFLATED) */
    size_t max_ratio;    /* inflated / stored size (SYNC_E_ENV_RATIO) */
    int max_depth;       /* JSON nesting of the delta (SYNC_E_JSON_DEPTH) */
    size_t max_string;   /* bytes in any JSON string (SYNC_E_JSON_STRING) */
    size_t max_changes;  /* changes in one delta (SYNC_E_TOO_MANY) */
};

/* envelope_limits_default(limits): the defaults PROTOCOL.md lists
 * (8 MiB stored, 64 MiB inflated, ratio 200, depth 8, strings of 64 KiB,
 * 50,000 changes). */
void envelope_limits_default(struct envelope_limits *limits);

/* envelope_seal(body, len, level, out, out_len): frame body into a new
 * envelope. level is a zlib level 1-9, or 0 to store the body uncompressed.
 * On success *out is malloc'd (the caller frees it) and 0 is returned;
 * otherwise SYNC_E_NOMEM or SYNC_E_ARG (body over 4 GiB, bad level). */
int envelope_seal(const void *body, size_t len, int level, uint8_t **out, size_t *out_len);

/* envelope_size(buf, len, total): from at least ENVELOPE_HEADER bytes, the
 * size of the whole envelope, for readers of a stream. Returns 0,
 * SYNC_E_ENV_TRUNCATED (fewer bytes than the header), SYNC_E_ENV_MAGIC or
 * SYNC_E_ENV_VERSION. */
int envelope_size(const uint8_t *buf, size_t len, size_t *total);

/* envelope_open(buf, len, limits, body, body_len): check and unpack one
 * envelope that fills buf exactly. On success *body is a malloc'd,
 * NUL-terminated copy of the inflated body (the caller frees it) and 0 is
 * returned. On failure nothing is allocated and the code says why:
 * SYNC_E_ENV_TRUNCATED, _MAGIC, _VERSION, _FLAGS, _TOO_BIG, _INFLATED,
 * _RATIO, _CRC, _CORRUPT, _LENGTH, _TRAILING, or SYNC_E_NOMEM. Inflation
 * never writes more than the declared size, so a zlib bomb costs at most
 * limits->max_body bytes. */
int envelope_open(const uint8_t *buf, size_t len, const struct envelope_limits *limits, char **body,
                  size_t *body_len);

#endif
