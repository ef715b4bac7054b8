/* SPDX-License-Identifier: MIT */
/*
 * server.c - libmicrohttpd plumbing for the hub: routing (/v1/ to api.c,
 * the review pages to web.c), request bodies with a hard maximum,
 * connection and per-device limits, the log, and a clean stop that lets
 * syncs in flight finish.
 *
 * The certificate and key are handed to GnuTLS by a callback at each
 * handshake, so that server_reload_cert() can switch them for the
 * connections that come next while those open keep theirs. A pair once
 * handed out is kept until the server stops: a handshake may still hold
 * it, and reloads are rare.
 */
#include "server.h"

#include "cert.h"
#include "hub_error.h"
#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RATE_SLOTS    4096
#define TLS_CHAIN_MAX 16 /* certificates in the certificate file, the server's first */

/* Syslog priorities of the log lines (sd-daemon(3) prefixes). */
#define LOG_PRI_ERR  3
#define LOG_PRI_WARN 4
#define LOG_PRI_INFO 6

/* A certificate chain and its key, as GnuTLS takes them. */
struct tls_pair {
    gnutls_pcert_st chain[TLS_CHAIN_MAX];
    unsigned n;
    gnutls_privkey_t key;
    struct tls_pair *older; /* pairs handed out before this one */
};

/* The pair for new handshakes. GnuTLS's callback gets no pointer of ours,
 * so this is the process's: one server at a time (server_start() refuses a
 * second). */
static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tls_pair *tls_current;

struct rate_slot {
    char device[UUID7_STRLEN + 1];
    int64_t minute;
    unsigned count;
};

struct server {
    struct MHD_Daemon *daemon;
    struct store *store;
    struct server_config config;
    FILE *log;
    int journal;          /* the log is the journal's stream: "<N>" prefixes, no stamps */
    int owns_tls;         /* tls_current is this server's */
    pthread_mutex_t lock; /* guards the counters and the rate table */
    unsigned connections; /* open now */
    unsigned in_flight;   /* requests begun and not yet answered */
    int stopping;
    struct rate_slot *rates;
};

/* One request being received. */
struct request {
    enum { ROUTE_SYNC, ROUTE_ENROLL, ROUTE_WEB, ROUTE_DONE } route;
    uint8_t *body;
    size_t len, cap;
    size_t limit; /* bytes of body allowed on this route */
    int too_big;
    int counted; /* counted in in_flight */
};

void server_config_default(struct server_config *config)
{
    memset(config, 0, sizeof *config);
    config->listen = "127.0.0.1:8443";
    config->threads = 4;
    config->max_connections = 256;
    config->idle_timeout_s = 30;
    config->device_per_minute = 120;
    api_limits_default(&config->limits);
}

