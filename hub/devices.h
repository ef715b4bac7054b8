/* SPDX-License-Identifier: MIT */
/*
 * devices.h - device secrets and enrolment codes.
 *
 * A device is enrolled with a one-time code that `hamlet-hub device add`
 * prints: one line holding the hub's URL, its certificate pin, the device id
 * and the code. The device exchanges the code, once, for a credential of its
 * own; the hub keeps only hashes of both (BLAKE2b, libsodium), so a copy of
 * its database reveals no secret.
 */
#ifndef HAMLET_DEVICES_H
#define HAMLET_DEVICES_H

#include <stddef.h>

#define DEVICES_SECRET_LEN  44 /* base64url of 32 bytes, with NUL */
#define DEVICES_CODE_LEN    24 /* base64url of 16 bytes, with NUL */
#define DEVICES_HASH_LEN    32 /* bytes of a stored hash */
#define DEVICES_CODE_PREFIX "HAMLET1:"

/* devices_new_secret(out): a fresh credential, 32 random bytes in base64url
 * (43 characters). devices_new_code(out): a fresh one-time code, 16 bytes
 * (22 characters). Never fail (libsodium's generator aborts rather). */
void devices_new_secret(char out[DEVICES_SECRET_LEN]);
void devices_new_code(char out[DEVICES_CODE_LEN]);

/* devices_hash(secret, out): the hash the hub stores for a secret or code. */
void devices_hash(const char *secret, unsigned char out[DEVICES_HASH_LEN]);

/* devices_hash_equal(a, b): 1 if equal, compared in constant time. */
int devices_hash_equal(const unsigned char *a, const unsigned char *b);

/* devices_enrolment_code(url, pin, device, code, out, out_len): the line a
 * device is enrolled with: "HAMLET1:<url>|<pin>|<device>|<code>". Returns 0,
 * or HUB_E_ARG if a part is empty or holds '|', or if out is too small. */
int devices_enrolment_code(const char *url, const char *pin, const char *device, const char *code,
                           char *out, size_t out_len);

#endif
