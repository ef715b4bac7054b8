/* SPDX-License-Identifier: MIT */
/*
 * uuid7.c - UUIDv7 record ids. The counter in rand_a (RFC 9562, method 1)
 * keeps one thread's ids ordered even when the clock stands still or steps
 * back: the last millisecond used is reused, and its counter advanced.
 */
#include "uuid7.h"

#include "sync_error.h"

#include <sodium.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static _Thread_local int64_t last_ms = -1;
static _Thread_local unsigned last_counter;

static int fill_random(unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0) {
            return SYNC_E_RANDOM;
        }
        got += (size_t)n;
    }
    return 0;
}

/* The canonical text of 16 bytes. */
static void format_uuid(const unsigned char b[16], char out[UUID7_STRLEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t at = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[at++] = '-';
        }
        out[at++] = hex[b[i] >> 4];
        out[at++] = hex[b[i] & 0x0f];
    }
    out[at] = '\0';
}

int uuid7_make(int64_t unix_ms, char out[UUID7_STRLEN + 1])
{
    unsigned char b[16];
    if (fill_random(b, sizeof b) != 0) {
        return SYNC_E_RANDOM;
    }
    if (unix_ms < 0) {
        unix_ms = 0;
    }
    unsigned counter;
    if (unix_ms > last_ms) {
        /* A fresh millisecond: start the counter at a random point in its
         * lower half, so that the next ones still have room. */
        counter = ((unsigned)b[6] << 8 | b[7]) & 0x7ff;
    } else {
        unix_ms = last_ms;
        counter = last_counter + 1;
        if (counter > 0xfff) {
            unix_ms++;
            counter = 0;
        }
    }
    last_ms = unix_ms;
    last_counter = counter;

    uint64_t ms = (uint64_t)unix_ms & 0xffffffffffffULL;
    for (int i = 0; i < 6; i++) {
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    }
    b[6] = (unsigned char)(0x70 | (counter >> 8));
    b[7] = (unsigned char)(counter & 0xff);
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));

    format_uuid(b, out);
    return 0;
}

int uuid7_now(char out[UUID7_STRLEN + 1])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return uuid7_make((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, out);
}

int uuid7_valid(const char *s)
{
    if (!s || strlen(s) != UUID7_STRLEN) {
        return 0;
    }
    for (int i = 0; i < UUID7_STRLEN; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return 0;
            }
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

int uuid7_derive(const char *seed, char out[UUID7_STRLEN + 1])
{
    unsigned char b[16];
    size_t len = seed ? strnlen(seed, 1001) : 0;
    if (!seed || !out || len > 1000 || sodium_init() < 0 ||
        crypto_generichash(b, sizeof b, (const unsigned char *)seed, len, NULL, 0) != 0) {
        return SYNC_E_ARG;
    }
    b[6] = (unsigned char)(0x80 | (b[6] & 0x0f));
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
    format_uuid(b, out);
    return 0;
}

int uuid7_from_valid(const char *from)
{
    if (!from) {
        return 0;
    }
    size_t len = strnlen(from, UUID7_FROMLEN + 1);
    if (len < UUID7_STRLEN + 2 || len > UUID7_FROMLEN || from[UUID7_STRLEN] != '/') {
        return 0;
    }
    char base[UUID7_STRLEN + 1];
    memcpy(base, from, UUID7_STRLEN);
    base[UUID7_STRLEN] = '\0';
    if (!uuid7_valid(base)) {
        return 0;
    }
    for (const char *p = from + UUID7_STRLEN + 1; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == '/')) {
            return 0;
        }
    }
    return 1;
}

int64_t uuid7_time(const char *s)
{
    if (!uuid7_valid(s) || s[14] != '7') {
        return -1;
    }
    int64_t ms = 0;
    for (int i = 0; i < 13; i++) {
        if (s[i] == '-') {
            continue;
        }
        char c = s[i];
        ms = ms * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return ms;
}
