/* SPDX-License-Identifier: MIT */
/*
 * test_envelope.c - unit tests of the envelope (sync-protocol/envelope.h),
 * the frame around every delta on the wire and on a USB stick. Round trips
 * of compressed and stored bodies, then every refusal with its own error
 * code. Damaged and hostile envelopes are forged here byte by byte, with
 * zlib's own crc32 and deflate, so that each check is reached with every
 * earlier check passing: a zlib bomb with a correct checksum, corrupt deflate
 * data with a correct checksum, lengths that lie.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "envelope.h"
#include "sync_error.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

#define BOMB_SIZE (50u << 20) /* zeros in the zlib bomb */

/* ---- helpers: the header layout of envelope.c, big-endian ---- */

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

/* Rewrite the CRC field: CRC-32 over header bytes 0..15, then everything
 * after the header (the stored body as the buffer holds it). */
static void fix_crc(uint8_t *env, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, env, 16);
    crc = crc32(crc, env + ENVELOPE_HEADER, (uInt)(len - ENVELOPE_HEADER));
    put32(env + 16, (uint32_t)crc);
}

/* A hand-made envelope around stored bytes, with a correct CRC. The caller
 * frees it. */
static uint8_t *forge(uint8_t flags, uint32_t inflated_len, const void *stored, size_t stored_len,
                      size_t *out_len)
{
    size_t len = ENVELOPE_HEADER + stored_len;
    uint8_t *env = malloc(len);
    assert_non_null(env);
    memcpy(env, "HMLT", 4);
    env[4] = ENVELOPE_VERSION;
    env[5] = flags;
    env[6] = 0;
    env[7] = 0;
    put32(env + 8, (uint32_t)stored_len);
    put32(env + 12, inflated_len);
    if (stored_len) {
        memcpy(env + ENVELOPE_HEADER, stored, stored_len);
    }
    fix_crc(env, len);
    *out_len = len;
    return env;
}

/* zlib-compress len bytes at level 9. The caller frees *out. */
static size_t zlib_compress(const void *body, size_t len, uint8_t **out)
{
    uLongf dest_len = compressBound((uLong)len);
    *out = malloc(dest_len);
    assert_non_null(*out);
    assert_int_equal(compress2(*out, &dest_len, body, (uLong)len, 9), Z_OK);
    return dest_len;
}

/* A zlib stream of n zeros, made in small pieces so that the test itself
 * never holds the inflated size in memory. The caller frees *out. */
static size_t zlib_zeros(size_t n, uint8_t **out)
{
    static const uint8_t zeros[64 * 1024];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit(&zs, 9), Z_OK);
    size_t cap = n / 500 + 4096;
    *out = malloc(cap);
    assert_non_null(*out);
    zs.next_out = *out;
    zs.avail_out = (uInt)cap;
    size_t left = n;
    int zrc;
    do {
        size_t piece = left < sizeof zeros ? left : sizeof zeros;
        zs.next_in = (Bytef *)(uintptr_t)zeros;
        zs.avail_in = (uInt)piece;
        left -= piece;
        zrc = deflate(&zs, left ? Z_NO_FLUSH : Z_FINISH);
        assert_true(zrc == Z_OK || zrc == Z_STREAM_END);
        assert_int_equal(zs.avail_in, 0);
    } while (left);
    assert_int_equal(zrc, Z_STREAM_END);
    size_t stored = zs.total_out;
    deflateEnd(&zs);
    return stored;
}

/* A body of n bytes that looks like the JSON of a delta (compresses well). */
static char *text_body(size_t n)
{
    static const char pattern[] = "{\"seq\":17,\"op\":\"put\",\"table\":\"cases\","
                                  "\"set\":{\"title\":\"Boundary wall at the mill\"}},";
    char *body = malloc(n + 1);
    assert_non_null(body);
    for (size_t i = 0; i < n; i++) {
        body[i] = pattern[i % (sizeof pattern - 1)];
    }
    body[n] = '\0';
    return body;
}