int server_is_journal(FILE *f)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(fileno(f), &st) != 0) {
        return 0;
    }
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static void log_at(struct server *srv, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void log_at(struct server *srv, int priority, const char *fmt, ...)
{
    char line[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (srv->journal) {
        fprintf(srv->log, "<%d>hamlet-hub: %s\n", priority, line);
    } else {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(srv->log, "%s hamlet-hub: %s\n", stamp, line);
    }
    fflush(srv->log);
}

#define log_line(srv, ...) log_at(srv, LOG_PRI_INFO, __VA_ARGS__)

static char *read_file(const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_len, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0 || len > (1u << 20)) {
            break;
        }
        if (len + 1 == cap) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        snprintf(why, why_len, "out of memory reading %s", path);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

/* ---- the certificate and key, for each handshake ---- */

static void tls_pair_free(struct tls_pair *p)
{
    while (p) {
        struct tls_pair *older = p->older;
        for (unsigned i = 0; i < p->n; i++) {
            gnutls_pcert_deinit(&p->chain[i]);
        }
        gnutls_privkey_deinit(p->key);
        free(p);
        p = older;
    }
}

/* Read cert_path (the server's certificate, then its chain) and key_path
 * (PEM) into a new pair, after checking that they belong together. NULL
 * with the reason in why. */
static struct tls_pair *tls_pair_load(const char *cert_path, const char *key_path, int *rc,
                                      char *why, size_t why_len)
{
    struct tls_pair *p = NULL;
    char *cert_pem = NULL, *key_pem = NULL;
    *rc = cert_check_pair(cert_path, key_path, why, why_len);
    if (*rc != 0) {
        return NULL;
    }
    *rc = HUB_E_IO;
    cert_pem = read_file(cert_path, why, why_len);
    key_pem = cert_pem ? read_file(key_path, why, why_len) : NULL;
    if (!key_pem) {
        goto fail;
    }
    *rc = HUB_E_NOMEM;
    p = calloc(1, sizeof *p);
    if (!p) {
        goto fail;
    }
    *rc = HUB_E_TLS;
    gnutls_datum_t cert = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
    gnutls_datum_t key = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
    p->n = TLS_CHAIN_MAX;
    int g = gnutls_pcert_list_import_x509_raw(p->chain, &p->n, &cert, GNUTLS_X509_FMT_PEM, 0);
    if (g < 0) {
        p->n = 0;
        snprintf(why, why_len, "%s: %s (at most %d certificates)", cert_path, gnutls_strerror(g),
                 TLS_CHAIN_MAX);
        goto fail;
    }
    if ((g = gnutls_privkey_init(&p->key)) < 0 ||
        (g = gnutls_privkey_import_x509_raw(p->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        snprintf(why, why_len, "%s: %s", key_path, gnutls_strerror(g));
        goto fail;
    }
    *rc = 0;
fail:
    if (key_pem) {
        sodium_memzero(key_pem, strlen(key_pem));
    }
    free(key_pem);
    free(cert_pem);
    if (*rc != 0) {
        tls_pair_free(p);
        return NULL;
    }
    return p;
}

/* GnuTLS asks for the certificate at each handshake. The pair stays valid
 * after the lock is released: pairs are freed only when the server stops. */
static int on_cert_request(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                           const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                           gnutls_pcert_st **chain, unsigned int *chain_length,
                           gnutls_privkey_t *key)
{
    (void)session;
    (void)req_ca_dn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    pthread_mutex_lock(&tls_lock);
    struct tls_pair *p = tls_current;
    pthread_mutex_unlock(&tls_lock);
    if (!p) {
        return -1;
    }
    *chain = p->chain;
    *chain_length = p->n;
    *key = p->key;
    return 0;
}

int server_reload_cert(struct server *srv, char *why, size_t why_len)
{
    int rc;
    struct tls_pair *p =
        tls_pair_load(srv->config.cert_path, srv->config.key_path, &rc, why, why_len);
    if (!p) {
        log_at(srv, LOG_PRI_ERR, "certificate not reloaded, the old one stays: %s", why);
        return rc;
    }
    pthread_mutex_lock(&tls_lock);
    p->older = tls_current;
    tls_current = p;
    pthread_mutex_unlock(&tls_lock);
    char pin[CERT_PIN_LEN], pin_why[200];
    if (cert_pin_file(srv->config.cert_path, pin, sizeof pin, pin_why, sizeof pin_why) != 0) {
        snprintf(pin, sizeof pin, "unknown");
    }
    log_line(srv, "certificate reloaded from %s for new connections (pin %s)",
             srv->config.cert_path, pin);
    return 0;
}

/* "host:port", "[v6]:port" or ":port" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *addr, int *v6)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon - listen >= (long)sizeof host) {
        return HUB_E_ARG;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port < 0 || port > 65535) {
        return HUB_E_ARG;
    }
    memset(addr, 0, sizeof *addr);
    size_t hlen = strlen(host);
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *v6 = 1;
        return inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1 ? 0 : HUB_E_ARG;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *v6 = 0;
    if (host[0] == '\0') {
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
        return 0;
    }
    return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? 0 : HUB_E_ARG;
}

/* ---- limits ---- */

static int64_t now_minute(void)
{
    return (int64_t)time(NULL) / 60;
}

/* Count a request of a device; 0 if within its allowance this minute. */
static int rate_exceeded(struct server *srv, const char *device)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = device; *p; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    }
    int64_t minute = now_minute();
    int exceeded = 0;
    pthread_mutex_lock(&srv->lock);
    for (size_t probe = 0; probe < 16; probe++) {
        struct rate_slot *slot = &srv->rates[(h + probe) % RATE_SLOTS];
        int mine = !strcmp(slot->device, device);
        if (!mine && slot->device[0] && slot->minute == minute) {
            continue; /* taken by another device this minute */
        }
        if (!mine || slot->minute != minute) {
            snprintf(slot->device, sizeof slot->device, "%s", device);
            slot->minute = minute;
            slot->count = 0;
        }
        exceeded = ++slot->count > srv->config.device_per_minute;
        break;
    }
    pthread_mutex_unlock(&srv->lock);
    return exceeded;
}

/* The device a request claims to be, before it is checked. */
static void claimed_device(struct MHD_Connection *c, char out[UUID7_STRLEN + 1])
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    out[0] = '\0';
    if (auth && !strncmp(auth, "Bearer ", 7) && strlen(auth) > 7 + UUID7_STRLEN) {
        memcpy(out, auth + 7, UUID7_STRLEN);
        out[UUID7_STRLEN] = '\0';
        if (!uuid7_valid(out)) {
            out[0] = '\0';
        }
    }
}

/* ---- responses ---- */

static enum MHD_Result send_response(struct MHD_Connection *c, struct api_response *r,
                                     unsigned retry_after)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        return MHD_NO;
    }
    r->body = NULL; /* MHD frees it now */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : API_JSON_TYPE);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    if (retry_after) {
        char value[16];
        snprintf(value, sizeof value, "%u", retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, value);
    }
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* The client's address as text ("-" if unknown). */
static void client_address(struct MHD_Connection *c, char *out, size_t len)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    const char *done = NULL;
    if (sa && sa->sa_family == AF_INET) {
        done = inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
    } else if (sa && sa->sa_family == AF_INET6) {
        done =
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
    }
    if (!done) {
        snprintf(out, len, "-");
    }
}

