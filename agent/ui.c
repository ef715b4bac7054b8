/* SPDX-License-Identifier: MIT */
/*
 * ui.c - the server of `hamlet ui` (ui.h): libmicrohttpd on 127.0.0.1, the
 * checks every request passes, the pages' files, the log line, and the
 * background sync that the pages start. The checks come in one order for
 * every request: size (413), Host (403), Origin and the fetch's site (403;
 * not for the first visit, whose token lets it in from the launcher's file:
 * page), the launcher's question (/running, which needs no session), the
 * cookie (401; the first visit with the token sets it), route (404),
 * method (405), then for a change the CSRF token (403) and a JSON body
 * (415). The endpoints are in ui_api.c; the files through which the
 * launcher finds the server, in ui_launch.c. What it reads from a request
 * as the township's pages do (the cookie, JSON bodies, text for the log)
 * is web/webutil.h's.
 */
#include "ui_int.h"

#include "hlc.h"
#include "sync_client.h"
#include "webutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HTML_TYPE "text/html; charset=utf-8"

/* The pages load their scripts and styles from /assets/ and nothing from
 * anywhere else; no inline script or style. */
#define CSP                                                                                        \
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none';"             \
    " object-src 'none'"

/* A ticket to print an agreement with the numbers in full: the paper form,
 * made (and its reveal recorded) when the ticket was asked for. */
struct print_ticket {
    char ticket[UI_TICKET_HEX + 1]; /* "" when the slot is free */
    char agreement[40];
    time_t issued;  /* the calendar's: see ticket_live() */
    uint64_t order; /* which was issued first */
    char *html;
    size_t len;
};

struct ui_site {
    struct local *local; /* the server's thread only */
    FILE *log;
    unsigned port;
    char token[UI_TOKEN_HEX + 1];  /* in the first address only */
    char cookie[UI_TOKEN_HEX + 1]; /* the session the first visit opens */
    char csrf[UI_TOKEN_HEX + 1];
    char cookie_name[32]; /* hamlet_ui_PORT: cookies do not tell ports apart */
    char hosts[2][40];    /* 127.0.0.1:PORT, localhost:PORT */
    struct print_ticket tickets[UI_MAX_TICKETS]; /* the server's thread only */
    uint64_t tickets_issued;

    pthread_mutex_t lock; /* guards what follows: the background sync */
    pthread_t sync_thread;
    int sync_joinable, sync_running, sync_ran;
    int sync_rc;
    struct sync_client_summary sync_last;
};

/* A request being received. */
struct pending {
    uint8_t *body;
    size_t len, cap;
    int too_big, answered;
    struct timespec started;
};

const char *ui_strerror(int code)
{
    switch (code) {
    case 0:
        return "no error";
    case UI_E_ARG:
        return "a bad option";
    case UI_E_LISTEN:
        return "the port cannot be listened on (is it in use?)";
    case UI_E_RANDOM:
        return "the system gave no random bytes";
    case UI_E_NOMEM:
        return "out of memory";
    default:
        return "unknown error";
    }
}

/* ---- responses ---- */

void ui_body(struct ui_response *out, int status, const char *content_type, const void *data,
             size_t len)
{
    free(out->body);
    out->body = malloc(len ? len : 1);
    out->len = out->body ? len : 0;
    out->status = out->body ? status : 500;
    if (out->body && len) {
        memcpy(out->body, data, len);
    }
    out->content_type = content_type;
}

void ui_json(struct ui_response *out, int status, cJSON *obj)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    free(out->body);
    out->body = text;
    out->len = text ? strlen(text) : 0;
    out->status = text ? status : 500;
    out->content_type = WEBUTIL_JSON_TYPE;
}

void ui_error(struct ui_response *out, int status, const char *name, const char *message)
{
    ui_json(out, status, webutil_error_json(name, message));
}

const char *ui_arg(const struct ui_call *c, const char *name)
{
    return c->req->arg ? c->req->arg(c->req->arg_ctx, name) : NULL;
}

cJSON *ui_read_json(const struct ui_call *c, struct ui_response *out)
{
    cJSON *doc = webutil_parse_object(c->req->body, c->req->len);
    if (!doc) {
        ui_error(out, 400, "bad_request", "expected a JSON object");
        return NULL;
    }
    return doc;
}