/* A body of n bytes that does not compress (a fixed pseudo-random stream). */
static uint8_t *noise_body(size_t n)
{
    uint8_t *body = malloc(n ? n : 1);
    assert_non_null(body);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        body[i] = (uint8_t)(x >> 24);
    }
    return body;
}

static void seal_ok(const void *body, size_t len, int level, uint8_t **env, size_t *env_len)
{
    assert_int_equal(envelope_seal(body, len, level, env, env_len), 0);
    assert_non_null(*env);
}

/* Open with the given limits (default ones if NULL) and expect a refusal:
 * the exact code, and no body handed out. */
static void expect_refusal(const uint8_t *env, size_t len, const struct envelope_limits *limits,
                           int code)
{
    struct envelope_limits defaults;
    if (!limits) {
        envelope_limits_default(&defaults);
        limits = &defaults;
    }
    char *body = NULL;
    size_t body_len = 12345;
    int rc = envelope_open(env, len, limits, &body, &body_len);
    if (rc != code) {
        print_error("expected %s, got %s\n", sync_error_name(code), sync_error_name(rc));
    }
    assert_int_equal(rc, code);
    assert_null(body);
}

/* Open with default limits and expect exactly the given body. */
static void expect_body(const uint8_t *env, size_t len, const void *want, size_t want_len)
{
    struct envelope_limits limits;
    envelope_limits_default(&limits);
    char *body = NULL;
    size_t body_len = 0;
    assert_int_equal(envelope_open(env, len, &limits, &body, &body_len), 0);
    assert_non_null(body);
    assert_int_equal(body_len, want_len);
    if (want_len) {
        assert_memory_equal(body, want, want_len);
    }
    assert_int_equal(body[want_len], '\0');
    free(body);
}

/* ---- round trips ---- */

static void test_limits_default(void **state)
{
    (void)state;
    struct envelope_limits limits;
    envelope_limits_default(&limits);
    assert_int_equal(limits.max_envelope, 8u << 20);
    assert_int_equal(limits.max_body, 64u << 20);
    assert_int_equal(limits.max_ratio, 200);
    assert_int_equal(limits.max_depth, 8);
    assert_int_equal(limits.max_string, 64u << 10);
    assert_int_equal(limits.max_changes, 50000);
}

static void test_round_trip_compressed(void **state)
{
    (void)state;
    char *body = text_body(10000);
    uint8_t *env;
    size_t env_len;
    seal_ok(body, 10000, 6, &env, &env_len);
    assert_memory_equal(env, "HMLT", 4);
    assert_int_equal(env[4], ENVELOPE_VERSION);
    assert_int_equal(env[5], ENVELOPE_DEFLATE);
    assert_int_equal(env[6], 0);
    assert_int_equal(env[7], 0);
    assert_int_equal(get32(env + 8), env_len - ENVELOPE_HEADER);
    assert_int_equal(get32(env + 12), 10000);
    assert_true(env_len < 10000 / 4); /* it really was compressed */
    expect_body(env, env_len, body, 10000);
    free(env);
    free(body);
}

static void test_round_trip_stored(void **state)
{
    (void)state;
    const char body[] = "{\"hamlet\":1,\"type\":\"push\"}";
    size_t len = sizeof body - 1;
    uint8_t *env;
    size_t env_len;
    seal_ok(body, len, 0, &env, &env_len);
    assert_int_equal(env_len, ENVELOPE_HEADER + len);
    assert_int_equal(env[5], 0);
    assert_int_equal(get32(env + 8), len);
    assert_int_equal(get32(env + 12), len);
    assert_memory_equal(env + ENVELOPE_HEADER, body, len);
    expect_body(env, env_len, body, len);
    free(env);
}

static void test_round_trip_every_level(void **state)
{
    (void)state;
    char *body = text_body(3000);
    for (int level = 0; level <= 9; level++) {
        uint8_t *env;
        size_t env_len;
        seal_ok(body, 3000, level, &env, &env_len);
        assert_int_equal(env[5], level ? ENVELOPE_DEFLATE : 0);
        expect_body(env, env_len, body, 3000);
        free(env);
    }
    free(body);
}