/* A query argument of the request, as libmicrohttpd decoded it. */
static const char *query_arg(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* Answer a request of the review pages with web.c; len above WEB_MAX_BODY
 * (body then unread) makes the answer a 413. */
static enum MHD_Result answer_web(struct server *srv, struct MHD_Connection *c, const char *url,
                                  const char *method, const uint8_t *body, size_t len)
{
    char remote[64];
    client_address(c, remote, sizeof remote);
    struct web_request req = {
        .method = method,
        .path = url,
        .cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE),
        .csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token"),
        .content_type =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .body = body,
        .len = len,
        .remote = remote,
        .arg = query_arg,
        .arg_ctx = c,
    };
    const struct web_site site = {
        .store = srv->store,
        .rules = srv->config.rules,
        .public_url = srv->config.public_url,
        .cert_path = srv->config.cert_path,
        .enrol_valid_days = srv->config.enrol_valid_days,
    };
    struct web_response r;
    web_handle(&site, &req, &r);
    log_line(srv, "%s", r.log);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r.len, r.body, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result ok = MHD_NO;
    if (resp) {
        r.body = NULL; /* MHD frees it now */
        for (size_t i = 0; i < r.nheaders; i++) {
            MHD_add_response_header(resp, r.headers[i].name, r.headers[i].value);
        }
        ok = MHD_queue_response(c, (unsigned)r.status, resp);
        MHD_destroy_response(resp);
    }
    web_response_clear(&r);
    return ok;
}

static enum MHD_Result refuse(struct server *srv, struct MHD_Connection *c, int status,
                              const char *name, const char *message, unsigned retry_after)
{
    struct api_response r;
    memset(&r, 0, sizeof r);
    api_error(&r, status, name, "%s", message);
    log_line(srv, "%s", r.log);
    enum MHD_Result ok = send_response(c, &r, retry_after);
    api_response_clear(&r);
    return ok;
}

