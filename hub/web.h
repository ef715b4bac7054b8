/* SPDX-License-Identifier: MIT */
/*
 * web.h - the township's review pages, without the HTTP.
 *
 * Like api.h for the villages' devices, web_handle() takes what a request
 * from a browser carried (method, path, the Cookie, X-CSRF-Token and
 * Content-Type headers, the body, the client's address) and fills a
 * response (status, headers, body, one log line); server.c moves the
 * bytes. The rules of the pages live here, in one place:
 *   GET  /               the review pages (web/app.html: one page, its views
 *                        chosen by the address's #fragment)
 *   GET  /login          the sign-in page (web/login.html)
 *   GET  /assets/NAME    a file of web/, embedded at build
 *   POST /api/login      JSON {"name","password"}: a session cookie and
 *                        {"user","role","csrf"}; 401 auth, 403 disabled,
 *                        429 locked (with Retry-After)
 *   POST /api/logout     ends the session
 *   GET  /api/me         {"user","role","csrf"} of the session
 *   GET  /api/villages   {"villages":[{"code","name","devices","cases"}]}
 *   GET  /api/vocabulary the ledger's words in zh and en: kinds, channels,
 *                        statuses, levels, categories (the township's),
 *                        opinions, event_kinds, each [{"name","zh","en"}],
 *                        and status_aliases {"closed": "concluded"}
 *   GET  /api/cases      the ledger, filtered, sorted and paged (view.h
 *                        view_cases): ?village, category, kind, status,
 *                        class, level, overdue=1, conflict=1, q (search),
 *                        sort, dir=asc|desc, page, per
 *   GET  /api/case?id=   one case: facts, parties (numbers masked), events,
 *                        agreements, conflicts, change history (view_case)
 *   POST /api/case/reveal      {"id"}: the case with its numbers in full;
 *                              recorded as a reveal event of the case
 *   POST /api/case/deadline    {"id","date" (YYYY-MM-DD|null),"note"}
 *   POST /api/case/level       {"id","level" (1-7)}
 *   POST /api/case/correction  {"id","comment" (null: clear)}
 *   POST /api/case/mediator    {"id","name","mediator_id" (optional)}
 *                        each answers the case as GET /api/case does, or
 *                        422 {"error":"refused"} with the rules' reason; the
 *                        change reaches the village at its next sync
 *   GET  /api/conflicts  ?village, all=1: view_conflicts()
 *   POST /api/conflicts/resolve {"id","choice" (standing|incoming|value),
 *                        "value"}: 409 when decided already
 *   GET  /api/list       ?which=overdue|due|followups|corrections, village,
 *                        days: casefile.h's JSON list
 *   GET  /api/report     ?month=YYYY-MM|year=YYYY, village: report.h's JSON
 *   GET  /api/report.csv the same as CSV, as a download
 *   GET  /api/devices    ?village: every device with its last sync, data
 *                        used, clock offset, last result and pending errors
 *                        ("errors" logged since its last good sync,
 *                        "refused" changes)
 *   POST /api/devices/add     {"village","label"} (admin): {"id","code",
 *                        "qr_svg","valid_days"}; 409 without the hub's URL
 *   POST /api/devices/revoke  {"id"} (admin)
 * Every /api/ endpoint but login needs the session cookie (401
 * {"error":"session"} without a live one); every request that changes
 * something needs the session's CSRF token in X-CSRF-Token as well (403
 * {"error":"csrf"}), and managing devices needs the admin role (403
 * {"error":"role"}). Every decision is recorded in the auth log. The cookie is HttpOnly, Secure and
 * SameSite=Strict. Errors are JSON {"error": NAME, "message": SENTENCE}. Every response carries the
 * security headers (no sniffing, no framing, no referrer, a Content-Security-Policy of 'self' only,
 * HSTS), and the API's are never cached.
 */
#ifndef HAMLET_WEB_H
#define HAMLET_WEB_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define WEB_MAX_BODY       8192 /* bytes of a request body (413 above) */
#define WEB_MAX_HEADERS    12   /* headers of one response */
#define WEB_COOKIE         "hamlet_session"
#define WEB_SESSION_TTL_MS STORE_SESSION_MAX_MS /* and the cookie's Max-Age */

/* What a browser's request carried. Any pointer may be NULL. */
struct web_request {
    const char *method;       /* "GET", "POST" */
    const char *path;         /* without the query: "/api/me" */
    const char *cookie;       /* the Cookie header */
    const char *csrf;         /* the X-CSRF-Token header */
    const char *content_type; /* the Content-Type header */
    const uint8_t *body;
    size_t len;
    const char *remote; /* the client's address, for the auth log */
    /* The query's arguments, decoded: arg(arg_ctx, "page") is the value
     * of ?page=..., or NULL. arg may be NULL (no query). */
    const char *(*arg)(void *arg_ctx, const char *name);
    void *arg_ctx;
};

/* What the pages work on: the hub's store and configuration. */
struct web_site {
    struct store *store;
    const struct rules_config *rules; /* NULL: the defaults */
    const char *public_url;           /* for enrolment codes; NULL: no adding devices */
    const char *cert_path;            /* the certificate the devices pin */
    unsigned enrol_valid_days;
};

struct web_header {
    const char *name; /* static */
    char value[256];
};

struct web_response {
    int status;
    uint8_t *body; /* malloc'd; web_response_clear() frees it */
    size_t len;
    struct web_header headers[WEB_MAX_HEADERS]; /* Content-Type among them */
    size_t nheaders;
    char log[400]; /* one line for the server's log; never a secret */
};

/* A file of web/, embedded by the build (web/embed.sh). */
struct web_asset {
    const char *name;         /* "login.html" */
    const char *content_type; /* "text/html; charset=utf-8" */
    const unsigned char *data;
    size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

/* web_route(path): 1 if path belongs to the review pages ("/", "/login",
 * "/api/...", "/assets/..."), else 0. server.c sends those here. */
int web_route(const char *path);

/* web_handle(site, request, out): answer one request of the review pages,
 * as the header comment describes. Sign-ins, refusals, sign-outs and every
 * decision are recorded in the store's auth log. Always fills out (500 when
 * the store fails); free it with web_response_clear(). */
void web_handle(const struct web_site *site, const struct web_request *request,
                struct web_response *out);

/* web_response_header(response, name): the value of a header of the
 * response, or NULL. */
const char *web_response_header(const struct web_response *response, const char *name);

/* web_response_clear(response): free the body and zero the rest. */
void web_response_clear(struct web_response *response);

#endif