static void test_round_trip_empty(void **state)
{
    (void)state;
    static const int levels[] = {0, 1, 6, 9};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        uint8_t *env;
        size_t env_len;
        seal_ok("", 0, levels[i], &env, &env_len);
        assert_int_equal(get32(env + 12), 0);
        expect_body(env, env_len, "", 0);
        free(env);
        /* No body pointer at all is fine for an empty body. */
        seal_ok(NULL, 0, levels[i], &env, &env_len);
        expect_body(env, env_len, "", 0);
        free(env);
    }
}

static void test_round_trip_binary(void **state)
{
    (void)state;
    /* Bodies are bytes: NULs and high bytes survive both ways. */
    const uint8_t body[] = {0, 1, 2, 0xff, 0, 0x80, '{', 0, '}'};
    for (int level = 0; level <= 6; level += 6) {
        uint8_t *env;
        size_t env_len;
        seal_ok(body, sizeof body, level, &env, &env_len);
        expect_body(env, env_len, body, sizeof body);
        free(env);
    }
}

static void test_round_trip_large(void **state)
{
    (void)state;
    /* 3 MiB that does not compress: the stored body is a little larger than
     * the body, still under the 8 MiB default. */
    size_t n = 3u << 20;
    uint8_t *noise = noise_body(n);
    uint8_t *env;
    size_t env_len;
    seal_ok(noise, n, 6, &env, &env_len);
    assert_true(env_len > n / 2);
    expect_body(env, env_len, noise, n);
    free(env);
    seal_ok(noise, n, 0, &env, &env_len);
    assert_int_equal(env_len, ENVELOPE_HEADER + n);
    expect_body(env, env_len, noise, n);
    free(env);
    free(noise);

    /* 20 MiB of text with changing stamps in it, as a big pull would be:
     * under 64 MiB inflated, and it compresses well but not 200 to 1. */
    n = 20u << 20;
    char *text = text_body(n);
    uint8_t *stamps = noise_body(n / 64);
    for (size_t i = 0; i < n / 64; i++) {
        text[i * 64] = "0123456789abcdef"[stamps[i] & 15];
    }
    free(stamps);
    seal_ok(text, n, 6, &env, &env_len);
    assert_true(env_len < n / 4);
    expect_body(env, env_len, text, n);
    free(env);
    free(text);
}

static void test_seal_bad_arguments(void **state)
{
    (void)state;
    uint8_t *env = NULL;
    size_t env_len = 0;
    assert_int_equal(envelope_seal("x", 1, -1, &env, &env_len), SYNC_E_ARG);
    assert_int_equal(envelope_seal("x", 1, 10, &env, &env_len), SYNC_E_ARG);
    assert_int_equal(envelope_seal(NULL, 1, 6, &env, &env_len), SYNC_E_ARG);
    assert_null(env);
}

/* ---- refusals of the header ---- */

static void test_truncated_header(void **state)
{
    (void)state;
    uint8_t *env;
    size_t env_len;
    seal_ok("{}", 2, 6, &env, &env_len);
    for (size_t n = 0; n < ENVELOPE_HEADER; n++) {
        size_t total = 0;
        assert_int_equal(envelope_size(env, n, &total), SYNC_E_ENV_TRUNCATED);
        expect_refusal(env, n, NULL, SYNC_E_ENV_TRUNCATED);
    }
    free(env);
}

static void test_truncated_body(void **state)
{
    (void)state;
    char *body = text_body(5000);
    for (int level = 0; level <= 6; level += 6) {
        uint8_t *env;
        size_t env_len;
        seal_ok(body, 5000, level, &env, &env_len);
        expect_refusal(env, ENVELOPE_HEADER, NULL, SYNC_E_ENV_TRUNCATED);
        expect_refusal(env, ENVELOPE_HEADER + 1, NULL, SYNC_E_ENV_TRUNCATED);
        expect_refusal(env, env_len / 2, NULL, SYNC_E_ENV_TRUNCATED);
        expect_refusal(env, env_len - 1, NULL, SYNC_E_ENV_TRUNCATED);
        free(env);
    }
    free(body);
}

