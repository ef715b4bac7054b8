/* SPDX-License-Identifier: MIT */
/*
 * ui.h - hamlet ui: the village's pages in the laptop's own browser.
 *
 * A small HTTP server (libmicrohttpd) on 127.0.0.1 only, plain HTTP on
 * loopback, that serves the pages of web/village/ (embedded at build time)
 * and their JSON endpoints, which call the same modules as the command
 * line (casework.h, workflow.h, casefile.h, sync_client.h). Only the person
 * at the laptop may use it: the server makes a secret token at start and
 * prints (and opens) a first address carrying it; that visit sets an
 * HttpOnly, SameSite=Strict cookie, which every later request must bring.
 * Requests whose Host is not 127.0.0.1:PORT or localhost:PORT (DNS
 * rebinding), whose Origin is not the page's own, or that come from another
 * site are refused; every change needs the session's CSRF token
 * (X-CSRF-Token) and a JSON body. Each request writes one line to the log.
 *
 * The first address is also left where only the user can read it (ui.url,
 * with a page beside it, ui.html, that redirects to it), so that a server
 * started by systemd can be found: `hamlet ui --open` opens the running
 * one's pages, or starts one. The browser is handed the page's path, never
 * the address, so the token is in no process's arguments (ui_launch.c).
 */
#ifndef HAMLET_UI_H
#define HAMLET_UI_H

#include "local.h"

#include <stddef.h>
#include <stdio.h>

/* The limits of the server; a request past one is refused with a clear
 * message (413, 431 or 503). */
#define UI_MAX_BODY        (256u << 10) /* bytes of a request's body */
#define UI_MAX_CONNECTIONS 32           /* open at once */
#define UI_IDLE_TIMEOUT_S  120          /* an idle connection is closed after */
#define UI_MAX_PARTIES     20           /* parties recorded with one new case */
#define UI_MAX_LIST        500          /* cases in one answer of the case list */
#define UI_MAX_QUERY       200          /* bytes of a search */
#define UI_TOKEN_HEX       64           /* hex characters of the token, cookie and CSRF token */
#define UI_TICKET_HEX      32           /* hex characters of a ticket to print in full */
#define UI_MAX_TICKETS     8  /* tickets outstanding at once; a new one drops the oldest */
#define UI_TICKET_S        60 /* seconds a ticket to print in full stays good */

/* A file of web/village/, embedded by the build (web/embed.sh). */
struct ui_asset {
    const char *name;         /* "village.js" */
    const char *content_type; /* "text/javascript; charset=utf-8" */
    const unsigned char *data;
    size_t len;
};

extern const struct ui_asset ui_assets[];
extern const size_t ui_assets_count;

enum ui_error {
    UI_E_ARG = -701,    /* a bad option */
    UI_E_LISTEN = -702, /* the port cannot be listened on */
    UI_E_RANDOM = -703, /* no random bytes for the token */
    UI_E_NOMEM = -704,
    UI_E_NOT_RUNNING = -705, /* no live server answers at the address in ui.url */
};

struct ui_opts {
    unsigned port;    /* 0: a free port chosen by the system */
    int open_browser; /* 1: open the pages with xdg-open (through ui.html) when there is one */
    FILE *out;        /* the first address, for the person (stdout) */
    FILE *log;        /* one line per request (stderr) */
};

/* ui_serve(local, opts): serve the village's pages for the ledger local
 * (open, created if need be: enrolment may come through the pages) until
 * SIGINT or SIGTERM. local's file path is opened a second time by the
 * background sync that the pages start. Returns 0 after a clean stop, or a
 * UI_E_* code with the reason written to opts->log. */
int ui_serve(struct local *local, const struct ui_opts *opts);

/* ui_open_running(out, log): when a `hamlet ui` of this user answers at
 * the address in its ui.url ($XDG_RUNTIME_DIR/hamlet/ui.url, else
 * ~/.cache/hamlet/ui.url), ask the browser to open its pages (through
 * ui.html, with xdg-open) and say so on out. The server must prove that it
 * knows the address's token without being sent it, so a file left by a
 * killed run, or another program now on its port, is not taken for it.
 * Returns 0, or UI_E_NOT_RUNNING (no file, a stale one, no answer): the
 * caller then starts a server itself. */
int ui_open_running(FILE *out, FILE *log);

/* ui_strerror(code): words for a UI_E_* code. Static. */
const char *ui_strerror(int code);

#endif
