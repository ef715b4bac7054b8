/* SPDX-License-Identifier: MIT */
/*
 * web.c - what the hub answers to a browser: the pages and their files,
 * sign-in and sign-out, sessions, and the table of endpoints (the review
 * pages' own are in web_review.c). The
 * checks come in one order for every endpoint: size, route, method, the
 * session (401), the CSRF token of a request that changes something (403),
 * then the endpoint itself. What it reads from a request as the village's
 * pages do (the cookie, JSON bodies, text for the log) is web/webutil.h's.
 */
#include "web_int.h"

#include "auth.h"
#include "delta.h"
#include "hub_error.h"
#include "webutil.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The policy forbids inline script and style: the pages load their
 * scripts and styles from /assets/, and nothing from elsewhere. */
#define CSP                                                                                        \
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none';"             \
    " object-src 'none'"

/* ---- responses ---- */

void web_header(struct web_response *out, const char *name, const char *fmt, ...)
{
    struct web_header *h = NULL;
    for (size_t i = 0; i < out->nheaders; i++) {
        if (!strcasecmp(out->headers[i].name, name)) {
            h = &out->headers[i]; /* replaced, not repeated */
        }
    }
    if (!h) {
        if (out->nheaders == WEB_MAX_HEADERS) {
            return; /* cannot happen: the headers are counted below */
        }
        h = &out->headers[out->nheaders++];
    }
    h->name = name;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->value, sizeof h->value, fmt, ap);
    va_end(ap);
}

const char *web_response_header(const struct web_response *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!strcasecmp(r->headers[i].name, name)) {
            return r->headers[i].value;
        }
    }
    return NULL;
}

void web_response_clear(struct web_response *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

void web_body(struct web_response *out, int status, const char *content_type, const void *data,
              size_t len)
{
    free(out->body);
    out->body = malloc(len ? len : 1);
    out->len = out->body ? len : 0;
    out->status = out->body ? status : 500;
    if (out->body && len) {
        memcpy(out->body, data, len);
    }
    web_header(out, "Content-Type", "%s", content_type);
}

void web_json(struct web_response *out, int status, cJSON *obj)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    free(out->body);
    out->body = (uint8_t *)text;
    out->len = text ? strlen(text) : 0;
    out->status = text ? status : 500;
    web_header(out, "Content-Type", "%s", WEBUTIL_JSON_TYPE);
}

void web_error(struct web_response *out, int status, const char *name, const char *message)
{
    web_json(out, status, webutil_error_json(name, message));
}

void web_ok(struct web_response *out)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj && !cJSON_AddTrueToObject(obj, "ok")) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    web_json(out, 200, obj);
}

static void security_headers(struct web_response *out, int api)
{
    web_header(out, "Cache-Control", "%s", api ? "no-store" : "no-cache");
    web_header(out, "X-Content-Type-Options", "nosniff");
    web_header(out, "Content-Security-Policy", "%s", CSP);
    web_header(out, "Referrer-Policy", "no-referrer");
    web_header(out, "X-Frame-Options", "DENY");
    web_header(out, "Strict-Transport-Security", "max-age=31536000");
}

/* ---- requests ---- */

/* The session token in a Cookie header ("a=1; hamlet_session=TOKEN"), or
 * "" when there is none of the right form. */
static void session_cookie(const char *header, char out[AUTH_TOKEN_LEN])
{
    size_t len;
    out[0] = '\0';
    for (const char *value = webutil_cookie(header, WEB_COOKIE, &len); value;) {
        if (len == AUTH_TOKEN_LEN - 1) {
            memcpy(out, value, len);
            out[len] = '\0';
            if (auth_token_valid(out)) {
                return;
            }
            out[0] = '\0';
        }
        const char *next = strchr(value, ';'); /* a later cookie of the name may be good */
        value = next ? webutil_cookie(next + 1, WEB_COOKIE, &len) : NULL;
    }
}

/* ---- the endpoints ---- */

static void session_json(struct web_response *out, const struct store_user *user, const char *csrf)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj && (!cJSON_AddStringToObject(obj, "user", user->name) ||
                !cJSON_AddStringToObject(obj, "role", user->role) ||
                !cJSON_AddStringToObject(obj, "csrf", csrf))) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    web_json(out, 200, obj);
}