static void test_bad_magic(void **state)
{
    (void)state;
    uint8_t *env;
    size_t env_len;
    seal_ok("{}", 2, 6, &env, &env_len);
    for (int i = 0; i < 4; i++) {
        uint8_t saved = env[i];
        env[i] ^= 0x20; /* "hMLT", "HmLT", ...: case matters */
        fix_crc(env, env_len);
        size_t total = 0;
        assert_int_equal(envelope_size(env, env_len, &total), SYNC_E_ENV_MAGIC);
        expect_refusal(env, env_len, NULL, SYNC_E_ENV_MAGIC);
        env[i] = saved;
    }
    memcpy(env, "\x1f\x8b\x08\x00", 4); /* a gzip file is not an envelope */
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_MAGIC);
    free(env);
}

static void test_unknown_version(void **state)
{
    (void)state;
    static const uint8_t versions[] = {0, 2, 0x81, 0xff};
    uint8_t *env;
    size_t env_len;
    seal_ok("{}", 2, 6, &env, &env_len);
    for (size_t i = 0; i < sizeof versions; i++) {
        env[4] = versions[i];
        fix_crc(env, env_len);
        size_t total = 0;
        assert_int_equal(envelope_size(env, env_len, &total), SYNC_E_ENV_VERSION);
        expect_refusal(env, env_len, NULL, SYNC_E_ENV_VERSION);
    }
    free(env);
}

static void test_unknown_flags(void **state)
{
    (void)state;
    uint8_t *env;
    size_t env_len;
    seal_ok("{}", 2, 6, &env, &env_len);
    /* Every unknown bit of the flags byte, each with a correct CRC so that
     * only the flag check can refuse it. */
    for (int bit = 1; bit < 8; bit++) {
        env[5] = (uint8_t)(ENVELOPE_DEFLATE | 1u << bit);
        fix_crc(env, env_len);
        expect_refusal(env, env_len, NULL, SYNC_E_ENV_FLAGS);
    }
    env[5] = 0x80; /* stored, with an unknown bit */
    fix_crc(env, env_len);
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_FLAGS);
    /* The two reserved bytes after the flags must be zero. */
    env[5] = ENVELOPE_DEFLATE;
    env[6] = 1;
    fix_crc(env, env_len);
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_FLAGS);
    env[6] = 0;
    env[7] = 0x40;
    fix_crc(env, env_len);
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_FLAGS);
    env[7] = 0;
    fix_crc(env, env_len);
    expect_body(env, env_len, "{}", 2);
    free(env);
}

/* ---- checksums ---- */

static void test_bad_crc_body(void **state)
{
    (void)state;
    char *body = text_body(2000);
    for (int level = 0; level <= 6; level += 6) {
        uint8_t *env;
        size_t env_len;
        seal_ok(body, 2000, level, &env, &env_len);
        size_t where[] = {ENVELOPE_HEADER, ENVELOPE_HEADER + 7, env_len / 2, env_len - 1};
        for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
            env[where[i]] ^= 0x01;
            expect_refusal(env, env_len, NULL, SYNC_E_ENV_CRC);
            env[where[i]] ^= 0x01;
        }
        /* The checksum field itself. */
        env[19] ^= 0x80;
        expect_refusal(env, env_len, NULL, SYNC_E_ENV_CRC);
        env[19] ^= 0x80;
        expect_body(env, env_len, body, 2000);
        free(env);
    }
    free(body);
}

static void test_bad_crc_length_fields(void **state)
{
    (void)state;
    char *body = text_body(2000);
    uint8_t *env;
    size_t env_len;
    seal_ok(body, 2000, 6, &env, &env_len);
    /* A damaged inflated length that stays within every limit: only the
     * checksum, which covers the header, can tell. */
    static const uint8_t flips[] = {0x01, 0x02, 0x10};
    for (size_t i = 0; i < sizeof flips; i++) {
        env[15] ^= flips[i];
        expect_refusal(env, env_len, NULL, SYNC_E_ENV_CRC);
        env[15] ^= flips[i];
    }
    env[14] ^= 0x01; /* 2000 -> 2256 */
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_CRC);
    env[14] ^= 0x01;
    expect_body(env, env_len, body, 2000);
    free(env);

    /* A damaged stored length with the buffer cut to match it: the sizes
     * agree, the checksum does not. */
    seal_ok(body, 2000, 0, &env, &env_len);
    put32(env + 8, 1999);
    put32(env + 12, 1999);
    expect_refusal(env, env_len - 1, NULL, SYNC_E_ENV_CRC);
    free(env);
    free(body);
}

