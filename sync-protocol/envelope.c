/* SPDX-License-Identifier: MIT */
/*
 * envelope.c - sealing and opening envelopes with zlib. Checks run from the
 * cheapest to the dearest: header fields, declared sizes and ratio, the
 * CRC over the bytes as received, and only then inflation into a buffer of
 * exactly the declared size.
 */
#include "envelope.h"

#include "sync_error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const uint8_t magic[4] = {'H', 'M', 'L', 'T'};

void envelope_limits_default(struct envelope_limits *limits)
{
    limits->max_envelope = 8u << 20;
    limits->max_body = 64u << 20;
    limits->max_ratio = 200;
    limits->max_depth = 8;
    limits->max_string = 64u << 10;
    limits->max_changes = 50000;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* CRC-32 of the header without its CRC field, then of the stored body. */
static uint32_t envelope_crc(const uint8_t *header, const uint8_t *stored, size_t stored_len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, header, 16);
    /* zlib takes uInt lengths; the stored body is at most 4 GiB - 1 but may
     * exceed uInt on odd platforms, so feed it in pieces. */
    while (stored_len > 0) {
        uInt piece = stored_len > UINT_MAX ? UINT_MAX : (uInt)stored_len;
        crc = crc32(crc, stored, piece);
        stored += piece;
        stored_len -= piece;
    }
    return (uint32_t)crc;
}

int envelope_seal(const void *body, size_t len, int level, uint8_t **out, size_t *out_len)
{
    if (len > UINT32_MAX || level < 0 || level > 9 || (!body && len)) {
        return SYNC_E_ARG;
    }
    size_t bound = level ? compressBound((uLong)len) : len;
    uint8_t *buf = malloc(ENVELOPE_HEADER + bound + 1);
    if (!buf) {
        return SYNC_E_NOMEM;
    }
    size_t stored_len = len;
    if (level) {
        uLongf dest_len = (uLongf)bound;
        if (compress2(buf + ENVELOPE_HEADER, &dest_len, body, (uLong)len, level) != Z_OK) {
            free(buf);
            return SYNC_E_NOMEM;
        }
        stored_len = dest_len;
    } else if (len) {
        memcpy(buf + ENVELOPE_HEADER, body, len);
    }
    if (stored_len > UINT32_MAX) {
        free(buf);
        return SYNC_E_ARG;
    }
    memcpy(buf, magic, 4);
    buf[4] = ENVELOPE_VERSION;
    buf[5] = level ? ENVELOPE_DEFLATE : 0;
    buf[6] = 0;
    buf[7] = 0;
    put32(buf + 8, (uint32_t)stored_len);
    put32(buf + 12, (uint32_t)len);
    put32(buf + 16, envelope_crc(buf, buf + ENVELOPE_HEADER, stored_len));
    *out = buf;
    *out_len = ENVELOPE_HEADER + stored_len;
    return 0;
}

int envelope_size(const uint8_t *buf, size_t len, size_t *total)
{
    if (len < ENVELOPE_HEADER) {
        return SYNC_E_ENV_TRUNCATED;
    }
    if (memcmp(buf, magic, 4) != 0) {
        return SYNC_E_ENV_MAGIC;
    }
    if (buf[4] != ENVELOPE_VERSION) {
        return SYNC_E_ENV_VERSION;
    }
    *total = ENVELOPE_HEADER + (size_t)get32(buf + 8);
    return 0;
}

/* Inflate exactly want bytes from stored into a new buffer. */
static int inflate_exact(const uint8_t *stored, size_t stored_len, size_t want, char **out)
{
    char *dest = malloc(want + 1);
    if (!dest) {
        return SYNC_E_NOMEM;
    }
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK) {
        free(dest);
        return SYNC_E_NOMEM;
    }
    zs.next_in = (Bytef *)(uintptr_t)stored;
    zs.avail_in = (uInt)stored_len;
    /* One byte more than declared (the buffer has it, for the NUL) tells a
     * stream that would run longer from one that is merely cut short. */
    zs.next_out = (Bytef *)dest;
    zs.avail_out = (uInt)want + 1;
    int zrc = inflate(&zs, Z_FINISH);
    int rc = 0;
    if (zrc == Z_STREAM_END) {
        if (zs.total_out != want) {
            rc = SYNC_E_ENV_LENGTH;
        } else if (zs.avail_in != 0) {
            rc = SYNC_E_ENV_TRAILING;
        }
    } else if (zs.total_out > want) {
        rc = SYNC_E_ENV_LENGTH; /* more data than declared: stop right here */
    } else if (zrc == Z_MEM_ERROR) {
        rc = SYNC_E_NOMEM;
    } else {
        /* Not zlib data, or the input ends before the stream does. */
        rc = SYNC_E_ENV_CORRUPT;
    }
    inflateEnd(&zs);
    if (rc != 0) {
        free(dest);
        return rc;
    }
    dest[want] = '\0';
    *out = dest;
    return 0;
}

int envelope_open(const uint8_t *buf, size_t len, const struct envelope_limits *limits, char **body,
                  size_t *body_len)
{
    size_t total;
    int rc = envelope_size(buf, len, &total);
    if (rc != 0) {
        return rc;
    }
    uint8_t flags = buf[5];
    if ((flags & ~ENVELOPE_DEFLATE) != 0 || buf[6] != 0 || buf[7] != 0) {
        return SYNC_E_ENV_FLAGS;
    }
    size_t stored_len = get32(buf + 8);
    size_t inflated_len = get32(buf + 12);
    if (total > limits->max_envelope) {
        return SYNC_E_ENV_TOO_BIG;
    }
    if (len < total) {
        return SYNC_E_ENV_TRUNCATED;
    }
    if (len > total) {
        return SYNC_E_ENV_TRAILING;
    }
    if (inflated_len > limits->max_body) {
        return SYNC_E_ENV_INFLATED;
    }
    if (!(flags & ENVELOPE_DEFLATE) && inflated_len != stored_len) {
        return SYNC_E_ENV_LENGTH;
    }
    if ((flags & ENVELOPE_DEFLATE) &&
        inflated_len > (stored_len ? stored_len : 1) * limits->max_ratio) {
        return SYNC_E_ENV_RATIO;
    }
    const uint8_t *stored = buf + ENVELOPE_HEADER;
    if (envelope_crc(buf, stored, stored_len) != get32(buf + 16)) {
        return SYNC_E_ENV_CRC;
    }
    char *out = NULL;
    if (flags & ENVELOPE_DEFLATE) {
        rc = inflate_exact(stored, stored_len, inflated_len, &out);
        if (rc != 0) {
            return rc;
        }
    } else {
        out = malloc(stored_len + 1);
        if (!out) {
            return SYNC_E_NOMEM;
        }
        if (stored_len) {
            memcpy(out, stored, stored_len);
        }
        out[stored_len] = '\0';
    }
    *body = out;
    *body_len = inflated_len;
    return 0;
}