static void request_done(struct server *srv, struct request *req)
{
    if (req->counted) {
        pthread_mutex_lock(&srv->lock);
        srv->in_flight--;
        pthread_mutex_unlock(&srv->lock);
        req->counted = 0;
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct server *srv = cls;
    struct request *req = *con_cls;
    if (!req) {
        /* First call: headers only. Decide what can be decided now. */
        req = calloc(1, sizeof *req);
        if (!req) {
            return MHD_NO;
        }
        *con_cls = req;
        pthread_mutex_lock(&srv->lock);
        int busy = srv->connections > srv->config.max_connections;
        int stopping = srv->stopping;
        srv->in_flight++;
        req->counted = 1;
        pthread_mutex_unlock(&srv->lock);
        req->route = ROUTE_DONE;
        if (stopping) {
            return refuse(srv, c, 503, "stopping", "the hub is stopping; try again soon", 30);
        }
        if (busy) {
            return refuse(srv, c, 503, "busy", "too many connections; try again soon", 10);
        }
        if (!strcmp(url, "/v1/health")) {
            if (strcmp(method, "GET") != 0) {
                return refuse(srv, c, 405, "method", "use GET", 0);
            }
            struct api_response r;
            api_health(srv->store, &r);
            enum MHD_Result ok = send_response(c, &r, 0);
            api_response_clear(&r);
            return ok;
        }
        if (web_route(url)) {
            const char *length =
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (length && strtoull(length, NULL, 10) > WEB_MAX_BODY) {
                return answer_web(srv, c, url, method, NULL, (size_t)WEB_MAX_BODY + 1);
            }
            req->route = ROUTE_WEB;
            req->limit = WEB_MAX_BODY;
            return MHD_YES;
        }
        if (strcmp(url, "/v1/sync") != 0 && strcmp(url, "/v1/enroll") != 0) {
            return refuse(srv, c, 404, "not_found", "no such endpoint", 0);
        }
        if (strcmp(method, "POST") != 0) {
            return refuse(srv, c, 405, "method", "use POST", 0);
        }
        const char *length =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull(length, NULL, 10) > srv->config.limits.max_request) {
            char message[120];
            snprintf(message, sizeof message, "a request of %s bytes (the limit is %zu)", length,
                     srv->config.limits.max_request);
            return refuse(srv, c, 413, "too_big", message, 0);
        }
        if (!strcmp(url, "/v1/sync")) {
            char device[UUID7_STRLEN + 1];
            claimed_device(c, device);
            if (device[0] && rate_exceeded(srv, device)) {
                return refuse(srv, c, 429, "rate",
                              "too many requests from this device; wait a minute", 60);
            }
            req->route = ROUTE_SYNC;
        } else {
            req->route = ROUTE_ENROLL;
        }
        req->limit = srv->config.limits.max_request;
        return MHD_YES;
    }
    if (req->route == ROUTE_DONE) {
        *upload_size = 0; /* a response is queued already: drop the body */
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (req->too_big || req->len + n > req->limit) {
            req->too_big = 1;
            return MHD_YES;
        }
        if (req->len + n > req->cap) {
            size_t cap = req->cap ? req->cap : 16384;
            while (cap < req->len + n) {
                cap *= 2;
            }
            uint8_t *grown = realloc(req->body, cap);
            if (!grown) {
                return MHD_NO;
            }
            req->body = grown;
            req->cap = cap;
        }
        memcpy(req->body + req->len, upload_data, n);
        req->len += n;
        return MHD_YES;
    }
    /* The whole body is here. */
    int route = req->route;
    req->route = ROUTE_DONE;
    if (route == ROUTE_WEB) {
        return answer_web(srv, c, url, method, req->too_big ? NULL : req->body,
                          req->too_big ? req->limit + 1 : req->len);
    }
    if (req->too_big) {
        char message[80];
        snprintf(message, sizeof message, "the request is larger than %zu bytes",
                 srv->config.limits.max_request);
        return refuse(srv, c, 413, "too_big", message, 0);
    }
    struct api_response r;
    if (route == ROUTE_SYNC) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        api_sync(srv->store, &srv->config.limits, auth, req->body ? req->body : (uint8_t *)"",
                 req->len, &r);
    } else {
        api_enroll(srv->store, req->body ? req->body : (uint8_t *)"", req->len, &r);
    }
    log_line(srv, "%s", r.log);
    enum MHD_Result ok = send_response(c, &r, 0);
    api_response_clear(&r);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)c;
    (void)code;
    struct server *srv = cls;
    struct request *req = *con_cls;
    if (req) {
        request_done(srv, req);
        free(req->body);
        free(req);
        *con_cls = NULL;
    }
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)c;
    (void)socket_context;
    struct server *srv = cls;
    pthread_mutex_lock(&srv->lock);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        srv->connections++;
    } else if (srv->connections > 0) {
        srv->connections--;
    }
    pthread_mutex_unlock(&srv->lock);
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    struct server *srv = cls;
    char line[300];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t len = strlen(line);
    while (len > 0 && line[len - 1] == '\n') {
        line[--len] = '\0';
    }
    log_at(srv, LOG_PRI_WARN, "http: %s", line);
}