/* ---- limits ---- */

static void test_too_big(void **state)
{
    (void)state;
    uint8_t *noise = noise_body(1000);
    struct envelope_limits limits;
    envelope_limits_default(&limits);
    for (int level = 0; level <= 6; level += 6) {
        uint8_t *env;
        size_t env_len;
        seal_ok(noise, 1000, level, &env, &env_len);
        limits.max_envelope = env_len - 1;
        expect_refusal(env, env_len, &limits, SYNC_E_ENV_TOO_BIG);
        limits.max_envelope = ENVELOPE_HEADER;
        expect_refusal(env, env_len, &limits, SYNC_E_ENV_TOO_BIG);
        limits.max_envelope = env_len; /* exactly at the limit is allowed */
        char *body = NULL;
        size_t body_len = 0;
        assert_int_equal(envelope_open(env, env_len, &limits, &body, &body_len), 0);
        assert_int_equal(body_len, 1000);
        free(body);
        free(env);
    }
    free(noise);

    /* The default limit: a stored body of 8 MiB is one header too many. */
    size_t n = 8u << 20;
    uint8_t *big = calloc(1, n);
    assert_non_null(big);
    uint8_t *env;
    size_t env_len;
    seal_ok(big, n, 0, &env, &env_len);
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_TOO_BIG);
    free(env);
    free(big);
}

static void test_inflated_over_max_body(void **state)
{
    (void)state;
    char *body = text_body(10000);
    struct envelope_limits limits;
    envelope_limits_default(&limits);
    for (int level = 0; level <= 6; level += 6) {
        uint8_t *env;
        size_t env_len;
        seal_ok(body, 10000, level, &env, &env_len);
        limits.max_body = 9999;
        expect_refusal(env, env_len, &limits, SYNC_E_ENV_INFLATED);
        limits.max_body = 10000;
        char *out = NULL;
        size_t out_len = 0;
        assert_int_equal(envelope_open(env, env_len, &limits, &out, &out_len), 0);
        assert_int_equal(out_len, 10000);
        free(out);
        free(env);
    }
    free(body);

    /* A forged header declaring 4 GiB - 1 inflated bytes, default limits. */
    size_t env_len;
    uint8_t *env = forge(ENVELOPE_DEFLATE, UINT32_MAX, "xxxxxxxx", 8, &env_len);
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_INFLATED);
    free(env);
}

static void test_ratio(void **state)
{
    (void)state;
    size_t n = 100000;
    uint8_t *zeros = calloc(1, n);
    assert_non_null(zeros);
    uint8_t *env;
    size_t env_len;
    seal_ok(zeros, n, 6, &env, &env_len);
    size_t stored = env_len - ENVELOPE_HEADER;
    assert_true(n > stored * 200); /* zeros compress far better than 200:1 */
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_RATIO);

    struct envelope_limits limits;
    envelope_limits_default(&limits);
    limits.max_ratio = n / stored; /* just under the real ratio */
    if (n % stored == 0) {
        limits.max_ratio--;
    }
    expect_refusal(env, env_len, &limits, SYNC_E_ENV_RATIO);
    limits.max_ratio = (n + stored - 1) / stored; /* just over it */
    char *body = NULL;
    size_t body_len = 0;
    assert_int_equal(envelope_open(env, env_len, &limits, &body, &body_len), 0);
    assert_int_equal(body_len, n);
    assert_memory_equal(body, zeros, n);
    free(body);
    free(env);
    free(zeros);
}

