/* SPDX-License-Identifier: MIT */
/*
 * ui_int.h - what ui.c (the server, its checks and the background sync)
 * shares with ui_api.c (the endpoints of the village's pages): the call an
 * endpoint gets, the ways it answers, and its entry in the table of
 * endpoints; and with ui_launch.c, the files through which the running
 * server is found and opened. Not for use outside the UI's files.
 */
#ifndef HAMLET_UI_INT_H
#define HAMLET_UI_INT_H

#include "ui.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <sys/types.h>

struct ui_site; /* the server's state: fields in ui.c */

/* One request, once the server's checks have passed. */
struct ui_request {
    const char *method, *path;
    const char *content_type; /* may be NULL */
    const uint8_t *body;      /* len bytes; NULL when there is none */
    size_t len;
    const char *(*arg)(void *ctx, const char *name); /* a query argument, or NULL */
    void *arg_ctx;
};

/* What an endpoint answers. body is malloc'd (ui_response_clear() frees
 * it). csp, when set, replaces the pages' Content-Security-Policy (the
 * printed agreement's inline style); frame_self allows the page to be
 * framed by the village's own pages (to print it). */
struct ui_response {
    int status;
    char *body;
    size_t len;
    const char *content_type; /* static */
    const char *csp;          /* static, or NULL */
    int frame_self;
};

/* What an endpoint gets: the laptop's ledger (used by the server's thread
 * only), the site for the background sync, and the request. */
struct ui_call {
    struct local *local;
    struct ui_site *site;
    const struct ui_request *req;
    int variant; /* the endpoint's variant */
};

/* An endpoint: run answers method on path. variant, passed on in the
 * call, lets one run serve several paths (the steps of the work on a
 * case); 0 where it serves one. */
struct ui_endpoint {
    const char *method, *path;
    void (*run)(const struct ui_call *c, struct ui_response *out);
    int variant;
};

/* The pages' endpoints (ui_api.c). A POST is a change: it needs the CSRF
 * token and a JSON body; the server checks both before it runs. */
extern const struct ui_endpoint ui_api_endpoints[];
extern const size_t ui_api_endpoints_count;

/* ui_body(out, status, content_type, data, len): the body, copied; 500
 * without one when memory runs out. content_type is static. */
void ui_body(struct ui_response *out, int status, const char *content_type, const void *data,
             size_t len);

/* ui_json(out, status, obj): obj printed as the body; obj is freed. A NULL
 * obj (memory ran out making it) answers 500. */
void ui_json(struct ui_response *out, int status, cJSON *obj);

/* ui_error(out, status, name, message): {"error": name, "message":
 * message}, the form of every refusal. */
void ui_error(struct ui_response *out, int status, const char *name, const char *message);

/* ui_arg(c, name): the query argument, or NULL. */
const char *ui_arg(const struct ui_call *c, const char *name);

/* ui_read_json(c, out): the request's body parsed as a JSON object, or
 * NULL with the refusal made in out (400). Free with cJSON_Delete(). */
cJSON *ui_read_json(const struct ui_call *c, struct ui_response *out);

/* ui_csrf(site): the session's CSRF token, for GET /api/session. */
const char *ui_csrf(const struct ui_site *site);

/* ui_ticket_issue(site, agreement, html, len, ticket): keep html (len
 * bytes, malloc'd: the agreement's paper form with the numbers in full,
 * whose reveal is recorded already) for one GET /print/agreement of
 * agreement, and write the ticket that fetches it (UI_TICKET_HEX random hex
 * characters). It stays good UI_TICKET_S seconds; past UI_MAX_TICKETS
 * outstanding, the oldest is dropped. Takes html in every case (wiped and
 * freed on failure). Returns 0, or -1 when agreement is too long. Server's
 * thread only. */
int ui_ticket_issue(struct ui_site *site, const char *agreement, char *html, size_t len,
                    char ticket[UI_TICKET_HEX + 1]);

/* ui_ticket_take(site, ticket, agreement, html, len): the paper form kept
 * for ticket, when ticket is live and of agreement, in *html (malloc'd, the
 * caller wipes and frees it) and *len. A ticket given is used up whether or
 * not it was of agreement. Returns 0, or -1 (unknown, used, expired or of
 * another agreement). Server's thread only. */
int ui_ticket_take(struct ui_site *site, const char *ticket, const char *agreement, char **html,
                   size_t *len);

/* ui_sync_start(site): start a sync with the hub in the background, on a
 * connection of its own to the ledger file. Returns 0, 1 when one is
 * running already, or -1 when the thread cannot start. */
int ui_sync_start(struct ui_site *site);

/* ui_sync_state(site, obj): add to obj what the pages show of the
 * background sync: "running", and of the last one this server started
 * "last_run" {ok, sent, received, bytes_up, bytes_down, conflicts,
 * refused, error, clock_off, revoked} or null. Returns 0 or -1 (memory). */
int ui_sync_state(struct ui_site *site, cJSON *obj);

/* ---- the launcher's files (ui_launch.c) ---- */

#define UI_LAUNCH_PATH_MAX 512

/* Where a running server leaves its first address for the launcher. */
struct ui_launch {
    char dir[UI_LAUNCH_PATH_MAX - 16]; /* $XDG_RUNTIME_DIR/hamlet, else ~/.cache/hamlet */
    char url[UI_LAUNCH_PATH_MAX];      /* DIR/ui.url: the first address and a newline */
    char page[UI_LAUNCH_PATH_MAX];     /* DIR/ui.html: a page that redirects to it */
};

/* ui_launch_paths(where, why, why_len): the paths, from the environment.
 * Returns 0, or -1 with why (neither XDG_RUNTIME_DIR nor HOME is set, or
 * the path is too long). */
int ui_launch_paths(struct ui_launch *where, char *why, size_t why_len);

/* ui_launch_publish(where, first_url, why, why_len): make the folder (0700,
 * and refuse one that is not the user's own), then write the page and
 * ui.url, each 0600 and whole (written aside, then renamed). Returns 0, or
 * -1 with why. */
int ui_launch_publish(const struct ui_launch *where, const char *first_url, char *why,
                      size_t why_len);

/* ui_launch_withdraw(where, first_url): remove ui.url and the page if they
 * still hold first_url (a later run may have replaced them). */
void ui_launch_withdraw(const struct ui_launch *where, const char *first_url);

/* ui_launch_browser(path): xdg-open path, its output to /dev/null. Returns
 * the child (the caller reaps it), or 0 when there is no xdg-open. */
pid_t ui_launch_browser(const char *path);

/* ui_launch_proof(token, nonce, out): what a server that knows token
 * answers to GET /running?nonce=NONCE: hex HMAC-SHA-256 of nonce, keyed
 * with the token. */
void ui_launch_proof(const char *token, const char *nonce, char out[UI_TOKEN_HEX + 1]);

#endif