static void do_login(const struct web_call *c, struct web_response *out)
{
    const struct web_request *req = c->req;
    if (!webutil_is_json(req->content_type)) {
        web_error(out, 415, "content_type", "send the sign-in as application/json");
        return;
    }
    cJSON *doc = webutil_parse_object(req->body, req->len);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "name");
    cJSON *password = cJSON_GetObjectItemCaseSensitive(doc, "password");
    if (!cJSON_IsString(name) || !cJSON_IsString(password)) {
        web_error(out, 400, "bad_request", "expected JSON {\"name\": ..., \"password\": ...}");
        cJSON_Delete(doc);
        return;
    }
    webutil_log_safe(c->who, c->who_len,
                     auth_name_valid(name->valuestring) ? name->valuestring : "?");
    struct store_user user;
    unsigned retry_after = 0;
    int rc = store_login(c->site->store, name->valuestring, password->valuestring, req->remote,
                         &user, &retry_after);
    sodium_memzero(password->valuestring, strlen(password->valuestring));
    cJSON_Delete(doc);
    char token[AUTH_TOKEN_LEN], csrf[AUTH_TOKEN_LEN];
    switch (rc) {
    case 0:
        rc = store_session_new(c->site->store, user.id, WEB_SESSION_TTL_MS, token, csrf);
        if (rc != 0) {
            web_error(out, 500, "store", "the session could not be opened");
            return;
        }
        web_header(out, "Set-Cookie",
                   WEB_COOKIE "=%s; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=%lld", token,
                   (long long)(WEB_SESSION_TTL_MS / 1000));
        session_json(out, &user, csrf);
        sodium_memzero(token, sizeof token);
        sodium_memzero(csrf, sizeof csrf);
        return;
    case HUB_E_AUTH:
        web_error(out, 401, "auth", "wrong name or password");
        return;
    case HUB_E_REVOKED:
        web_error(out, 403, "disabled", "this account is disabled");
        return;
    case HUB_E_STATE:
        web_header(out, "Retry-After", "%u", retry_after);
        web_error(out, 429, "locked",
                  "too many failed sign-ins: the account is locked for a while");
        return;
    default:
        web_error(out, 500, "store", hub_strerror(rc));
    }
}

static void do_logout(const struct web_call *c, struct web_response *out)
{
    int rc = store_session_end(c->site->store, c->token);
    if (rc != 0) {
        web_error(out, 500, "store", hub_strerror(rc));
        return;
    }
    store_auth_log(c->site->store, c->user->name, "logout", "signed out", c->req->remote);
    web_header(out, "Set-Cookie",
               WEB_COOKIE "=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    web_ok(out);
}

static void do_me(const struct web_call *c, struct web_response *out)
{
    session_json(out, c->user, c->csrf);
}

static int add_village(void *ctx, const char *code, const char *name, int64_t devices,
                       int64_t cases)
{
    cJSON *v = cJSON_CreateObject();
    if (!v || !cJSON_AddItemToArray(ctx, v) || !cJSON_AddStringToObject(v, "code", code) ||
        !cJSON_AddStringToObject(v, "name", name) ||
        !cJSON_AddNumberToObject(v, "devices", (double)devices) ||
        !cJSON_AddNumberToObject(v, "cases", (double)cases)) {
        return HUB_E_NOMEM; /* v, once in the array, is freed with it */
    }
    return 0;
}

static void do_villages(const struct web_call *c, struct web_response *out)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON *list = obj ? cJSON_AddArrayToObject(obj, "villages") : NULL;
    int rc = list ? store_village_list(c->site->store, add_village, list) : HUB_E_NOMEM;
    if (rc != 0) {
        cJSON_Delete(obj);
        web_error(out, 500, "store", hub_strerror(rc));
        return;
    }
    web_json(out, 200, obj);
}

static const struct web_endpoint endpoints[] = {
    {"POST", "/api/login", WEB_OPEN, do_login},
    {"POST", "/api/logout", WEB_CHANGE, do_logout},
    {"GET", "/api/me", WEB_SESSION, do_me},
    {"GET", "/api/villages", WEB_SESSION, do_villages},
};

static const struct web_endpoint *find_endpoint(const char *path)
{
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
        if (!strcmp(path, endpoints[i].path)) {
            return &endpoints[i];
        }
    }
    for (size_t i = 0; i < web_review_endpoints_count; i++) {
        if (!strcmp(path, web_review_endpoints[i].path)) {
            return &web_review_endpoints[i];
        }
    }
    return NULL;
}

