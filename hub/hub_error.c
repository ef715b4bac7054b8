/* SPDX-License-Identifier: MIT */
/*
 * hub_error.c - words for the hub's error codes; engine codes are passed
 * to sync_strerror().
 */
#include "hub_error.h"

#include "sync_error.h"

const char *hub_strerror(int code)
{
    switch (code) {
    case HUB_E_NOMEM:
        return "out of memory";
    case HUB_E_IO:
        return "a file could not be read or written";
    case HUB_E_TLS:
        return "the TLS library failed";
    case HUB_E_EXISTS:
        return "it exists already";
    case HUB_E_ARG:
        return "invalid argument";
    case HUB_E_NOT_FOUND:
        return "not found";
    case HUB_E_AUTH:
        return "unknown device credential or enrolment code";
    case HUB_E_REVOKED:
        return "this device has been revoked";
    case HUB_E_USED:
        return "this enrolment code has been used already";
    case HUB_E_EXPIRED:
        return "this enrolment code has expired";
    case HUB_E_DB:
        return "the hub's database failed";
    case HUB_E_STATE:
        return "not allowed in this state";
    case HUB_E_CONFIG:
        return "the configuration is invalid";
    default:
        return sync_strerror(code);
    }
}