const char *ui_csrf(const struct ui_site *site)
{
    return site->csrf;
}

/* ---- tickets to print in full ---- */

static void ticket_clear(struct print_ticket *t)
{
    if (t->html) {
        sodium_memzero(t->html, t->len);
        free(t->html);
    }
    sodium_memzero(t, sizeof *t);
}

/* The calendar's time, not the monotonic clock, so that the tests can move
 * it (libfaketime); a clock set back does not make an old ticket good
 * again. */
static int ticket_live(const struct print_ticket *t, time_t now)
{
    return t->ticket[0] && now >= t->issued && now - t->issued < UI_TICKET_S;
}

int ui_ticket_issue(struct ui_site *site, const char *agreement, char *html, size_t len,
                    char ticket[UI_TICKET_HEX + 1])
{
    struct print_ticket *slot = NULL;
    time_t now = time(NULL);
    if (strlen(agreement) >= sizeof slot->agreement) {
        sodium_memzero(html, len);
        free(html);
        return -1;
    }
    for (size_t i = 0; i < UI_MAX_TICKETS; i++) {
        struct print_ticket *t = &site->tickets[i];
        if (t->ticket[0] && !ticket_live(t, now)) {
            ticket_clear(t);
        }
        if (!slot || (slot->ticket[0] && (!t->ticket[0] || t->order < slot->order))) {
            slot = t; /* a free slot, else the oldest */
        }
    }
    ticket_clear(slot);
    unsigned char bytes[UI_TICKET_HEX / 2];
    randombytes_buf(bytes, sizeof bytes);
    sodium_bin2hex(slot->ticket, sizeof slot->ticket, bytes, sizeof bytes);
    sodium_memzero(bytes, sizeof bytes);
    snprintf(slot->agreement, sizeof slot->agreement, "%s", agreement);
    slot->issued = now;
    slot->order = ++site->tickets_issued;
    slot->html = html;
    slot->len = len;
    memcpy(ticket, slot->ticket, sizeof slot->ticket);
    return 0;
}

int ui_ticket_take(struct ui_site *site, const char *ticket, const char *agreement, char **html,
                   size_t *len)
{
    time_t now = time(NULL);
    int rc = -1;
    for (size_t i = 0; ticket && agreement && strlen(ticket) == UI_TICKET_HEX && i < UI_MAX_TICKETS;
         i++) {
        struct print_ticket *t = &site->tickets[i];
        if (!t->ticket[0] || sodium_memcmp(t->ticket, ticket, UI_TICKET_HEX) != 0) {
            continue;
        }
        if (ticket_live(t, now) && !strcmp(t->agreement, agreement)) {
            *html = t->html;
            *len = t->len;
            t->html = NULL;
            rc = 0;
        }
        ticket_clear(t); /* used up, whatever it was asked for */
    }
    return rc;
}

/* ---- the background sync ---- */

static void *sync_main(void *arg)
{
    struct ui_site *site = arg;
    struct sync_client_summary s;
    struct local l;
    char why[400];
    memset(&s, 0, sizeof s);
    int rc = local_open(site->local->path, 0, &l, why, sizeof why);
    if (rc == 0) {
        rc = sync_client_run(&l, 6, &s);
        local_close(&l);
    } else {
        snprintf(s.error, sizeof s.error, "%s", why);
    }
    pthread_mutex_lock(&site->lock);
    site->sync_last = s;
    site->sync_rc = rc;
    site->sync_ran = 1;
    site->sync_running = 0;
    pthread_mutex_unlock(&site->lock);
    return NULL;
}

int ui_sync_start(struct ui_site *site)
{
    pthread_mutex_lock(&site->lock);
    int rc = 0;
    if (site->sync_running) {
        rc = 1;
    } else {
        if (site->sync_joinable) {
            pthread_join(site->sync_thread, NULL); /* it has finished */
            site->sync_joinable = 0;
        }
        site->sync_running = 1;
        if (pthread_create(&site->sync_thread, NULL, sync_main, site) != 0) {
            site->sync_running = 0;
            rc = -1;
        } else {
            site->sync_joinable = 1;
        }
    }
    pthread_mutex_unlock(&site->lock);
    return rc;
}