static void handle_api(const struct web_site *site, const struct web_request *req,
                       struct web_response *out, char *who, size_t who_len)
{
    const struct web_endpoint *e = find_endpoint(req->path);
    if (!e) {
        web_error(out, 404, "not_found", "no such endpoint");
        return;
    }
    if (strcmp(req->method, e->method) != 0) {
        web_header(out, "Allow", "%s", e->method);
        web_error(out, 405, "method", e->method[0] == 'G' ? "use GET" : "use POST");
        return;
    }
    struct web_call c = {site, req, NULL, NULL, NULL, who, who_len};
    if (e->need == WEB_OPEN) {
        e->run(&c, out);
        return;
    }
    char token[AUTH_TOKEN_LEN], csrf[AUTH_TOKEN_LEN];
    struct store_user user;
    session_cookie(req->cookie, token);
    int rc = token[0] ? store_session_get(site->store, token, &user, csrf) : HUB_E_AUTH;
    if (rc == HUB_E_AUTH) {
        web_error(out, 401, "session", "sign in first (no session, or it has ended)");
        goto done;
    }
    if (rc != 0) {
        web_error(out, 500, "store", hub_strerror(rc));
        goto done;
    }
    webutil_log_safe(who, who_len, user.name);
    if (e->need != WEB_SESSION && !auth_equal(req->csrf, csrf)) {
        web_error(out, 403, "csrf", "the request lacks this session's X-CSRF-Token");
        goto done;
    }
    if (e->need == WEB_ADMIN && strcmp(user.role, "admin") != 0) {
        web_error(out, 403, "role", "only an administrator may do this");
        goto done;
    }
    c.user = &user;
    c.token = token;
    c.csrf = csrf;
    e->run(&c, out);
done:
    sodium_memzero(token, sizeof token);
    sodium_memzero(csrf, sizeof csrf);
}

/* ---- what the endpoints share ---- */

const char *web_arg(const struct web_call *c, const char *name)
{
    return c->req->arg ? c->req->arg(c->req->arg_ctx, name) : NULL;
}

cJSON *web_read_json(const struct web_call *c, struct web_response *out)
{
    const struct web_request *req = c->req;
    if (!webutil_is_json(req->content_type)) {
        web_error(out, 415, "content_type", "send the request as application/json");
        return NULL;
    }
    cJSON *doc = webutil_parse_object(req->body, req->len);
    if (!doc) {
        web_error(out, 400, "bad_request", "expected a JSON object");
        return NULL;
    }
    return doc;
}

void web_log_decision(const struct web_call *c, const char *what, const char *detail)
{
    char message[400];
    snprintf(message, sizeof message, "%s: %s", what, detail);
    (void)store_auth_log(c->site->store, c->user->name, "decision", message, c->req->remote);
}

/* ---- pages ---- */

static const struct web_asset *find_asset(const char *name)
{
    for (size_t i = 0; i < web_assets_count; i++) {
        if (!strcmp(web_assets[i].name, name)) {
            return &web_assets[i];
        }
    }
    return NULL;
}

static void handle_page(const struct web_request *req, struct web_response *out)
{
    static const char assets[] = "/assets/";
    if (strcmp(req->method, "GET") != 0) {
        web_header(out, "Allow", "GET");
        web_error(out, 405, "method", "use GET");
        return;
    }
    const struct web_asset *a = NULL;
    if (!strcmp(req->path, "/")) {
        a = find_asset("app.html"); /* it sends a browser without a session to /login */
        web_header(out, "Cache-Control", "no-store");
    } else if (!strcmp(req->path, "/login")) {
        a = find_asset("login.html");
        web_header(out, "Cache-Control", "no-store");
    } else if (!strncmp(req->path, assets, sizeof assets - 1)) {
        a = find_asset(req->path + sizeof assets - 1);
    }
    if (!a) {
        web_error(out, 404, "not_found", "no such page");
        return;
    }
    web_body(out, 200, a->content_type, a->data, a->len);
}

int web_route(const char *path)
{
    return path && (!strcmp(path, "/") || !strcmp(path, "/login") || !strncmp(path, "/api/", 5) ||
                    !strncmp(path, "/assets/", 8));
}

void web_handle(const struct web_site *site, const struct web_request *request,
                struct web_response *out)
{
    struct web_request req = *request;
    char who[AUTH_NAME_MAX + 1] = "-", method[16], path[128], remote[64];
    memset(out, 0, sizeof *out);
    req.method = req.method ? req.method : "";
    req.path = req.path ? req.path : "";
    int api = !strncmp(req.path, "/api/", 5);
    security_headers(out, api);
    if (req.len > WEB_MAX_BODY) {
        char message[80];
        snprintf(message, sizeof message, "the request is larger than %d bytes", WEB_MAX_BODY);
        web_error(out, 413, "too_big", message);
    } else if (api) {
        handle_api(site, &req, out, who, sizeof who);
    } else {
        handle_page(&req, out);
    }
    webutil_log_safe(method, sizeof method, req.method);
    webutil_log_safe(path, sizeof path, req.path);
    webutil_log_safe(remote, sizeof remote, req.remote ? req.remote : "-");
    snprintf(out->log, sizeof out->log, "web %s %s status=%d user=%s remote=%s", method, path,
             out->status, who, remote);
}