static long peak_rss_kib(void)
{
    struct rusage usage;
    assert_int_equal(getrusage(RUSAGE_SELF, &usage), 0);
    return usage.ru_maxrss;
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_zlib_bomb_declared_small(void **state)
{
    (void)state;
    uint8_t *bomb;
    size_t stored = zlib_zeros(BOMB_SIZE, &bomb);
    assert_true(stored < BOMB_SIZE / 500);
    /* The header lies: 4096 bytes, a modest ratio, a correct CRC. Inflation
     * must stop at 4096 bytes and refuse, not inflate 50 MiB. */
    size_t env_len;
    uint8_t *env = forge(ENVELOPE_DEFLATE, 4096, bomb, stored, &env_len);
    free(bomb);
    long rss_before = peak_rss_kib();
    double started = seconds_now();
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_LENGTH);
    double took = seconds_now() - started;
    long grown_kib = peak_rss_kib() - rss_before;
    free(env);
    assert_true(took < 1.0);              /* inflating 50 MiB takes longer */
    assert_true(grown_kib < (16l << 10)); /* and would touch 50 MiB */
}

static void test_zlib_bomb_declared_true(void **state)
{
    (void)state;
    uint8_t *bomb;
    size_t stored = zlib_zeros(BOMB_SIZE, &bomb);
    size_t env_len;
    uint8_t *env = forge(ENVELOPE_DEFLATE, BOMB_SIZE, bomb, stored, &env_len);
    free(bomb);
    /* 50 MiB is under the 64 MiB default, but the ratio is about 1000. */
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_RATIO);
    struct envelope_limits limits;
    envelope_limits_default(&limits);
    limits.max_body = 1u << 20;
    expect_refusal(env, env_len, &limits, SYNC_E_ENV_INFLATED);
    free(env);
}

/* ---- the body ---- */

static void test_corrupt_deflate(void **state)
{
    (void)state;
    size_t env_len;
    uint8_t *env;

    /* Not zlib at all. */
    static const uint8_t garbage[] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
    env = forge(ENVELOPE_DEFLATE, 100, garbage, sizeof garbage, &env_len);
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_CORRUPT);
    free(env);

    /* A body that does not compress, so that half the stream inflates to
     * about half the body and no further. */
    uint8_t *body = noise_body(4000);
    uint8_t *z;
    size_t zlen = zlib_compress(body, 4000, &z);

    /* A wrong Adler-32 at the end of the zlib stream. */
    z[zlen - 1] ^= 0x55;
    env = forge(ENVELOPE_DEFLATE, 4000, z, zlen, &env_len);
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_CORRUPT);
    free(env);
    z[zlen - 1] ^= 0x55;

    /* A broken block type in the first deflate block (BTYPE 11). */
    uint8_t saved = z[2];
    z[2] |= 0x06;
    env = forge(ENVELOPE_DEFLATE, 4000, z, zlen, &env_len);
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_CORRUPT);
    free(env);
    z[2] = saved;

    /* The untouched stream opens, so the forging is right. */
    env = forge(ENVELOPE_DEFLATE, 4000, z, zlen, &env_len);
    expect_body(env, env_len, body, 4000);
    free(env);
    free(z);
    free(body);
}

/* A zlib stream that ends before its end marker, having inflated to fewer
 * bytes than declared: corrupt, or short of its length. Either reason is
 * true; nothing may be handed out. */
static void expect_cut_short(const uint8_t *env, size_t len)
{
    struct envelope_limits limits;
    envelope_limits_default(&limits);
    char *out = NULL;
    size_t out_len = 0;
    int rc = envelope_open(env, len, &limits, &out, &out_len);
    if (rc != SYNC_E_ENV_CORRUPT && rc != SYNC_E_ENV_LENGTH) {
        print_error("expected env_corrupt or env_length, got %s\n", sync_error_name(rc));
    }
    assert_true(rc == SYNC_E_ENV_CORRUPT || rc == SYNC_E_ENV_LENGTH);
    assert_null(out);
}