int ui_sync_state(struct ui_site *site, cJSON *obj)
{
    pthread_mutex_lock(&site->lock);
    int running = site->sync_running, ran = site->sync_ran, rc = site->sync_rc;
    struct sync_client_summary s = site->sync_last;
    pthread_mutex_unlock(&site->lock);
    if (!cJSON_AddBoolToObject(obj, "running", running)) {
        return -1;
    }
    if (!ran) {
        return cJSON_AddNullToObject(obj, "last_run") ? 0 : -1;
    }
    cJSON *r = cJSON_AddObjectToObject(obj, "last_run");
    if (!r || !cJSON_AddBoolToObject(r, "ok", rc == 0) ||
        !cJSON_AddNumberToObject(r, "sent", (double)s.sent) ||
        !cJSON_AddNumberToObject(r, "received", (double)s.received) ||
        !cJSON_AddNumberToObject(r, "bytes_up", (double)s.bytes_up) ||
        !cJSON_AddNumberToObject(r, "bytes_down", (double)s.bytes_down) ||
        !cJSON_AddNumberToObject(r, "conflicts", (double)s.conflicts) ||
        !cJSON_AddNumberToObject(r, "refused", (double)s.refused) ||
        !cJSON_AddStringToObject(r, "error", rc == 0 ? "" : s.error) ||
        !cJSON_AddBoolToObject(r, "clock_off", s.clock_off) ||
        !cJSON_AddBoolToObject(r, "revoked", s.revoked)) {
        return -1;
    }
    return 0;
}

/* ---- the checks ---- */

/* 1 when the two secrets of UI_TOKEN_HEX characters are equal, compared
 * in constant time; a value of another length is never equal. */
static int secret_equal(const char *given, const char *secret)
{
    return given && strlen(given) == UI_TOKEN_HEX &&
           sodium_memcmp(given, secret, UI_TOKEN_HEX) == 0;
}

/* The value of the cookie name in a Cookie header, or "" (at most
 * UI_TOKEN_HEX characters are kept: a longer value never matches). */
static void cookie_value(const char *header, const char *name, char out[UI_TOKEN_HEX + 2])
{
    size_t len;
    const char *value = webutil_cookie(header, name, &len);
    if (len > UI_TOKEN_HEX) {
        len = UI_TOKEN_HEX + 1;
    }
    if (value) {
        memcpy(out, value, len);
    }
    out[len] = '\0';
}

static const struct ui_asset *find_asset(const char *name)
{
    for (size_t i = 0; i < ui_assets_count; i++) {
        if (!strcmp(ui_assets[i].name, name)) {
            return &ui_assets[i];
        }
    }
    return NULL;
}

/* The endpoint of path and method; else one of path alone (to answer
 * 405), or NULL. */
static const struct ui_endpoint *find_endpoint(const char *path, const char *method)
{
    const struct ui_endpoint *found = NULL;
    for (size_t i = 0; i < ui_api_endpoints_count; i++) {
        if (!strcmp(path, ui_api_endpoints[i].path)) {
            if (!strcmp(method, ui_api_endpoints[i].method)) {
                return &ui_api_endpoints[i];
            }
            found = &ui_api_endpoints[i];
        }
    }
    return found;
}

/* The answer to the first visit: it sets the cookie and sends the browser
 * on to "/" with a refresh, not a redirect. The visit may come from the
 * launcher's page (ui.html, a file: page, another site to the browser), and
 * a browser sends no SameSite=Strict cookie along a redirect that another
 * site started; the refresh is a new navigation that this page starts.
 * It replaces the address in the history, token and all. */
