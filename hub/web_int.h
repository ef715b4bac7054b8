/* SPDX-License-Identifier: MIT */
/*
 * web_int.h - what web.c (the requests, sessions and responses) shares
 * with the files of endpoints (web_review.c): the call an endpoint gets,
 * the ways it answers, and its entry in the table of endpoints. Not for
 * use outside the web pages' files.
 */
#ifndef HAMLET_WEB_INT_H
#define HAMLET_WEB_INT_H

#include "web.h"

#include <cjson/cJSON.h>

/* What an endpoint gets: the site, the request, and the session when it
 * needs one. */
struct web_call {
    const struct web_site *site;
    const struct web_request *req;
    const struct store_user *user; /* NULL for sign-in */
    const char *token;             /* the session's cookie token */
    const char *csrf;              /* the session's CSRF token */
    char *who;                     /* the account's name, for the log line */
    size_t who_len;
};

/* What an endpoint needs before it runs: nothing (sign-in), a session, a
 * session and its CSRF token (every request that changes something), or
 * those and the admin role. */
enum web_need { WEB_OPEN, WEB_SESSION, WEB_CHANGE, WEB_ADMIN };

struct web_endpoint {
    const char *method, *path;
    enum web_need need;
    void (*run)(const struct web_call *c, struct web_response *out);
};

/* The review pages' endpoints (web_review.c). */
extern const struct web_endpoint web_review_endpoints[];
extern const size_t web_review_endpoints_count;

/* web_header(out, name, fmt, ...): set a header of the response (replaced
 * if it is set already). */
void web_header(struct web_response *out, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* web_body(out, status, content_type, data, len): the body, copied; 500
 * without one when memory runs out. */
void web_body(struct web_response *out, int status, const char *content_type, const void *data,
              size_t len);

/* web_json(out, status, obj): obj printed as the body; obj is freed. A
 * NULL obj (memory ran out making it) answers 500. */
void web_json(struct web_response *out, int status, cJSON *obj);

/* web_error(out, status, name, message): {"error": name, "message":
 * message}, the form of every refusal (webutil_error_json()). */
void web_error(struct web_response *out, int status, const char *name, const char *message);

/* web_ok(out): {"ok": true}, 200. */
void web_ok(struct web_response *out);

/* web_arg(c, name): the query argument, or NULL. */
const char *web_arg(const struct web_call *c, const char *name);

/* web_read_json(c, out): the request's body parsed as a JSON object, or
 * NULL with the refusal made in out (415 not JSON, 400 not an object).
 * Free with cJSON_Delete(). */
cJSON *web_read_json(const struct web_call *c, struct web_response *out);

/* web_log_decision(c, what, detail): record a decision of the signed-in
 * account in the auth log, as kind "decision" with the message
 * "WHAT: DETAIL" (what: "deadline", "conflict", ...). The decision stands
 * whether or not the log could be written. */
void web_log_decision(const struct web_call *c, const char *what, const char *detail);

#endif
