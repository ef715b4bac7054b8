/* SPDX-License-Identifier: MIT */
/*
 * server.h - the hub's HTTPS server.
 *
 * libmicrohttpd with its GnuTLS support, TLS 1.2 or newer only, a thread
 * pool, and every limit explicit: request size (413), connections (503),
 * requests per device per minute (429), idle connections (closed after the
 * timeout). The sync endpoints (/v1/) are answered by api.c, the review
 * pages and their /api/ by web.c; the server moves bytes, counts, limits and
 * logs one line per request (never a secret or a session token), to the
 * journal with priorities when systemd runs it. The certificate can be
 * reloaded (SIGHUP in hamlet-hub serve) without dropping a connection. One
 * server per process.
 */
#ifndef HAMLET_SERVER_H
#define HAMLET_SERVER_H

#include "api.h"
#include "store.h"

#include <stdio.h>

struct server_config {
    const char *listen;         /* "127.0.0.1:8443", "[::1]:8443", ":8443" (all) */
    const char *cert_path;      /* PEM certificate */
    const char *key_path;       /* PEM private key */
    unsigned threads;           /* worker threads (default 4) */
    unsigned max_connections;   /* at once (default 256) */
    unsigned idle_timeout_s;    /* a connection idle this long is closed (default 30) */
    unsigned device_per_minute; /* requests per device per minute (default 120) */
    struct api_limits limits;
    FILE *log; /* one line per request; NULL: stderr */
    /* For the review pages (web.h): the township's rules, and what adding
     * a device from the pages needs (NULL url: it is refused). */
    const struct rules_config *rules; /* NULL: the defaults */
    const char *public_url;           /* https://... as devices reach the hub */
    unsigned enrol_valid_days;        /* how long an enrolment code is valid */
};

struct server; /* opaque */

/* server_config_default(config): the defaults above, listening on
 * 127.0.0.1:8443, with no certificate set. */
void server_config_default(struct server_config *config);

/* server_start(store, config, out, why, why_len): listen and serve in
 * background threads. The store and config's strings must outlive the
 * server. Returns 0, or HUB_E_ARG (bad listen address), HUB_E_IO
 * (certificate or key unreadable), HUB_E_TLS (they do not match),
 * HUB_E_STATE (the port could not be bound, or a server runs in this
 * process already) with the reason in why. */
int server_start(struct store *store, const struct server_config *config, struct server **out,
                 char *why, size_t why_len);

/* server_reload_cert(server, why, why_len): read the certificate and key
 * files again (config->cert_path, key_path) and use them for the
 * connections that come next; open connections and syncs in flight keep
 * the certificate they started with. On failure the old pair stays in use
 * and the reason is logged. Returns 0, or as server_start() for the
 * certificate (HUB_E_IO, HUB_E_TLS) with the reason in why. */
int server_reload_cert(struct server *server, char *why, size_t why_len);

/* server_is_journal(f): 1 when f is the stream systemd connected to the
 * journal (JOURNAL_STREAM names its device and inode). Log lines then carry
 * a syslog priority prefix ("<6>", sd-daemon(3)) and no time stamp, which
 * the journal adds; otherwise 0. */
int server_is_journal(FILE *f);

/* server_port(server): the port it listens on (useful with port 0). */
unsigned server_port(struct server *server);

/* server_stop(server, grace_s): stop accepting, let the requests in flight
 * finish (at most grace_s seconds), then stop. Accepts NULL. */
void server_stop(struct server *server, unsigned grace_s);

#endif