static const char first_visit_page[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
    "<meta http-equiv=\"refresh\" content=\"0;url=/\"><title>村调解台账</title></head>\n"
    "<body><p><a href=\"/\">打开村调解台账 (Open the village mediation ledger)</a></p>"
    "</body></html>\n";

/* The answer of a request without the session: the first visit with the
 * token opens it; anything else is refused (401), a page with a page that
 * says how to get in, an endpoint with JSON. */
static void answer_locked(struct ui_site *site, const char *path, int first_visit,
                          struct ui_response *out, char *set_cookie, size_t header_len)
{
    if (first_visit) {
        snprintf(set_cookie, header_len, "%s=%s; Path=/; HttpOnly; SameSite=Strict",
                 site->cookie_name, site->cookie);
        ui_body(out, 200, HTML_TYPE, first_visit_page, sizeof first_visit_page - 1);
        return;
    }
    if (!strncmp(path, "/api/", 5)) {
        ui_error(out, 401, "session",
                 "open the address that 'hamlet ui' printed (its token sets the session)");
        return;
    }
    const struct ui_asset *a = find_asset("locked.html");
    if (a) {
        ui_body(out, 401, a->content_type, a->data, a->len);
    } else {
        ui_error(out, 401, "session", "open the address that 'hamlet ui' printed");
    }
}

/* GET /running?nonce=N: the launcher (ui_launch.c) asks whether this is
 * the server whose address it has, without sending the token: the answer
 * is the nonce keyed with it. Anyone may ask; the answer tells nothing of
 * the token. */
static void answer_running(struct ui_site *site, const char *nonce, struct ui_response *out)
{
    if (!nonce || strlen(nonce) != UI_TOKEN_HEX ||
        strspn(nonce, "0123456789abcdef") != UI_TOKEN_HEX) {
        ui_error(out, 400, "bad_request", "expected nonce=64 hexadecimal characters");
        return;
    }
    char proof[UI_TOKEN_HEX + 1];
    ui_launch_proof(site->token, nonce, proof);
    ui_body(out, 200, "text/plain; charset=utf-8", proof, UI_TOKEN_HEX);
}

static const char *mhd_arg(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* Answer one whole request into out (and the redirect's headers). */
static void answer(struct ui_site *site, struct MHD_Connection *c, const char *url,
                   const char *method, struct pending *p, struct ui_response *out, char *location,
                   char *set_cookie, size_t header_len)
{
    if (p->too_big) {
        char message[80];
        snprintf(message, sizeof message, "the request is larger than %u bytes", UI_MAX_BODY);
        ui_error(out, 413, "too_big", message);
        return;
    }
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!host || (strcmp(host, site->hosts[0]) != 0 && strcmp(host, site->hosts[1]) != 0)) {
        ui_error(out, 403, "host",
                 "this server answers to 127.0.0.1 and localhost only, with its port");
        return;
    }
    /* The first visit may come from the launcher's page, a file: page and
     * so another site to the browser: the token, which no other site
     * knows, lets that one navigation in. */
    const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    int first_visit =
        !strcmp(url, "/") && !strcmp(method, "GET") && secret_equal(token, site->token);
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (!first_visit && origin &&
        (strncmp(origin, "http://", 7) != 0 || strcmp(origin + 7, host) != 0)) {
        ui_error(out, 403, "origin", "a request from another site is refused");
        return;
    }
    const char *fetch_site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (!first_visit && fetch_site &&
        (!strcmp(fetch_site, "cross-site") || !strcmp(fetch_site, "same-site"))) {
        ui_error(out, 403, "origin", "a request from another site is refused");
        return;
    }
    if (!strcmp(url, "/running") && !strcmp(method, "GET")) {
        answer_running(site, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "nonce"), out);
        return;
    }
    char given[UI_TOKEN_HEX + 2];
    cookie_value(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE),
                 site->cookie_name, given);
    if (!secret_equal(given, site->cookie)) {
        answer_locked(site, url, first_visit, out, set_cookie, header_len);
        return;
    }
    sodium_memzero(given, sizeof given);
    if (!strcmp(url, "/") && token) {
        snprintf(location, header_len, "/"); /* the token does not stay in the address bar */
        ui_body(out, 303, "text/plain; charset=utf-8", "", 0);
        return;
    }
    int api = !strncmp(url, "/api/", 5) || !strncmp(url, "/print/", 7);
    if (!api) {
        const struct ui_asset *a = NULL;
        if (!strcmp(url, "/")) {
            a = find_asset("village.html");
        } else if (!strncmp(url, "/assets/", 8)) {
            a = find_asset(url + 8);
        }
        if (!a) {
            ui_error(out, 404, "not_found", "no such page");
        } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            ui_error(out, 405, "method", "use GET");
        } else {
            ui_body(out, 200, a->content_type, a->data, a->len);
        }
        return;
    }
    const struct ui_endpoint *e = find_endpoint(url, method);
    if (!e) {
        ui_error(out, 404, "not_found", "no such endpoint");
        return;
    }
    if (strcmp(method, e->method) != 0) {
        ui_error(out, 405, "method", e->method[0] == 'G' ? "use GET" : "use POST");
        return;
    }
    if (!strcmp(e->method, "POST")) {
        const char *csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
        if (!secret_equal(csrf, site->csrf)) {
            ui_error(out, 403, "csrf", "the request lacks the page's X-CSRF-Token");
            return;
        }
        if (!webutil_is_json(
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE))) {
            ui_error(out, 415, "content_type", "send the request as application/json");
            return;
        }
    }
    /* Another program (hamlet daemon, or our own sync) may have learned a
     * new clock correction from the hub since. */
    hlc_correct(replica_clock(site->local->replica),
                local_get_int(site->local, "agent.clock_offset_ms", 0));
    struct ui_request req = {method, url, NULL, p->body, p->len, mhd_arg, c};
    struct ui_call call = {site->local, site, &req, e->variant};
    e->run(&call, out);
}