static void test_deflate_cut_short(void **state)
{
    (void)state;
    uint8_t *body = noise_body(4000);
    uint8_t *z;
    size_t zlen = zlib_compress(body, 4000, &z);
    size_t cuts[] = {40, zlen / 2, zlen - 100}; /* ratio stays under 200 */
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        size_t env_len;
        uint8_t *env = forge(ENVELOPE_DEFLATE, 4000, z, cuts[i], &env_len);
        expect_cut_short(env, env_len);
        free(env);
    }
    /* No stored bytes at all, and some declared. */
    size_t env_len;
    uint8_t *env = forge(ENVELOPE_DEFLATE, 10, NULL, 0, &env_len);
    expect_cut_short(env, env_len);
    free(env);
    free(z);
    free(body);
}

/* The code envelope_open() gives with default limits; any body is freed. */
static int open_code(const uint8_t *env, size_t len)
{
    struct envelope_limits limits;
    envelope_limits_default(&limits);
    char *body = NULL;
    size_t body_len = 0;
    int rc = envelope_open(env, len, &limits, &body, &body_len);
    free(body);
    return rc;
}

static void test_corrupt_deflate_cut_at_checksum(void **state)
{
    (void)state;
    /* A zlib stream without its Adler-32 trailer (or part of it) is corrupt.
     * Every declared byte came out before the cut, so the length is not what
     * is wrong. */
    uint8_t *body = noise_body(4000);
    uint8_t *z;
    size_t zlen = zlib_compress(body, 4000, &z);
    int codes[5];
    for (size_t cut = 1; cut <= 4; cut++) {
        size_t env_len;
        uint8_t *env = forge(ENVELOPE_DEFLATE, 4000, z, zlen - cut, &env_len);
        codes[cut] = open_code(env, env_len);
        free(env);
    }
    free(z);
    free(body);
    for (size_t cut = 1; cut <= 4; cut++) {
        if (codes[cut] != SYNC_E_ENV_CORRUPT) {
            print_error("%zu bytes of the trailer cut: expected env_corrupt, got %s\n", cut,
                        sync_error_name(codes[cut]));
        }
    }
    for (size_t cut = 1; cut <= 4; cut++) {
        assert_int_equal(codes[cut], SYNC_E_ENV_CORRUPT);
    }
}

static void test_corrupt_deflate_empty(void **state)
{
    (void)state;
    /* A compressed envelope of nothing, declaring nothing: there is no zlib
     * stream in it, so it is corrupt; its size is not what is wrong. */
    size_t env_len;
    uint8_t *env = forge(ENVELOPE_DEFLATE, 0, NULL, 0, &env_len);
    int rc = open_code(env, env_len);
    free(env);
    if (rc != SYNC_E_ENV_CORRUPT) {
        print_error("expected env_corrupt, got %s\n", sync_error_name(rc));
    }
    assert_int_equal(rc, SYNC_E_ENV_CORRUPT);
}

static void test_trailing(void **state)
{
    (void)state;
    char *body = text_body(1000);
    uint8_t *env;
    size_t env_len;
    seal_ok(body, 1000, 6, &env, &env_len);

    /* Bytes after the envelope: one, or a whole second envelope. */
    uint8_t *two = malloc(2 * env_len);
    assert_non_null(two);
    memcpy(two, env, env_len);
    memcpy(two + env_len, env, env_len);
    expect_refusal(two, env_len + 1, NULL, SYNC_E_ENV_TRAILING);
    expect_refusal(two, 2 * env_len, NULL, SYNC_E_ENV_TRAILING);
    free(two);
    free(env);

    /* Bytes after the zlib stream inside the stored body, with the lengths
     * and the CRC covering them. */
    uint8_t *z;
    size_t zlen = zlib_compress(body, 1000, &z);
    uint8_t *padded = malloc(zlen + 3);
    assert_non_null(padded);
    memcpy(padded, z, zlen);
    memcpy(padded + zlen, "abc", 3);
    env = forge(ENVELOPE_DEFLATE, 1000, padded, zlen + 3, &env_len);
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_TRAILING);
    free(env);
    free(padded);
    free(z);
    free(body);
}

