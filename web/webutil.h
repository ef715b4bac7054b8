/* SPDX-License-Identifier: MIT */
/*
 * webutil.h - what the HTTP layers of both browser UIs share.
 *
 * The township's review pages (hub/web.c) and the village's pages
 * (agent/ui.c) read requests from a browser the same way: the cookie that
 * carries the session, whether a body is JSON, the body as a JSON object
 * and its string members, the language asked for; they refuse in one JSON
 * form and write request text into their logs made safe. The two differ
 * in their sessions and their transports, which stay with each; this
 * module has no state and does no I/O.
 */
#ifndef HAMLET_WEBUTIL_H
#define HAMLET_WEBUTIL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define WEBUTIL_JSON_TYPE "application/json"

/* webutil_cookie(header, name, len): the value of the first cookie called
 * name in a Cookie header ("a=1; NAME=VALUE; b=2"), its length in *len: it
 * ends at ';', a space or a tab. NULL (and *len 0) when header is NULL or
 * holds no such cookie. The value points into header. To look past a
 * value, call again from the ';' after it. */
const char *webutil_cookie(const char *header, const char *name, size_t *len);

/* webutil_is_json(content_type): 1 if a Content-Type header says JSON
 * ("application/json", with parameters or not, in any case), else 0 (also
 * for NULL). */
int webutil_is_json(const char *content_type);

/* webutil_log_safe(out, out_len, text): text as it may go into one log
 * line: control characters become '?', and it is cut to fit out (out_len
 * at least 1). A NULL text is "". */
void webutil_log_safe(char *out, size_t out_len, const char *text);

/* webutil_parse_object(body, len): the len bytes of body (NULL: none)
 * parsed as JSON, when they are an object; else NULL. Free with
 * cJSON_Delete(). */
cJSON *webutil_parse_object(const uint8_t *body, size_t len);

/* webutil_member_text(doc, name, max, bad): the string member name of the
 * object doc, NULL when absent or null. When it is present but not a
 * string, or longer than max bytes, NULL with *bad set to 1 (*bad is left
 * alone otherwise, so that one flag gathers several members). Borrowed
 * from doc. */
const char *webutil_member_text(const cJSON *doc, const char *name, size_t max, int *bad);

/* webutil_lang(given): the language of an answer's words: "en" when given
 * is "en", else "zh" (the default, also for NULL). Static. */
const char *webutil_lang(const char *given);

/* webutil_error_json(name, message): {"error": name, "message": message},
 * the form of every refusal of both UIs; NULL when memory runs out. Free
 * with cJSON_Delete(). */
cJSON *webutil_error_json(const char *name, const char *message);

#endif