static double ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) * 1e3 + (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

static enum MHD_Result send_answer(struct ui_site *site, struct MHD_Connection *c, const char *url,
                                   const char *method, struct pending *p)
{
    struct ui_response out;
    char location[200] = "", set_cookie[200] = ""; /* both of one size for answer() */
    memset(&out, 0, sizeof out);
    answer(site, c, url, method, p, &out, location, set_cookie, sizeof location);
    p->answered = 1;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(out.len, out.body ? out.body : (void *)"",
                                        out.body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(out.body);
        return MHD_NO;
    }
    out.body = NULL; /* the response owns it now */
    int api = !strncmp(url, "/api/", 5);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            out.content_type ? out.content_type : WEBUTIL_JSON_TYPE);
    MHD_add_response_header(
        resp, "Cache-Control",
        api || out.status != 200 || strncmp(url, "/assets/", 8) != 0 ? "no-store" : "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy", out.csp ? out.csp : CSP);
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", out.frame_self ? "SAMEORIGIN" : "DENY");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    if (location[0]) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    }
    if (set_cookie[0]) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, set_cookie);
    }
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)out.status, resp);
    MHD_destroy_response(resp);
    char m[16], path[160];
    webutil_log_safe(m, sizeof m, method);
    webutil_log_safe(path, sizeof path, url);
    fprintf(site->log, "hamlet ui: %s %s %d %.0f ms\n", m, path, out.status, ms_since(&p->started));
    fflush(site->log);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct ui_site *site = cls;
    struct pending *p = *con_cls;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p) {
            return MHD_NO;
        }
        clock_gettime(CLOCK_MONOTONIC, &p->started);
        *con_cls = p;
        const char *length =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull(length, NULL, 10) > UI_MAX_BODY) {
            p->too_big = 1;
            return send_answer(site, c, url, method, p);
        }
        return MHD_YES;
    }
    if (p->answered) {
        *upload_size = 0; /* a refusal is queued already: drop the body */
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (p->too_big || p->len + n > UI_MAX_BODY) {
            p->too_big = 1;
            return MHD_YES;
        }
        if (p->len + n > p->cap) {
            size_t cap = p->cap ? p->cap : 8192;
            while (cap < p->len + n) {
                cap *= 2;
            }
            uint8_t *grown = realloc(p->body, cap);
            if (!grown) {
                return MHD_NO;
            }
            p->body = grown;
            p->cap = cap;
        }
        memcpy(p->body + p->len, upload_data, n);
        p->len += n;
        return MHD_YES;
    }
    return send_answer(site, c, url, method, p);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    (void)code;
    struct pending *p = *con_cls;
    if (p) {
        free(p->body);
        free(p);
        *con_cls = NULL;
    }
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    struct ui_site *site = cls;
    fputs("hamlet ui: ", site->log);
    vfprintf(site->log, fmt, ap);
    fflush(site->log);
}

/* ---- starting and stopping ---- */

static int random_hex(char out[UI_TOKEN_HEX + 1])
{
    unsigned char bytes[UI_TOKEN_HEX / 2];
    randombytes_buf(bytes, sizeof bytes);
    sodium_bin2hex(out, UI_TOKEN_HEX + 1, bytes, sizeof bytes);
    sodium_memzero(bytes, sizeof bytes);
    return 0;
}

