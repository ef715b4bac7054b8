/* SPDX-License-Identifier: MIT */
/*
 * https.h - HTTPS requests to the hub, with libcurl.
 *
 * Only the hub's pinned public key is trusted (CURLOPT_PINNEDPUBLICKEY; no
 * certificate authority, since township certificates are self-signed): a
 * wrong key stops the request before anything is sent. Slow links get a
 * connect timeout and a low-speed limit rather than one overall timeout, so
 * a transfer at a few kbit/s still completes while a dead link is given up.
 * Proxies come from the environment (https_proxy, no_proxy), as libcurl
 * reads them.
 *
 * Requests go through a session: the requests of one sync share it, and so
 * share one connection (HTTP/1.1 keep-alive), which spares every request
 * after the first a TCP and a TLS handshake: two round trips and about
 * 2 KB on a village's link. A connection that was cut or that the hub
 * closed is not reused: the next request makes a new one, with the full
 * handshake and the pin checked again.
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
    int64_t bytes_up;    /* of this request: its HTTP headers and body, each byte once; */
    int64_t bytes_down;  /* TLS (records, handshakes) adds to both on the wire */
    int new_connections; /* connections this request opened: 0 when it went on
                            the session's open one */
    int pin_mismatch;    /* the hub presented another key */
    char error[256];     /* why no answer came */
};

struct https_session; /* opaque: a libcurl handle and the connection it keeps */

/* https_global_init(): once per program, before threads. 0 or -1. */
int https_global_init(void);

/* https_session_new(): a session for the requests of one sync (or of one
 * enrolment). NULL when libcurl cannot start one (out of memory). Free it
 * with https_session_free(), which closes its connection. A session is
 * used by one thread at a time. */
struct https_session *https_session_new(void);
void https_session_free(struct https_session *session); /* accepts NULL */

/* https_post(session, req, resp): send and wait, on the session's open
 * connection when it has one to req->url's host that is still alive, else
 * on a new one. Returns 0 when an HTTP answer came (any status), -1
 * otherwise with resp->error saying why; resp is filled either way (clear
 * it with https_response_clear()). The session stays usable after a
 * failure: a connection that failed is closed, and the next request makes
 * a new one. */
int https_post(struct https_session *session, const struct https_request *req,
               struct https_response *resp);

void https_response_clear(struct https_response *resp);

#endif