static void server_free(struct server *srv)
{
    if (!srv) {
        return;
    }
    pthread_mutex_lock(&tls_lock);
    if (srv->owns_tls) {
        tls_pair_free(tls_current);
        tls_current = NULL;
    }
    pthread_mutex_unlock(&tls_lock);
    free(srv->rates);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

int server_start(struct store *store, const struct server_config *config, struct server **out,
                 char *why, size_t why_len)
{
    struct sockaddr_storage addr;
    int v6 = 0;
    if (parse_listen(config->listen ? config->listen : "", &addr, &v6) != 0) {
        snprintf(why, why_len, "cannot listen on \"%s\": expected ADDRESS:PORT",
                 config->listen ? config->listen : "");
        return HUB_E_ARG;
    }
    if (!config->cert_path || !config->key_path) {
        snprintf(why, why_len,
                 "the server needs --cert and --key (make them with"
                 " 'hamlet-hub cert generate')");
        return HUB_E_ARG;
    }
    int rc;
    struct tls_pair *pair = tls_pair_load(config->cert_path, config->key_path, &rc, why, why_len);
    if (!pair) {
        return rc;
    }
    pthread_mutex_lock(&tls_lock);
    int taken = tls_current != NULL;
    if (!taken) {
        tls_current = pair;
    }
    pthread_mutex_unlock(&tls_lock);
    if (taken) {
        tls_pair_free(pair);
        snprintf(why, why_len, "a server runs in this process already");
        return HUB_E_STATE;
    }
    struct server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        pthread_mutex_lock(&tls_lock);
        tls_pair_free(tls_current);
        tls_current = NULL;
        pthread_mutex_unlock(&tls_lock);
        return HUB_E_NOMEM;
    }
    pthread_mutex_init(&srv->lock, NULL);
    srv->owns_tls = 1;
    srv->store = store;
    srv->config = *config;
    srv->log = config->log ? config->log : stderr;
    srv->journal = server_is_journal(srv->log);
    srv->rates = calloc(RATE_SLOTS, sizeof *srv->rates);
    if (!srv->rates) {
        server_free(srv);
        return HUB_E_NOMEM;
    }
    unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    /* Room above the limit, so that a connection past it is answered 503
     * rather than dropped unanswered. */
    unsigned hard_limit = config->max_connections + 16;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_HTTPS_CERT_CALLBACK,
        on_cert_request, MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(config->threads ? config->threads : 1),
        MHD_OPTION_CONNECTION_LIMIT, hard_limit, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)config->idle_timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(why, why_len, "cannot listen on %s (is the port in use, or the key wrong?)",
                 config->listen);
        server_free(srv);
        return HUB_E_STATE;
    }
    log_line(srv, "serving https://%s (%u threads, %u connections, %u s idle timeout)",
             config->listen, config->threads, config->max_connections, config->idle_timeout_s);
    *out = srv;
    return 0;
}

unsigned server_port(struct server *srv)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void server_stop(struct server *srv, unsigned grace_s)
{
    if (!srv) {
        return;
    }
    pthread_mutex_lock(&srv->lock);
    srv->stopping = 1;
    pthread_mutex_unlock(&srv->lock);
    MHD_socket listener = MHD_quiesce_daemon(srv->daemon);
    if (listener != MHD_INVALID_SOCKET) {
        close(listener);
    }
    /* Let the syncs in flight finish. */
    for (unsigned waited = 0; waited < grace_s * 10; waited++) {
        pthread_mutex_lock(&srv->lock);
        unsigned busy = srv->in_flight;
        pthread_mutex_unlock(&srv->lock);
        if (busy == 0) {
            break;
        }
        struct timespec tick = {0, 100000000L};
        nanosleep(&tick, NULL);
    }
    MHD_stop_daemon(srv->daemon);
    log_line(srv, "stopped");
    server_free(srv);
}
