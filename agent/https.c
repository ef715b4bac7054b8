/* SPDX-License-Identifier: MIT */
/*
 * https.c - libcurl easy interface, configured for a pinned hub on a poor
 * link. A session is one easy handle: libcurl keeps the connection a
 * request made open in the handle, and the next request on the same
 * handle reuses it. The response is collected into a buffer with a hard
 * maximum.
 */
#include "https.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct https_session {
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's words for the last failure */
};

struct sink {
    struct https_response *resp;
    size_t cap;
    int too_long;
};

int https_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
    struct sink *sink = ctx;
    struct https_response *r = sink->resp;
    size_t len = size * n;
    if (r->len + len > HTTPS_MAX_RESPONSE) {
        sink->too_long = 1;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (r->len + len + 1 > sink->cap) {
        size_t cap = sink->cap ? sink->cap * 2 : 16384;
        while (cap < r->len + len + 1) {
            cap *= 2;
        }
        uint8_t *grown = realloc(r->body, cap);
        if (!grown) {
            return 0;
        }
        r->body = grown;
        sink->cap = cap;
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

/* Counts the HTTP bytes of a request, headers and body, as libcurl hands
 * them to TLS and gets them back. CURLINFO_REQUEST_SIZE would count a small
 * body twice (libcurl sends it with the headers and counts it in both), and
 * the debug callback sees each byte once however libcurl packs them. */
static int on_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *ctx)
{
    (void)curl;
    (void)data;
    struct https_response *r = ctx;
    if (!r) {
        return 0;
    }
    if (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT) {
        r->bytes_up += (int64_t)size;
    } else if (type == CURLINFO_HEADER_IN || type == CURLINFO_DATA_IN) {
        r->bytes_down += (int64_t)size;
    }
    return 0;
}

struct https_session *https_session_new(void)
{
    struct https_session *s = calloc(1, sizeof *s);
    if (!s) {
        return NULL;
    }
    s->curl = curl_easy_init();
    if (!s->curl) {
        free(s);
        return NULL;
    }
    /* What every request of the session has in common; https_post() sets
     * the rest. */
    CURL *curl = s->curl;
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    /* The pin is the trust: no certificate authority vouches for a
     * township's self-signed certificate, and none is needed. */
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    /* Every byte of the handshake is paid for on a village's link: offer a
     * few strong suites (ECDSA or RSA certificates, for TLS 1.2 too), two
     * groups, and no protocol negotiation (the hub speaks HTTP/1.1). The
     * hello then stays under 256 bytes, where no padding is added to it. */
    curl_easy_setopt(curl, CURLOPT_SSL_CIPHER_LIST,
                     "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
                     "ECDHE-RSA-AES128-GCM-SHA256");
    curl_easy_setopt(curl, CURLOPT_TLS13_CIPHERS,
                     "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256");
    curl_easy_setopt(curl, CURLOPT_SSL_EC_CURVES, "X25519:P-256");
    curl_easy_setopt(curl, CURLOPT_SSL_ENABLE_ALPN, 0L);
    /* No TLS session resumption: a new connection (after a cut) makes the
     * full handshake, so that the key the hub presents on it is checked
     * against the pin, as on the first. */
    curl_easy_setopt(curl, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "hamlet/1");
    /* The debug callback is only called when verbose; what libcurl would
     * print goes to it, and it keeps nothing but the byte counts. */
    curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
    return s;
}

void https_session_free(struct https_session *session)
{
    if (!session) {
        return;
    }
    curl_easy_cleanup(session->curl); /* closes the connection it keeps */
    free(session);
}

int https_post(struct https_session *session, const struct https_request *req,
               struct https_response *resp)
{
    memset(resp, 0, sizeof *resp);
    CURL *curl = session->curl;
    struct sink sink = {resp, 0, 0};
    struct curl_slist *headers = NULL;
    char header[600];
    if (req->authorization) {
        snprintf(header, sizeof header, "Authorization: %s", req->authorization);
        headers = curl_slist_append(headers, header);
    }
    snprintf(header, sizeof header, "Content-Type: %s",
             req->content_type ? req->content_type : "application/octet-stream");
    headers = curl_slist_append(headers, header);
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    headers = curl_slist_append(headers, "Accept:"); /* bytes the hub does not need */
    session->errbuf[0] = '\0';
    /* The URL and the pin are set for each request: libcurl reuses the open
     * connection only for the same host and the same pin. */
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_PINNEDPUBLICKEY, req->pin);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, resp);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                     req->connect_timeout_s > 0 ? req->connect_timeout_s : 30L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT,
                     req->low_speed_bytes > 0 ? req->low_speed_bytes : 10L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     req->low_speed_time_s > 0 ? req->low_speed_time_s : 60L);
    CURLcode cc = curl_easy_perform(curl);
    int rc = 0;
    if (cc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    } else {
        resp->pin_mismatch = cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
        if (sink.too_long) {
            snprintf(resp->error, sizeof resp->error, "the hub's answer is over %u bytes",
                     HTTPS_MAX_RESPONSE);
        } else if (resp->pin_mismatch) {
            snprintf(resp->error, sizeof resp->error,
                     "the hub's certificate key does not match the pinned one: nothing was "
                     "sent (enrol again if the hub's certificate really changed)");
        } else {
            snprintf(resp->error, sizeof resp->error, "%s",
                     session->errbuf[0] ? session->errbuf : curl_easy_strerror(cc));
        }
        rc = -1;
    }
    /* Counted afresh for each transfer, also on a reused connection. */
    long connects = 0;
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
    resp->new_connections = (int)connects;
    /* Nothing of this request stays in the handle: the headers are freed,
     * and the sink and the response are the caller's. */
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, NULL);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    curl_slist_free_all(headers);
    return rc;
}

void https_response_clear(struct https_response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}
