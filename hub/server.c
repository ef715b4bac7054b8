/* SPDX-License-Identifier: MIT */
/*
 * server.c - libmicrohttpd plumbing for the hub: routing (/v1/ to api.c,
 * the review pages to web.c), request bodies with a hard maximum,
 * connection and per-device limits, the log, and a clean stop that lets
 * syncs in flight finish.
 */
#include "server.h"

#include "cert.h"
#include "hub_error.h"
#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RATE_SLOTS 4096

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
    char *cert_pem, *key_pem;
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

static void log_line(struct server *srv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void log_line(struct server *srv, const char *fmt, ...)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char line[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(srv->log, "%s hamlet-hub: %s\n", stamp, line);
    fflush(srv->log);
}

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
    log_line(srv, "http: %s", line);
}

static void server_free(struct server *srv)
{
    if (!srv) {
        return;
    }
    free(srv->cert_pem);
    free(srv->key_pem);
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
    int rc = cert_check_pair(config->cert_path, config->key_path, why, why_len);
    if (rc != 0) {
        return rc;
    }
    struct server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        return HUB_E_NOMEM;
    }
    pthread_mutex_init(&srv->lock, NULL);
    srv->store = store;
    srv->config = *config;
    srv->log = config->log ? config->log : stderr;
    srv->rates = calloc(RATE_SLOTS, sizeof *srv->rates);
    srv->cert_pem = read_file(config->cert_path, why, why_len);
    srv->key_pem = srv->cert_pem ? read_file(config->key_path, why, why_len) : NULL;
    if (!srv->rates || !srv->key_pem) {
        rc = srv->rates ? HUB_E_IO : HUB_E_NOMEM;
        server_free(srv);
        return rc;
    }
    unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    /* Room above the limit, so that a connection past it is answered 503
     * rather than dropped unanswered. */
    unsigned hard_limit = config->max_connections + 16;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_HTTPS_MEM_CERT, srv->cert_pem,
        MHD_OPTION_HTTPS_MEM_KEY, srv->key_pem, MHD_OPTION_HTTPS_PRIORITIES,
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)(config->threads ? config->threads : 1), MHD_OPTION_CONNECTION_LIMIT, hard_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)config->idle_timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        srv, MHD_OPTION_END);
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