int ui_serve(struct local *local, const struct ui_opts *opts)
{
    FILE *log = opts->log ? opts->log : stderr;
    FILE *out = opts->out ? opts->out : stdout;
    if (opts->port > 65535) {
        fprintf(log, "hamlet ui: --port: expected 0 to 65535\n");
        return UI_E_ARG;
    }
    if (sodium_init() < 0) {
        fprintf(log, "hamlet ui: %s\n", ui_strerror(UI_E_RANDOM));
        return UI_E_RANDOM;
    }
    struct ui_site *site = calloc(1, sizeof *site);
    if (!site) {
        return UI_E_NOMEM;
    }
    site->local = local;
    site->log = log;
    pthread_mutex_init(&site->lock, NULL);
    random_hex(site->token);
    random_hex(site->cookie);
    random_hex(site->csrf);

    /* SIGINT, SIGTERM and SIGHUP (the terminal closed) are taken below with
     * sigwait: blocked here, before the server's threads start, so that
     * they inherit the mask. */
    sigset_t stop_signals, old_mask;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)opts->port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)opts->port, NULL, NULL,
        on_request, site, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, site, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)UI_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)UI_IDLE_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, site, MHD_OPTION_END);
    if (!daemon) {
        fprintf(log, "hamlet ui: cannot listen on 127.0.0.1:%u (is the port in use?)\n",
                opts->port);
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
        pthread_mutex_destroy(&site->lock);
        free(site);
        return UI_E_LISTEN;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    site->port = info ? info->port : opts->port;
    snprintf(site->cookie_name, sizeof site->cookie_name, "hamlet_ui_%u", site->port);
    snprintf(site->hosts[0], sizeof site->hosts[0], "127.0.0.1:%u", site->port);
    snprintf(site->hosts[1], sizeof site->hosts[1], "localhost:%u", site->port);

    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/?token=%s", site->port, site->token);
    /* The file first, so that whoever reads the address printed finds it
     * there too. The browser gets the launcher's page, never the address:
     * the arguments of a process are there for every user to read. */
    struct ui_launch where;
    char why[UI_LAUNCH_PATH_MAX + 100];
    int published = ui_launch_paths(&where, why, sizeof why) == 0 &&
                    ui_launch_publish(&where, url, why, sizeof why) == 0;
    fprintf(out,
            "Hamlet is open at %s\n"
            "Only this laptop can use it. Ctrl-C stops it.\n",
            url);
    fflush(out);
    if (!published) {
        fprintf(log, "hamlet ui: %s; 'hamlet ui --open' will not find this run%s\n", why,
                opts->open_browser ? ", and the browser is not opened" : "");
        fflush(log);
    }
    pid_t browser = opts->open_browser && published ? ui_launch_browser(where.page) : 0;

    struct timespec tick = {1, 0};
    for (;;) {
        int sig = sigtimedwait(&stop_signals, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            break;
        }
        if (browser > 0 && waitpid(browser, NULL, WNOHANG) != 0) {
            browser = 0; /* reaped: xdg-open hands the page over and exits */
        }
    }
    if (published) {
        ui_launch_withdraw(&where, url);
    }
    sodium_memzero(url, sizeof url);
    MHD_stop_daemon(daemon);
    fprintf(log, "hamlet ui: stopped\n");

    /* A sync in flight is left to finish for a few seconds; past that it is
     * abandoned as a cut link would be (its unacknowledged changes are sent
     * again next time), and its state is left allocated for it. */
    int running = 1;
    for (int waited = 0; waited < 50 && running; waited++) {
        pthread_mutex_lock(&site->lock);
        running = site->sync_running;
        pthread_mutex_unlock(&site->lock);
        if (running) {
            struct timespec pause = {0, 100000000L};
            nanosleep(&pause, NULL);
        }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    if (running) {
        return 0;
    }
    if (site->sync_joinable) {
        pthread_join(site->sync_thread, NULL);
    }
    sodium_memzero(site->token, sizeof site->token);
    sodium_memzero(site->cookie, sizeof site->cookie);
    sodium_memzero(site->csrf, sizeof site->csrf);
    for (size_t i = 0; i < UI_MAX_TICKETS; i++) {
        ticket_clear(&site->tickets[i]);
    }
    pthread_mutex_destroy(&site->lock);
    free(site);
    return 0;
}
