/* SPDX-License-Identifier: MIT */
/*
 * https.h - one HTTPS request to the hub, with libcurl.
 *
 * Only the hub's pinned public key is trusted (CURLOPT_PINNEDPUBLICKEY; no
 * certificate authority, since township certificates are self-signed): a
 * wrong key stops the request before anything is sent. Slow links get a
 * connect timeout and a low-speed limit rather than one overall timeout, so
 * a transfer at a few kbit/s still completes while a dead link is given up.
 * Proxies come from the environment (https_proxy, no_proxy), as libcurl
 * reads them.
 */
#ifndef HAMLET_HTTPS_H
#define HAMLET_HTTPS_H

#include <stddef.h>
#include <stdint.h>

#define HTTPS_MAX_RESPONSE (16u << 20) /* a longer answer is refused */

struct https_request {
    const char *url;           /* full URL, https:// */
    const char *pin;           /* "sha256//..." */
    const char *authorization; /* header value, or NULL */
    const char *content_type;
    const uint8_t *body;
    size_t len;
    long connect_timeout_s; /* default 30 */
    long low_speed_bytes;   /* below this many bytes/s ... (default 10) */
    long low_speed_time_s;  /* ... for this long, give up (default 60) */
};

struct https_response {
    long status;   /* HTTP status, 0 when no answer came */
    uint8_t *body; /* malloc'd, NUL-terminated; free with https_response_clear() */
    size_t len;
    int64_t bytes_up; /* on the wire, as far as the application can tell */
    int64_t bytes_down;
    int pin_mismatch; /* the hub presented another key */
    char error[256];  /* why no answer came */
};

/* https_global_init(): once per program, before threads. 0 or -1. */
int https_global_init(void);

/* https_post(req, resp): send and wait. Returns 0 when an HTTP answer came
 * (any status), -1 otherwise with resp->error saying why. */
int https_post(const struct https_request *req, struct https_response *resp);

void https_response_clear(struct https_response *resp);

#endif
