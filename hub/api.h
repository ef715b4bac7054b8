/* SPDX-License-Identifier: MIT */
/*
 * api.h - the hub's HTTP endpoints, without the HTTP.
 *
 * Each function takes what the request carried (the Authorization header,
 * the body) and fills a response (status, content type, body, one log
 * line); server.c moves the bytes. Keeping the decisions here lets the tests
 * call them directly, and keeps every status code in one place:
 *   POST /v1/sync    envelope in, envelope out (PROTOCOL.md)
 *   POST /v1/enroll  JSON {"device","code","node"} in, the credential out
 *   GET  /v1/health  JSON
 * Errors are JSON {"error": NAME, "message": SENTENCE}.
 */
#ifndef HAMLET_API_H
#define HAMLET_API_H

#include "envelope.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define API_ENVELOPE_TYPE "application/x-hamlet-envelope"
#define API_JSON_TYPE     "application/json"

struct api_limits {
    size_t max_request; /* bytes of a request body (413 above) */
    size_t max_pull;    /* bytes of changes in one reply */
    struct envelope_limits envelope;
};

struct api_response {
    int status;
    const char *content_type; /* static */
    uint8_t *body;            /* malloc'd; api_response_clear() frees it */
    size_t len;
    char log[400];                 /* one line for the server's log */
    char device[UUID7_STRLEN + 1]; /* the authenticated device, if any */
};

/* api_limits_default(limits): 8 MiB requests, 256 KiB pulls, and the
 * envelope defaults of PROTOCOL.md. */
void api_limits_default(struct api_limits *limits);

void api_response_clear(struct api_response *response);

/* api_sync(store, limits, authorization, body, len, out): one sync. 200 with
 * the reply envelope; 401 unknown or revoked credential; 400 malformed
 * (naming the field); 413 over a size limit; 403 a push of another village
 * or another node; 500 when the store fails. Always fills out. */
void api_sync(struct store *store, const struct api_limits *limits, const char *authorization,
              const uint8_t *body, size_t len, struct api_response *out);

/* api_enroll(store, body, len, out): exchange a one-time code for a device
 * credential. 200 {"device","village","secret","time"}; 400 malformed; 401
 * wrong code; 403 revoked; 409 code used already or node taken; 410
 * expired. */
void api_enroll(struct store *store, const uint8_t *body, size_t len, struct api_response *out);

/* api_health(store, out): 200 {"status":"ok","time":MS,"protocol":1}. */
void api_health(struct store *store, struct api_response *out);

/* api_error(out, status, name, fmt, ...): fill out with a JSON error. */
void api_error(struct api_response *out, int status, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