static void test_length_mismatch(void **state)
{
    (void)state;
    const char text[] = "{\"hamlet\":1}";
    size_t len = sizeof text - 1;
    size_t env_len;
    uint8_t *env;

    /* Stored: the inflated length must equal the stored one. */
    env = forge(0, (uint32_t)len + 1, text, len, &env_len);
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_LENGTH);
    free(env);
    env = forge(0, (uint32_t)len - 1, text, len, &env_len);
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_LENGTH);
    free(env);
    env = forge(0, 0, text, len, &env_len);
    expect_refusal(env, env_len, NULL, SYNC_E_ENV_LENGTH);
    free(env);
    env = forge(0, (uint32_t)len, text, len, &env_len);
    expect_body(env, env_len, text, len);
    free(env);

    /* Compressed: the stream inflates to more, or to fewer, bytes than the
     * header says. */
    char *body = text_body(3000);
    uint8_t *z;
    size_t zlen = zlib_compress(body, 3000, &z);
    static const uint32_t lies[] = {2999, 1000, 1, 0, 3001, 6000};
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        env = forge(ENVELOPE_DEFLATE, lies[i], z, zlen, &env_len);
        expect_refusal(env, env_len, NULL, SYNC_E_ENV_LENGTH);
        free(env);
    }
    free(z);
    free(body);
}

/* ---- reading a stream ---- */

static void test_envelope_size(void **state)
{
    (void)state;
    char *body = text_body(2500);
    uint8_t *a, *b;
    size_t a_len, b_len;
    seal_ok(body, 2500, 6, &a, &a_len);
    seal_ok(body, 1200, 0, &b, &b_len);

    /* The header alone, or any prefix longer than it, gives the total. */
    size_t total = 0;
    assert_int_equal(envelope_size(a, ENVELOPE_HEADER, &total), 0);
    assert_int_equal(total, a_len);
    total = 0;
    assert_int_equal(envelope_size(a, ENVELOPE_HEADER + 3, &total), 0);
    assert_int_equal(total, a_len);
    total = 0;
    assert_int_equal(envelope_size(b, ENVELOPE_HEADER, &total), 0);
    assert_int_equal(total, ENVELOPE_HEADER + 1200);

    /* Two envelopes back to back, as on a stick: split and open each. */
    uint8_t *stream = malloc(a_len + b_len);
    assert_non_null(stream);
    memcpy(stream, a, a_len);
    memcpy(stream + a_len, b, b_len);
    size_t at = 0;
    int count = 0;
    while (at < a_len + b_len) {
        assert_int_equal(envelope_size(stream + at, a_len + b_len - at, &total), 0);
        assert_true(at + total <= a_len + b_len);
        expect_body(stream + at, total, body, count == 0 ? 2500 : 1200);
        at += total;
        count++;
    }
    assert_int_equal(count, 2);
    assert_int_equal(at, a_len + b_len);
    free(stream);
    free(a);
    free(b);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_default),
        cmocka_unit_test(test_round_trip_compressed),
        cmocka_unit_test(test_round_trip_stored),
        cmocka_unit_test(test_round_trip_every_level),
        cmocka_unit_test(test_round_trip_empty),
        cmocka_unit_test(test_round_trip_binary),
        cmocka_unit_test(test_round_trip_large),
        cmocka_unit_test(test_seal_bad_arguments),
        cmocka_unit_test(test_truncated_header),
        cmocka_unit_test(test_truncated_body),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_unknown_version),
        cmocka_unit_test(test_unknown_flags),
        cmocka_unit_test(test_bad_crc_body),
        cmocka_unit_test(test_bad_crc_length_fields),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_inflated_over_max_body),
        cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_zlib_bomb_declared_small),
        cmocka_unit_test(test_zlib_bomb_declared_true),
        cmocka_unit_test(test_corrupt_deflate),
        cmocka_unit_test(test_deflate_cut_short),
        cmocka_unit_test(test_corrupt_deflate_cut_at_checksum),
        cmocka_unit_test(test_corrupt_deflate_empty),
        cmocka_unit_test(test_trailing),
        cmocka_unit_test(test_length_mismatch),
        cmocka_unit_test(test_envelope_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
