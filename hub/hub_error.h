/* SPDX-License-Identifier: MIT */
/*
 * hub_error.h - error codes of the hub's modules (devices, certificates,
 * store, server). Engine errors (SYNC_E_*, from sync_error.h) pass through
 * unchanged where a hub function calls the engine; the two ranges do not
 * overlap, and hub_strerror() knows both.
 */
#ifndef HAMLET_HUB_ERROR_H
#define HAMLET_HUB_ERROR_H

enum hub_error {
    HUB_E_NOMEM = -101,     /* out of memory */
    HUB_E_IO = -102,        /* a file could not be read or written */
    HUB_E_TLS = -103,       /* the TLS library failed (key, certificate) */
    HUB_E_EXISTS = -104,    /* the thing to create exists already */
    HUB_E_ARG = -105,       /* a caller or user gave an invalid argument */
    HUB_E_NOT_FOUND = -106, /* no such village, device or conflict */
    HUB_E_AUTH = -107,      /* unknown credential or enrolment code */
    HUB_E_REVOKED = -108,   /* the device was revoked */
    HUB_E_USED = -109,      /* the enrolment code was used already */
    HUB_E_EXPIRED = -110,   /* the enrolment code expired */
    HUB_E_DB = -111,        /* the hub's database failed */
    HUB_E_STATE = -112,     /* not allowed in this state */
    HUB_E_CONFIG = -113,    /* the configuration file is wrong */
};

/* hub_strerror(code): a short English sentence for a hub or engine error
 * code. Never NULL; static. */
const char *hub_strerror(int code);

#endif
