/* SPDX-License-Identifier: MIT */
/*
 * devices.c - secrets, hashes and enrolment codes, on libsodium. Secrets are
 * random and long, so one fast keyed hash suffices to store them; passwords
 * of people (a later part) use Argon2id instead.
 */
#include "devices.h"

#include "hub_error.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* A fixed key separates these hashes from any other use of BLAKE2b. */
static const unsigned char hash_key[crypto_generichash_KEYBYTES] = "hamlet device secret hash v1";

static void random_text(char *out, size_t out_len, size_t bytes)
{
    unsigned char raw[32];
    randombytes_buf(raw, bytes);
    sodium_bin2base64(out, out_len, raw, bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void devices_new_secret(char out[DEVICES_SECRET_LEN])
{
    random_text(out, DEVICES_SECRET_LEN, 32);
}

void devices_new_code(char out[DEVICES_CODE_LEN])
{
    random_text(out, DEVICES_CODE_LEN, 16);
}

void devices_hash(const char *secret, unsigned char out[DEVICES_HASH_LEN])
{
    crypto_generichash(out, DEVICES_HASH_LEN, (const unsigned char *)secret, strlen(secret),
                       hash_key, sizeof hash_key);
}

int devices_hash_equal(const unsigned char *a, const unsigned char *b)
{
    return sodium_memcmp(a, b, DEVICES_HASH_LEN) == 0;
}

int devices_enrolment_code(const char *url, const char *pin, const char *device, const char *code,
                           char *out, size_t out_len)
{
    const char *parts[] = {url, pin, device, code};
    for (size_t i = 0; i < 4; i++) {
        if (!parts[i] || !parts[i][0] || strchr(parts[i], '|') || strchr(parts[i], '\n')) {
            return HUB_E_ARG;
        }
    }
    int n = snprintf(out, out_len, "%s%s|%s|%s|%s", DEVICES_CODE_PREFIX, url, pin, device, code);
    return n > 0 && (size_t)n < out_len ? 0 : HUB_E_ARG;
}
