/* SPDX-License-Identifier: MIT */
/*
 * test_ui.c - `hamlet ui`, the village's pages, as a browser and as an
 * attacker meet them: the real program on loopback (plain HTTP, as it
 * serves), its first address read from its stdout. Each test gets a laptop
 * of its own and checks what the person at the laptop, or someone trying to
 * reach the ledger from elsewhere, would notice: the first address opens a
 * session (an HttpOnly, SameSite=Strict cookie) and leaves the token out of
 * the address bar; nothing is served without that cookie; a foreign Host
 * (DNS rebinding), a foreign Origin or a request from another site is
 * refused; a change without the CSRF token or without JSON is refused; the
 * limits; a case recorded through the pages is in the ledger, with its
 * parties' numbers masked; a party's details corrected through the pages
 * (refused without the token or with bad input, writing nothing then;
 * journaling only the fields that changed); a supplementary agreement
 * made through the pages (only of a signed agreement of the same case) and
 * its paper form; the paper form with the numbers in full through a
 * one-time ticket (CSRF-checked, of this village, the reveal recorded once,
 * refused when used, of another agreement, expired under libfaketime, or
 * dropped past 8 outstanding); SIGTERM stops it cleanly; one log line per
 * request, never with the token. And the launcher: the first address is
 * left in ui.url (0600, in a 0700 folder of $XDG_RUNTIME_DIR) beside a page
 * that redirects to it, both gone after SIGTERM; `hamlet ui --open` opens a
 * live server's page at once, with a fake xdg-open on the PATH recording
 * that the token is not in its arguments, and starts a server of its own
 * when the file is stale (SIGKILL) or names a server that does not know
 * its token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agentproc.h"
#include "delta.h"
#include "ledger_schema.h"
#include "replica.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 8192
#define TOKEN_HEX   64

struct fixture {
    char dir[256];
    struct agentproc *laptop;
    pid_t ui;
    char log[300];
    unsigned port;
    char first_url[200]; /* http://127.0.0.1:PORT/?token=... */
    char base[64];       /* http://127.0.0.1:PORT */
    char host[40];       /* 127.0.0.1:PORT */
    char cookie[160];    /* hamlet_ui_PORT=... */
    char csrf[TOKEN_HEX + 1];
    char run[300];       /* XDG_RUNTIME_DIR of the programs */
    char url_file[340];  /* RUN/hamlet/ui.url */
    char page_file[340]; /* RUN/hamlet/ui.html */
    char opened[300];    /* what the fake xdg-open was given, one argument a line */
};

static char original_path[4096]; /* PATH when the tests started */
static const char *ui_clock_lib; /* set: the next ui_start runs under libfaketime */
static char ui_clock_file[400];  /* ... reading its offset from this file each time */

/* ---- the program ---- */

/* Start `hamlet --db DB ui --port 0 MODE` (--no-browser or --open), its
 * stderr to f->log, and read its first address from stdout (at most 30 s).
 * 0 or -1. */
static int ui_start(struct fixture *f, const char *mode)
{
    int fds[2];
    if (pipe(fds) != 0) {
        return -1;
    }
    snprintf(f->log, sizeof f->log, "%s/ui.log", f->dir);
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int log = open(f->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (log < 0 || dup2(fds[1], STDOUT_FILENO) < 0 || dup2(log, STDERR_FILENO) < 0) {
            _exit(127);
        }
        close(fds[0]);
        close(fds[1]);
        if (ui_clock_lib) {
            /* Only the calendar moves, when the test writes the file. */
            setenv("LD_PRELOAD", ui_clock_lib, 1);
            setenv("FAKETIME_TIMESTAMP_FILE", ui_clock_file, 1);
            setenv("FAKETIME_NO_CACHE", "1", 1);
            setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1", 1);
            const char *asan = getenv("ASAN_OPTIONS");
            char options[512];
            snprintf(options, sizeof options, "%s%sverify_asan_link_order=0", asan ? asan : "",
                     asan && asan[0] ? ":" : "");
            setenv("ASAN_OPTIONS", options, 1);
        }
        execl(f->laptop->bin, f->laptop->bin, "--db", f->laptop->db, "ui", "--port", "0", mode,
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f->ui = pid;
    char out[1024];
    size_t len = 0;
    time_t deadline = time(NULL) + 30;
    const char *url = NULL;
    while (!url && time(NULL) < deadline && len + 1 < sizeof out) {
        ssize_t n = read(fds[0], out + len, sizeof out - 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        out[len] = '\0';
        url = strstr(out, "http://127.0.0.1:");
        if (url && !strchr(url, '\n')) {
            url = NULL; /* the line is not whole yet */
        }
    }
    close(fds[0]); /* the program writes nothing more to stdout */
    if (!url) {
        return -1;
    }
    snprintf(f->first_url, sizeof f->first_url, "%.*s", (int)strcspn(url, " \n"), url);
    f->port = (unsigned)strtoul(url + strlen("http://127.0.0.1:"), NULL, 10);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", f->port);
    snprintf(f->host, sizeof f->host, "127.0.0.1:%u", f->port);
    return f->port ? 0 : -1;
}

/* SIGTERM, then wait (at most 20 s); the exit status, or -1. */
static int ui_stop(struct fixture *f)
{
    if (f->ui <= 0) {
        return -1;
    }
    kill(f->ui, SIGTERM);
    for (int i = 0; i < 200; i++) {
        int status;
        pid_t done = waitpid(f->ui, &status, WNOHANG);
        if (done == f->ui) {
            f->ui = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        struct timespec pause = {0, 100000000L};
        nanosleep(&pause, NULL);
    }
    kill(f->ui, SIGKILL);
    waitpid(f->ui, NULL, 0);
    f->ui = 0;
    return -1;
}

static char *read_file(const char *path)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        return NULL;
    }
    char *text = calloc(1, 1 << 20);
    if (text) {
        size_t n = fread(text, 1, (1 << 20) - 1, in);
        text[n] = '\0';
    }
    fclose(in);
    return text;
}

/* ---- HTTP as a browser (or someone else) speaks it ---- */

struct reply {
    long status;
    char *body;
    size_t len;
    char headers[MAX_HEADERS];
    size_t hlen;
};

static void reply_clear(struct reply *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    struct reply *r = ctx;
    size_t len = size * n;
    if (r->hlen + len < sizeof r->headers) {
        memcpy(r->headers + r->hlen, data, len);
        r->hlen += len;
        r->headers[r->hlen] = '\0';
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct reply *r = ctx;
    size_t len = size * n;
    char *grown = realloc(r->body, r->len + len + 1);
    if (!grown) {
        return 0;
    }
    memcpy(grown + r->len, data, len);
    r->body = grown;
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

/* The value of a response header ("" when absent). */
static const char *header(const struct reply *r, const char *name, char *out, size_t out_len)
{
    size_t name_len = strlen(name);
    out[0] = '\0';
    for (const char *line = r->headers; *line;) {
        size_t line_len = strcspn(line, "\r\n");
        if (line_len > name_len && !strncasecmp(line, name, name_len) && line[name_len] == ':') {
            const char *v = line + name_len + 1;
            v += strspn(v, " ");
            snprintf(out, out_len, "%.*s", (int)(line_len - (size_t)(v - line)), v);
            return out;
        }
        line += line_len;
        line += strspn(line, "\r\n");
    }
    return out;
}

/* One request to path (or to a whole URL, when it starts with http).
 * extra: NULL-terminated header lines ("Host: evil.example:80", "Origin:
 * ..."); "Host:" alone removes the header. The session's cookie and CSRF
 * token are sent when with_cookie / with_csrf are set. */
static long request(struct fixture *f, const char *method, const char *path, int with_cookie,
                    int with_csrf, const char *type, const char *body, const char *const *extra,
                    struct reply *out)
{
    memset(out, 0, sizeof *out);
    CURL *easy = curl_easy_init();
    assert_non_null(easy);
    char url[512], line[256];
    if (!strncmp(path, "http", 4)) {
        snprintf(url, sizeof url, "%s", path);
    } else {
        snprintf(url, sizeof url, "%s%s", f->base, path);
    }
    struct curl_slist *headers = NULL;
    if (with_cookie) {
        snprintf(line, sizeof line, "Cookie: theme=dark; %s; lang=zh", f->cookie);
        headers = curl_slist_append(headers, line);
    }
    if (with_csrf) {
        snprintf(line, sizeof line, "X-CSRF-Token: %s", f->csrf);
        headers = curl_slist_append(headers, line);
    }
    if (type) {
        snprintf(line, sizeof line, "Content-Type: %s", type);
        headers = curl_slist_append(headers, line);
    } else if (body) {
        headers = curl_slist_append(headers, "Content-Type:");
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        headers = curl_slist_append(headers, extra[i]);
    }
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
    CURLcode rc = curl_easy_perform(easy);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out->status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
    if (rc != CURLE_OK) {
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    }
    return out->status;
}

static long get(struct fixture *f, const char *path, int with_cookie, struct reply *out)
{
    return request(f, "GET", path, with_cookie, 0, NULL, NULL, NULL, out);
}

/* The "error" of a refusal is name, with status. */
static void assert_error(const struct reply *r, long status, const char *name)
{
    char want[80];
    snprintf(want, sizeof want, "\"error\":\"%s\"", name);
    if (r->status != status || !r->body || !strstr(r->body, want)) {
        fail_msg("expected %ld %s, got %ld %s", status, name, r->status,
                 r->body ? r->body : "(no body)");
    }
}

static void assert_security_headers(const struct reply *r)
{
    char v[300];
    assert_string_equal(header(r, "X-Content-Type-Options", v, sizeof v), "nosniff");
    assert_non_null(strstr(header(r, "Content-Security-Policy", v, sizeof v), "default-src"));
    assert_string_equal(header(r, "Referrer-Policy", v, sizeof v), "no-referrer");
    assert_string_not_equal(header(r, "X-Frame-Options", v, sizeof v), "");
}

/* Open the session as the browser does: the first address, then the
 * CSRF token from /api/session. */
static void open_session(struct fixture *f)
{
    struct reply r;
    get(f, f->first_url, 0, &r);
    assert_int_equal(r.status, 200);
    char v[300];
    /* A refresh, not a redirect, sends the browser on to "/" (ui.c says
     * why); the token goes nowhere else. */
    assert_string_equal(header(&r, "Location", v, sizeof v), "");
    assert_non_null(strstr(r.body, "<meta http-equiv=\"refresh\" content=\"0;url=/\">"));
    assert_null(strstr(r.body, "token"));
    assert_string_equal(header(&r, "Cache-Control", v, sizeof v), "no-store");
    assert_string_equal(header(&r, "Referrer-Policy", v, sizeof v), "no-referrer");
    header(&r, "Set-Cookie", v, sizeof v);
    char name[40];
    snprintf(name, sizeof name, "hamlet_ui_%u=", f->port);
    assert_true(!strncmp(v, name, strlen(name)));
    assert_non_null(strstr(v, "HttpOnly"));
    assert_non_null(strstr(v, "SameSite=Strict"));
    assert_null(strstr(v, "Domain="));
    snprintf(f->cookie, sizeof f->cookie, "%.*s", (int)strcspn(v, ";"), v);
    /* The cookie is not the token of the address. */
    assert_null(strstr(f->first_url, f->cookie + strlen(name)));
    assert_security_headers(&r);
    reply_clear(&r);

    get(f, "/api/session", 1, &r);
    assert_int_equal(r.status, 200);
    const char *csrf = strstr(r.body, "\"csrf\":\"");
    assert_non_null(csrf);
    snprintf(f->csrf, sizeof f->csrf, "%.*s", TOKEN_HEX, csrf + 8);
    assert_int_equal(strlen(f->csrf), TOKEN_HEX);
    assert_non_null(strstr(r.body, "\"village\":\"baisha\""));
    reply_clear(&r);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/hamlet-ui-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(f->dir) || agentproc_new(f->dir, "v1", &f->laptop) != 0) {
        free(f);
        return -1;
    }
    /* The programs' session folder, and a fake xdg-open first on the PATH
     * that writes down its arguments. */
    char bin[300], path[sizeof bin + sizeof original_path + 1];
    snprintf(f->run, sizeof f->run, "%s/run", f->dir);
    snprintf(f->url_file, sizeof f->url_file, "%s/hamlet/ui.url", f->run);
    snprintf(f->page_file, sizeof f->page_file, "%s/hamlet/ui.html", f->run);
    snprintf(f->opened, sizeof f->opened, "%s/xdg-open.args", f->dir);
    snprintf(bin, sizeof bin, "%s/bin", f->dir);
    snprintf(path, sizeof path, "%s:%s", bin, original_path);
    char fake[sizeof bin + 16];
    snprintf(fake, sizeof fake, "%s/xdg-open", bin);
    FILE *script = NULL;
    if (mkdir(f->run, 0700) != 0 || mkdir(bin, 0700) != 0 || !(script = fopen(fake, "w"))) {
        agentproc_free(f->laptop);
        free(f);
        return -1;
    }
    fprintf(script, "#!/bin/sh\nprintf '%%s\\n' \"$@\" >> '%s'\n", f->opened);
    fclose(script);
    chmod(fake, 0700);
    setenv("XDG_RUNTIME_DIR", f->run, 1);
    setenv("PATH", path, 1);

    struct agentproc_result r;
    const char *init[] = {"init", "--village", "baisha", "--name", "白沙村", NULL};
    int status = agentproc_run(f->laptop, init, &r);
    agentproc_result_clear(&r);
    if (status != 0 || ui_start(f, "--no-browser") != 0) {
        fprintf(stderr, "  hamlet ui would not start\n");
        ui_stop(f);
        agentproc_free(f->laptop);
        free(f);
        return -1;
    }
    printf("  ui: %s in %s\n", f->base, f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int status = f->ui > 0 ? ui_stop(f) : 0; /* a test may have stopped it */
    if (status != 0) {
        fprintf(stderr, "  hamlet ui did not stop cleanly on SIGTERM (status %d)\n", status);
    }
    agentproc_free(f->laptop);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (!getenv("HAMLET_KEEP_TMP") && system(cmd) != 0) {
        fprintf(stderr, "  could not remove %s\n", f->dir);
    }
    free(f);
    return status == 0 ? 0 : -1;
}

/* ---- tests ---- */

static void test_first_address(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    assert_non_null(strstr(f->first_url, "/?token="));
    assert_int_equal(strlen(strstr(f->first_url, "token=") + 6), TOKEN_HEX);

    /* Without the cookie: the pages' files are not served either. */
    get(f, "/", 0, &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body, "hamlet ui"));
    assert_null(strstr(r.body, "village.js"));
    reply_clear(&r);
    get(f, "/assets/village.js", 0, &r);
    assert_int_equal(r.status, 401);
    reply_clear(&r);
    get(f, "/api/today", 0, &r);
    assert_error(&r, 401, "session");
    reply_clear(&r);

    /* A wrong token, or one a character short, opens nothing. */
    char wrong[200];
    snprintf(wrong, sizeof wrong, "%s", f->first_url);
    char *t = strstr(wrong, "token=") + 6;
    t[0] = t[0] == 'a' ? 'b' : 'a';
    get(f, wrong, 0, &r);
    assert_int_equal(r.status, 401);
    char v[300];
    assert_string_equal(header(&r, "Set-Cookie", v, sizeof v), "");
    reply_clear(&r);
    snprintf(wrong, sizeof wrong, "%.*s", (int)strlen(f->first_url) - 1, f->first_url);
    get(f, wrong, 0, &r);
    assert_int_equal(r.status, 401);
    reply_clear(&r);

    open_session(f);
    /* The first address again, with the session: straight to "/". */
    get(f, f->first_url, 1, &r);
    assert_int_equal(r.status, 303);
    assert_string_equal(header(&r, "Location", v, sizeof v), "/");
    reply_clear(&r);
    get(f, "/", 1, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "/assets/village.js"));
    assert_security_headers(&r);
    assert_string_equal(header(&r, "X-Frame-Options", v, sizeof v), "DENY");
    assert_null(strstr(header(&r, "Content-Security-Policy", v, sizeof v), "unsafe-inline"));
    reply_clear(&r);
    get(f, "/assets/village.js", 1, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(header(&r, "Content-Type", v, sizeof v), "javascript"));
    reply_clear(&r);

    /* A forged cookie of the right form is refused. */
    char real[160];
    snprintf(real, sizeof real, "%s", f->cookie);
    char *value = strchr(f->cookie, '=') + 1;
    value[0] = value[0] == '0' ? '1' : '0';
    get(f, "/api/today", 1, &r);
    assert_error(&r, 401, "session");
    reply_clear(&r);
    snprintf(f->cookie, sizeof f->cookie, "%s", real);

    /* The token is never in the log; one line per request. */
    char *log = read_file(f->log);
    assert_non_null(log);
    assert_null(strstr(log, strstr(f->first_url, "token=") + 6));
    assert_non_null(strstr(log, "hamlet ui: GET /api/today 401"));
    assert_non_null(strstr(log, "hamlet ui: GET / 200"));
    free(log);
}

static void test_host_and_origin(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    open_session(f);
    char host[80], origin[100];

    /* DNS rebinding: the browser sends the attacker's name as Host. */
    snprintf(host, sizeof host, "Host: attacker.example:%u", f->port);
    const char *rebind[] = {host, NULL};
    request(f, "GET", "/api/today", 1, 0, NULL, NULL, rebind, &r);
    assert_error(&r, 403, "host");
    assert_security_headers(&r);
    reply_clear(&r);
    request(f, "GET", f->first_url, 0, 0, NULL, NULL, rebind, &r);
    assert_error(&r, 403, "host");
    reply_clear(&r);
    /* The right name on another port, and no Host at all. */
    snprintf(host, sizeof host, "Host: 127.0.0.1:%u", f->port + 1);
    request(f, "GET", "/api/today", 1, 0, NULL, NULL, rebind, &r);
    assert_error(&r, 403, "host");
    reply_clear(&r);
    const char *none[] = {"Host:", NULL};
    request(f, "GET", "/api/today", 1, 0, NULL, NULL, none, &r);
    assert_true(r.status == 400 || r.status == 403);
    reply_clear(&r);
    /* localhost is the same laptop. */
    snprintf(host, sizeof host, "Host: localhost:%u", f->port);
    request(f, "GET", "/api/today", 1, 0, NULL, NULL, rebind, &r);
    assert_int_equal(r.status, 200);
    reply_clear(&r);

    /* Another site's page posting to the laptop, with a stolen CSRF token
     * even: refused by its Origin. */
    const char *body = "{\"id\":\"x\"}";
    snprintf(origin, sizeof origin, "Origin: http://attacker.example");
    const char *foreign[] = {origin, NULL};
    request(f, "POST", "/api/sync", 1, 1, "application/json", body, foreign, &r);
    assert_error(&r, 403, "origin");
    reply_clear(&r);
    request(f, "GET", "/api/today", 1, 0, NULL, NULL, foreign, &r);
    assert_error(&r, 403, "origin");
    reply_clear(&r);
    snprintf(origin, sizeof origin, "Origin: http://localhost:%u", f->port); /* not the Host */
    request(f, "GET", "/api/today", 1, 0, NULL, NULL, foreign, &r);
    assert_error(&r, 403, "origin");
    reply_clear(&r);
    snprintf(origin, sizeof origin, "Origin: null");
    request(f, "GET", "/api/today", 1, 0, NULL, NULL, foreign, &r);
    assert_error(&r, 403, "origin");
    reply_clear(&r);
    const char *site[] = {"Sec-Fetch-Site: cross-site", NULL};
    request(f, "GET", "/api/today", 1, 0, NULL, NULL, site, &r);
    assert_error(&r, 403, "origin");
    reply_clear(&r);
    /* The first visit alone may come from another site: the launcher's
     * page is a file: page. With a wrong token it is refused as any other. */
    const char *from_file[] = {"Sec-Fetch-Site: cross-site", "Origin: null", NULL};
    request(f, "GET", f->first_url, 0, 0, NULL, NULL, from_file, &r);
    assert_int_equal(r.status, 200);
    char v[300];
    assert_non_null(strstr(header(&r, "Set-Cookie", v, sizeof v), "SameSite=Strict"));
    reply_clear(&r);
    char wrong[200];
    snprintf(wrong, sizeof wrong, "%s", f->first_url);
    char *t = strstr(wrong, "token=") + 6;
    t[0] = t[0] == 'a' ? 'b' : 'a';
    request(f, "GET", wrong, 0, 0, NULL, NULL, from_file, &r);
    assert_error(&r, 403, "origin");
    reply_clear(&r);
    request(f, "POST", f->first_url, 0, 0, "application/json", "{}", from_file, &r);
    assert_error(&r, 403, "origin");
    reply_clear(&r);
    snprintf(host, sizeof host, "Host: attacker.example:%u", f->port); /* the Host still counts */
    request(f, "GET", f->first_url, 0, 0, NULL, NULL, rebind, &r);
    assert_error(&r, 403, "host");
    reply_clear(&r);

    /* The page's own origin passes. */
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%u", f->port);
    const char *own[] = {origin, "Sec-Fetch-Site: same-origin", NULL};
    request(f, "GET", "/api/today", 1, 0, NULL, NULL, own, &r);
    assert_int_equal(r.status, 200);
    reply_clear(&r);
}

static const char intake[] =
    "{\"title\":\"王德发与李春生宅基地纠纷\",\"kind\":\"dispute\",\"channel\":\"visit\","
    "\"category\":\"land\",\"severity\":2,\"facts\":\"围墙越界\",\"received_by\":\"张秀英\","
    "\"parties\":[{\"name\":\"王德发\",\"role\":\"申请人\",\"phone\":\"13800138000\","
    "\"id_no\":\"431228197202284460\"},{\"name\":\"李春生\",\"role\":\"被申请人\"}]}";

static void test_changes_need_csrf(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    open_session(f);
    request(f, "POST", "/api/case/new", 1, 0, "application/json", intake, NULL, &r);
    assert_error(&r, 403, "csrf");
    reply_clear(&r);
    char stale[TOKEN_HEX + 1];
    snprintf(stale, sizeof stale, "%s", f->csrf);
    f->csrf[0] = f->csrf[0] == 'a' ? 'b' : 'a';
    request(f, "POST", "/api/case/new", 1, 1, "application/json", intake, NULL, &r);
    assert_error(&r, 403, "csrf");
    reply_clear(&r);
    snprintf(f->csrf, sizeof f->csrf, "%s", stale);
    /* The CSRF token without the cookie is nothing. */
    request(f, "POST", "/api/case/new", 0, 1, "application/json", intake, NULL, &r);
    assert_error(&r, 401, "session");
    reply_clear(&r);
    /* A form's type (what another site's form could send) is refused. */
    request(f, "POST", "/api/case/new", 1, 1, "application/x-www-form-urlencoded", intake, NULL,
            &r);
    assert_error(&r, 415, "content_type");
    reply_clear(&r);
    int64_t cases = -1;
    assert_int_equal(agentproc_query_int(f->laptop, "SELECT count(*) FROM cases", &cases), 0);
    assert_int_equal(cases, 0);

    /* With everything: recorded, the numbers masked in the answer. */
    request(f, "POST", "/api/case/new", 1, 1, "application/json; charset=utf-8", intake, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "138****8000"));
    assert_null(strstr(r.body, "13800138000"));
    assert_non_null(strstr(r.body, "白沙调字第"));
    reply_clear(&r);
    assert_int_equal(agentproc_query_int(f->laptop, "SELECT count(*) FROM cases", &cases), 0);
    assert_int_equal(cases, 1);
    assert_int_equal(agentproc_query_int(
                         f->laptop, "SELECT count(*) FROM case_parties WHERE deleted = 0", &cases),
                     0);
    assert_int_equal(cases, 2);
    /* A form with problems names them and records nothing. */
    request(f, "POST", "/api/case/new", 1, 1, "application/json",
            "{\"kind\":\"petition\",\"channel\":\"screening\",\"parties\":[{\"name\":\"甲\","
            "\"role\":\"申请人\",\"id_no\":\"12345\"}]}",
            NULL, &r);
    assert_error(&r, 400, "invalid");
    assert_non_null(strstr(r.body, "{\"field\":\"title\",\"code\":\"required\"}"));
    assert_non_null(strstr(r.body, "{\"field\":\"channel\",\"code\":\"channel_kind\"}"));
    assert_non_null(strstr(r.body, "{\"field\":\"parties.0.id_no\",\"code\":\"id_no\"}"));
    reply_clear(&r);
    assert_int_equal(agentproc_query_int(f->laptop, "SELECT count(*) FROM cases", &cases), 0);
    assert_int_equal(cases, 1);
}

static void test_limits(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    open_session(f);
    size_t size = (256u << 10) + 10;
    char *big = malloc(size + 1);
    assert_non_null(big);
    memset(big, ' ', size);
    big[0] = '{';
    big[size - 1] = '}';
    big[size] = '\0';
    request(f, "POST", "/api/case/new", 1, 1, "application/json", big, NULL, &r);
    assert_error(&r, 413, "too_big");
    reply_clear(&r);
    free(big);
    request(f, "POST", "/api/case/new", 1, 1, "application/json", "{", NULL, &r);
    assert_error(&r, 400, "bad_request");
    reply_clear(&r);
    get(f, "/api/case/new", 1, &r);
    assert_error(&r, 405, "method");
    reply_clear(&r);
    get(f, "/api/nothing", 1, &r);
    assert_error(&r, 404, "not_found");
    reply_clear(&r);
    get(f, "/assets/../village.html", 1, &r);
    assert_int_equal(r.status, 404);
    reply_clear(&r);
    char q[400];
    memset(q, 'a', sizeof q - 1);
    q[sizeof q - 1] = '\0';
    char path[500];
    snprintf(path, sizeof path, "/api/cases?q=%s", q);
    get(f, path, 1, &r);
    assert_error(&r, 400, "bad_request");
    reply_clear(&r);
    get(f, "/api/case?id=nothing", 1, &r);
    assert_error(&r, 400, "bad_request");
    reply_clear(&r);
    const char *bad_class[] = {"/api/cases?severity=4", "/api/cases?severity=0",
                               "/api/cases?severity=2x", "/api/cases?severity=99999999999"};
    for (size_t i = 0; i < sizeof bad_class / sizeof bad_class[0]; i++) {
        get(f, bad_class[i], 1, &r);
        assert_error(&r, 400, "bad_request");
        reply_clear(&r);
    }
    /* A party's numbers have the same limits at intake as in a
     * correction: 40 bytes of phone, 18 of identity card. */
    request(f, "POST", "/api/case/new", 1, 1, "application/json",
            "{\"title\":\"t\",\"kind\":\"dispute\",\"channel\":\"visit\","
            "\"category\":\"land\",\"severity\":2,\"facts\":\"f\",\"received_by\":\"r\","
            "\"parties\":[{\"name\":\"n\",\"role\":\"申请人\","
            "\"phone\":\"1 3 8 0 0 1 3 8 0 0 0 - - - - - - - - - - -\"}]}",
            NULL, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "{\"field\":\"parties.0.phone\",\"code\":\"too_long\"}"));
    reply_clear(&r);
    /* Not enrolled: the sync says so rather than trying. */
    request(f, "POST", "/api/sync", 1, 1, "application/json", "{}", NULL, &r);
    assert_error(&r, 409, "not_enrolled");
    reply_clear(&r);
    /* The enrolment checks the code's form before any network. */
    request(f, "POST", "/api/enroll", 1, 1, "application/json", "{\"code\":\"HAMLET1:nonsense\"}",
            NULL, &r);
    assert_error(&r, 409, "enrolment");
    reply_clear(&r);
}

/* ---- a party's details, corrected ---- */

#define UUID_LEN 36

/* The case of the intake form, recorded through the pages: its id, and
 * the ids of its parties and of their contacts, in order. */
struct recorded {
    char id[UUID_LEN + 1];
    char party[2][UUID_LEN + 1];
    char contact[2][UUID_LEN + 1];
};

static void record_case(struct fixture *f, struct recorded *k)
{
    struct reply r;
    request(f, "POST", "/api/case/new", 1, 1, "application/json", intake, NULL, &r);
    assert_int_equal(r.status, 200);
    cJSON *doc = cJSON_Parse(r.body);
    assert_non_null(doc);
    const cJSON *id = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "case"), "id");
    const cJSON *parties = cJSON_GetObjectItem(doc, "parties");
    assert_true(cJSON_IsString(id));
    assert_int_equal(cJSON_GetArraySize(parties), 2);
    snprintf(k->id, sizeof k->id, "%s", id->valuestring);
    for (int i = 0; i < 2; i++) {
        const cJSON *p = cJSON_GetArrayItem(parties, i);
        snprintf(k->party[i], sizeof k->party[i], "%s",
                 cJSON_GetStringValue(cJSON_GetObjectItem(p, "id")));
        snprintf(k->contact[i], sizeof k->contact[i], "%s",
                 cJSON_GetStringValue(cJSON_GetObjectItem(p, "contact_id")));
        assert_int_equal(strlen(k->party[i]), UUID_LEN);
        assert_int_equal(strlen(k->contact[i]), UUID_LEN);
    }
    cJSON_Delete(doc);
    reply_clear(&r);
}

/* The first column of the first row of sql, made from format; the
 * statements are the test's own. */
static int64_t ledger_int(struct fixture *f, const char *format, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, format);
    vsnprintf(sql, sizeof sql, format, ap);
    va_end(ap);
    int64_t v = -1;
    assert_int_equal(agentproc_query_int(f->laptop, sql, &v), 0);
    return v;
}

/* Every change the laptop's journal holds (it holds them by runs of n). */
static int64_t journal_size(struct fixture *f)
{
    return ledger_int(f, "SELECT coalesce(sum(n), 0) FROM hl_run");
}

/* The position of the laptop's latest change (a run's k-th change is at
 * pos + k); 0 for none. */
static int64_t journal_end(struct fixture *f)
{
    return ledger_int(f, "SELECT coalesce(max(pos + n - 1), 0) FROM hl_run");
}

#define WRITTEN_MAX 8 /* fields of a change kept for the checks */

/* The changes of one record past a position, as replica_history() gives
 * them, and what the latest of them wrote. */
struct written {
    const struct schema *schema;
    int table;
    const char *id;
    int64_t after;  /* changes at later positions count */
    size_t changes; /* how many */
    size_t foreign; /* ... of them not of the record asked for */
    enum change_op op;
    size_t nfields;               /* the fields the latest set, the first WRITTEN_MAX kept: */
    char column[WRITTEN_MAX][64]; /* "deleted" for the tombstone */
    enum sync_type type[WRITTEN_MAX];
    char text[WRITTEN_MAX][256]; /* the value when it is text */
};

static int written_take(void *ctx, const struct replica_history_entry *e)
{
    struct written *w = ctx;
    const struct change *c = e->change;
    if (e->pos <= w->after) {
        return 0;
    }
    w->changes++;
    if (c->table != w->table || strcmp(c->id, w->id) != 0) {
        w->foreign++;
        return 0;
    }
    const struct schema_table *table = &w->schema->tables[c->table];
    w->op = c->op;
    w->nfields = c->nfields;
    for (size_t i = 0; i < c->nfields && i < WRITTEN_MAX; i++) {
        const struct change_field *field = &c->fields[i];
        snprintf(w->column[i], sizeof w->column[i], "%s",
                 field->column == DELTA_DELETED ? "deleted" : table->columns[field->column].name);
        w->type[i] = field->value.type;
        snprintf(w->text[i], sizeof w->text[i], "%s",
                 field->value.type == SYNC_TEXT ? field->value.s : "");
    }
    return 0;
}

/* The changes of the laptop's record table/id journaled at positions past
 * after, read with the engine: the journal keeps no values, the engine
 * finds them in the rows and hl_prior (replica.h). The ledger is opened for
 * the read and closed again; the running program keeps its own connection
 * meanwhile. */
static void journaled_since(struct fixture *f, const char *table, const char *id, int64_t after,
                            struct written *w)
{
    struct replica_config config;
    ledger_schema_config(&config, 0);
    struct replica *r = NULL;
    char why[256] = "";
    if (replica_open(f->laptop->db, &config, &r, why, sizeof why) != 0) {
        fail_msg("cannot open %s with the engine: %s", f->laptop->db, why);
    }
    memset(w, 0, sizeof *w);
    w->schema = config.schema;
    w->table = schema_table(config.schema, table);
    w->id = id;
    w->after = after;
    int rc = replica_history(r, table, id, written_take, w);
    replica_close(r);
    assert_int_equal(rc, 0);
    assert_int_equal(w->foreign, 0);
    assert_true(w->nfields <= WRITTEN_MAX);
}

/* The latest change w holds set column to the text value. */
static void assert_written(const struct written *w, const char *column, const char *value)
{
    for (size_t i = 0; i < w->nfields; i++) {
        if (strcmp(w->column[i], column) == 0) {
            if (w->type[i] != SYNC_TEXT || strcmp(w->text[i], value) != 0) {
                fail_msg("the change set %s to \"%s\" (type %d), not \"%s\"", column, w->text[i],
                         (int)w->type[i], value);
            }
            return;
        }
    }
    fail_msg("the change did not set %s", column);
}

/* The latest change w holds left column alone. */
static void assert_not_written(const struct written *w, const char *column)
{
    for (size_t i = 0; i < w->nfields; i++) {
        if (strcmp(w->column[i], column) == 0) {
            fail_msg("the change set %s (to \"%s\")", column, w->text[i]);
        }
    }
}

/* POST /api/case/party with body; the answer in r. */
static long edit_party(struct fixture *f, const char *body, struct reply *r)
{
    return request(f, "POST", "/api/case/party", 1, 1, "application/json", body, NULL, r);
}

/* A problem {field, code} of a refusal. */
static void assert_problem(const struct reply *r, const char *field, const char *code)
{
    char want[120];
    snprintf(want, sizeof want, "{\"field\":\"%s\",\"code\":\"%s\"}", field, code);
    if (!r->body || !strstr(r->body, want)) {
        fail_msg("expected the problem %s in %s", want, r->body ? r->body : "(no body)");
    }
}

static void test_party_edit(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    struct recorded k;
    char body[2048];
    open_session(f);
    record_case(f, &k);
    int64_t journal = journal_size(f);
    const char *wang = k.contact[0];

    /* Without the page's token: refused, nothing written. */
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"party\":\"%s\",\"name\":\"王得发\",\"phone\":\"13900139000\"}", k.id,
             k.party[0]);
    request(f, "POST", "/api/case/party", 1, 0, "application/json", body, NULL, &r);
    assert_error(&r, 403, "csrf");
    reply_clear(&r);
    request(f, "POST", "/api/case/party", 0, 1, "application/json", body, NULL, &r);
    assert_error(&r, 401, "session");
    reply_clear(&r);
    assert_int_equal(journal_size(f), journal);
    assert_int_equal(ledger_int(f, "SELECT count(*) FROM contacts WHERE name = '王德发'"), 1);

    /* Bad input: each problem named, in words too, and nothing written. */
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"party\":\"%s\",\"name\":\" \",\"role\":\"证人\","
             "\"phone\":\"1390013900a\",\"id_no\":\"43122819720228446\"}",
             k.id, k.party[0]);
    edit_party(f, body, &r);
    assert_error(&r, 400, "invalid");
    assert_problem(&r, "name", "required");
    assert_problem(&r, "role", "unknown");
    assert_problem(&r, "phone", "phone");
    assert_problem(&r, "id_no", "id_no");
    assert_non_null(strstr(r.body, "\\\"phone\\\" is not a phone number"));
    assert_non_null(strstr(r.body, "\\\"id_no\\\" is not an identity-card number"));
    reply_clear(&r);
    /* Past the limits, a number given and cleared at once, a flag of the
     * wrong kind. */
    char name[202], address[402];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    memset(address, 'a', sizeof address - 1);
    address[sizeof address - 1] = '\0';
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"party\":\"%s\",\"name\":\"%s\",\"address\":\"%s\","
             "\"phone\":\"13900139000123456789012345678901234567890\","
             "\"id_no\":\"4312281972022844601\",\"clear_id_no\":\"yes\"}",
             k.id, k.party[0], name, address);
    edit_party(f, body, &r);
    assert_error(&r, 400, "invalid");
    assert_problem(&r, "name", "too_long");
    assert_problem(&r, "address", "too_long");
    assert_problem(&r, "phone", "too_long");
    assert_problem(&r, "id_no", "too_long");
    assert_problem(&r, "clear_id_no", "type");
    reply_clear(&r);
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"party\":\"%s\",\"phone\":\"13900139000\",\"clear_phone\":true}",
             k.id, k.party[0]);
    edit_party(f, body, &r);
    assert_error(&r, 400, "invalid");
    assert_problem(&r, "phone", "both");
    reply_clear(&r);
    /* A party that is not the case's, or not a party at all. */
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"party\":\"%s\",\"name\":\"王得发\"}", k.id,
             k.contact[0]);
    edit_party(f, body, &r);
    assert_error(&r, 404, "not_found");
    reply_clear(&r);
    struct recorded other;
    record_case(f, &other);
    journal = journal_size(f);
    int64_t end = journal_end(f);
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"party\":\"%s\",\"name\":\"王得发\"}", k.id,
             other.party[0]);
    edit_party(f, body, &r);
    assert_error(&r, 404, "not_found");
    reply_clear(&r);
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"name\":\"王得发\"}", k.id);
    edit_party(f, body, &r);
    assert_error(&r, 400, "bad_request");
    reply_clear(&r);
    assert_int_equal(journal_size(f), journal);
    assert_int_equal(ledger_int(f,
                                "SELECT count(*) FROM contacts WHERE id = '%s' AND name = '王德发'"
                                " AND phone = '13800138000' AND id_no = '431228197202284460'"
                                " AND address IS NULL",
                                wang),
                     1);

    /* The whole form as the page sends it: the name and the phone
     * corrected, the role as it was, the identity-card number left empty
     * (kept), no address (none before). */
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"party\":\"%s\",\"name\":\"王得发\",\"role\":\"申请人\","
             "\"phone\":\"13900139000\",\"id_no\":\"\",\"address\":\"\",\"clear_phone\":false,"
             "\"clear_id_no\":false,\"lang\":\"zh\"}",
             k.id, k.party[0]);
    edit_party(f, body, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"name\":\"王得发\""));
    assert_non_null(strstr(r.body, "139****9000")); /* masked in the answer, as ever */
    assert_null(strstr(r.body, "13900139000"));
    assert_null(strstr(r.body, "431228197202284460"));
    reply_clear(&r);
    assert_int_equal(ledger_int(f,
                                "SELECT count(*) FROM contacts WHERE id = '%s' AND name = '王得发'"
                                " AND phone = '13900139000' AND id_no = '431228197202284460'"
                                " AND address IS NULL",
                                wang),
                     1);
    /* One change, of the two fields that changed. */
    assert_int_equal(journal_size(f), journal + 1);
    struct written w;
    journaled_since(f, "contacts", wang, end, &w);
    assert_int_equal(w.changes, 1);
    assert_int_equal(w.op, CHANGE_PUT);
    assert_int_equal(w.nfields, 2);
    assert_written(&w, "name", "王得发");
    assert_written(&w, "phone", "13900139000");
    assert_not_written(&w, "id_no");
    assert_not_written(&w, "address");

    /* The same form again: nothing to write, nothing journaled. */
    journal = journal_size(f);
    end = journal_end(f);
    edit_party(f, body, &r);
    assert_int_equal(r.status, 200);
    reply_clear(&r);
    assert_int_equal(journal_size(f), journal);

    /* The role alone, on the party; then the identity-card number cleared
     * and an address given. */
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"party\":\"%s\",\"role\":\"第三人\"}", k.id,
             k.party[1]);
    edit_party(f, body, &r);
    assert_int_equal(r.status, 200);
    reply_clear(&r);
    assert_int_equal(journal_size(f), journal + 1);
    journaled_since(f, "case_parties", k.party[1], end, &w);
    assert_int_equal(w.changes, 1);
    assert_int_equal(w.op, CHANGE_PUT);
    assert_int_equal(w.nfields, 1);
    assert_written(&w, "role", "第三人");
    assert_not_written(&w, "position");
    assert_int_equal(ledger_int(f,
                                "SELECT count(*) FROM case_parties WHERE id = '%s'"
                                " AND role = '第三人'",
                                k.party[1]),
                     1);
    /* At the limits exactly: accepted. */
    memset(address, 'a', sizeof address - 2);
    address[sizeof address - 2] = '\0';
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"party\":\"%s\",\"clear_id_no\":true,\"address\":\"%s\"}", k.id,
             k.party[0], address);
    edit_party(f, body, &r);
    assert_int_equal(r.status, 200);
    reply_clear(&r);
    assert_int_equal(ledger_int(f,
                                "SELECT count(*) FROM contacts WHERE id = '%s' AND id_no IS NULL"
                                " AND length(address) = 400 AND phone = '13900139000'",
                                wang),
                     1);
    /* The other case's party is as it was. */
    assert_int_equal(ledger_int(f,
                                "SELECT count(*) FROM contacts WHERE id = '%s' AND name = '王德发'",
                                other.contact[0]),
                     1);
}

/* ---- a supplementary agreement ---- */

static const char agreement_texts[] =
    "\"parties_details\":\"申请人王德发，被申请人李春生\",\"facts_and_liability\":\"围墙越界\","
    "\"rights_obligations\":\"李春生拆除越界部分\",\"performance_method\":\"自行拆除\","
    "\"performance_place\":\"白沙村3组\",\"performance_deadline\":\"2027-01-15\"";

/* POST /api/agreement/save with body; the answer in r. */
static long save_agreement(struct fixture *f, const char *body, struct reply *r)
{
    return request(f, "POST", "/api/agreement/save", 1, 1, "application/json", body, NULL, r);
}

/* The id of the newest agreement in the case's answer r (the ids grow). */
static void newest_agreement(const struct reply *r, char id[UUID_LEN + 1])
{
    cJSON *doc = cJSON_Parse(r->body);
    assert_non_null(doc);
    const cJSON *list = cJSON_GetObjectItem(doc, "agreements");
    const cJSON *last = cJSON_GetArrayItem(list, cJSON_GetArraySize(list) - 1);
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(last, "id"));
    assert_non_null(text);
    snprintf(id, UUID_LEN + 1, "%s", text);
    cJSON_Delete(doc);
}

/* A complete agreement of the case, signed when sign is set; its id. */
static void make_agreement(struct fixture *f, const char *case_id, int sign, char id[UUID_LEN + 1])
{
    struct reply r;
    char body[1024];
    snprintf(body, sizeof body, "{\"id\":\"%s\",%s}", case_id, agreement_texts);
    save_agreement(f, body, &r);
    assert_int_equal(r.status, 200);
    newest_agreement(&r, id);
    reply_clear(&r);
    if (sign) {
        snprintf(body, sizeof body, "{\"agreement\":\"%s\"}", id);
        request(f, "POST", "/api/agreement/sign", 1, 1, "application/json", body, NULL, &r);
        assert_int_equal(r.status, 200);
        reply_clear(&r);
    }
}

static void test_agreement_supplement(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    struct recorded k, other;
    char body[1024], first[UUID_LEN + 1], unsigned_one[UUID_LEN + 1], foreign[UUID_LEN + 1];
    char supplement[UUID_LEN + 1];
    open_session(f);
    record_case(f, &k);
    record_case(f, &other);
    make_agreement(f, k.id, 0, first);
    make_agreement(f, k.id, 0, unsigned_one);
    make_agreement(f, other.id, 1, foreign);
    int64_t journal = journal_size(f);

    /* Refused, writing nothing: an agreement that does not exist, one
     * that is not signed (edit it instead), a signed one of another case,
     * an id past its length, a supplement given with an edit. */
    const struct {
        const char *supplements, *edit;
        long status;
        const char *error;
    } refused[] = {
        {"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", NULL, 404, "not_found"},
        {first, NULL, 409, "refused"},
        {foreign, NULL, 409, "refused"},
        {"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b0", NULL, 400, "bad_request"},
        {first, unsigned_one, 400, "bad_request"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (refused[i].edit) {
            snprintf(body, sizeof body,
                     "{\"agreement\":\"%s\",\"supplements\":\"%s\",\"facts_and_liability\":\"改\"}",
                     refused[i].edit, refused[i].supplements);
        } else {
            snprintf(body, sizeof body, "{\"id\":\"%s\",\"supplements\":\"%s\",\"lang\":\"zh\"}",
                     k.id, refused[i].supplements);
        }
        save_agreement(f, body, &r);
        assert_error(&r, refused[i].status, refused[i].error);
        if (i == 1) {
            assert_non_null(strstr(r.body, "尚未签署"));
        }
        reply_clear(&r);
    }
    assert_int_equal(journal_size(f), journal);
    assert_int_equal(ledger_int(f, "SELECT count(*) FROM agreements WHERE supplements IS NOT NULL"),
                     0);

    /* Signed, it is supplemented: a new agreement of the case, empty,
     * naming it, and the case's answer says so. */
    snprintf(body, sizeof body, "{\"agreement\":\"%s\"}", first);
    request(f, "POST", "/api/agreement/sign", 1, 1, "application/json", body, NULL, &r);
    assert_int_equal(r.status, 200);
    reply_clear(&r);
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"supplements\":\"%s\"}", k.id, first);
    save_agreement(f, body, &r);
    assert_int_equal(r.status, 200);
    newest_agreement(&r, supplement);
    char want[120];
    snprintf(want, sizeof want, "\"supplements\":\"%s\"", first);
    assert_non_null(strstr(r.body, want));
    assert_non_null(strstr(r.body, "\"supplements\":null")); /* the others */
    reply_clear(&r);
    assert_int_equal(ledger_int(f,
                                "SELECT count(*) FROM agreements WHERE id = '%s' AND case_id = '%s'"
                                " AND supplements = '%s' AND signed_at IS NULL"
                                " AND facts_and_liability IS NULL",
                                supplement, k.id, first),
                     1);
    assert_int_equal(ledger_int(f, "SELECT count(*) FROM agreements WHERE supplements IS NOT NULL"),
                     1);

    /* Its paper form is a supplementary agreement's, naming the case's
     * number. */
    char path[200];
    snprintf(path, sizeof path, "/print/agreement?id=%s&lang=zh", supplement);
    get(f, path, 1, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "补充协议"));
    assert_non_null(strstr(r.body, "本协议是对编号为"));
    assert_non_null(strstr(r.body, "白沙调字第"));
    reply_clear(&r);
}

/* ---- printing an agreement with the numbers in full ---- */

#define DEFAULT_FAKETIME "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1" /* Debian */
#define OTHER_FAKETIME   "/usr/lib/faketime/libfaketime.so.1"

/* Move the server's calendar to offset ("+0", "+2m"). */
static void set_ui_clock(const char *offset)
{
    FILE *clock = fopen(ui_clock_file, "w");
    assert_non_null(clock);
    fprintf(clock, "%s\n", offset);
    assert_int_equal(fclose(clock), 0);
}

/* POST /api/agreement/print-ticket for agreement; the ticket in out. */
static long print_ticket(struct fixture *f, const char *agreement, int with_csrf, char out[40],
                         struct reply *r)
{
    char body[200];
    snprintf(body, sizeof body, "{\"agreement\":\"%s\",\"lang\":\"zh\"}", agreement);
    request(f, "POST", "/api/agreement/print-ticket", 1, with_csrf, "application/json", body, NULL,
            r);
    out[0] = '\0';
    const char *t = r->body ? strstr(r->body, "\"ticket\":\"") : NULL;
    if (r->status == 200) {
        assert_non_null(t);
        snprintf(out, 40, "%.*s", (int)strcspn(t + 10, "\""), t + 10);
        assert_int_equal(strlen(out), 32);
        assert_int_equal(strspn(out, "0123456789abcdef"), 32);
    }
    return r->status;
}

/* GET the print of agreement with ticket (none when NULL). */
static long print_with(struct fixture *f, const char *agreement, const char *ticket,
                       struct reply *r)
{
    char path[300];
    snprintf(path, sizeof path, "/print/agreement?id=%s&lang=zh%s%s", agreement,
             ticket ? "&ticket=" : "", ticket ? ticket : "");
    return get(f, path, 1, r);
}

static void test_print_in_full(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    struct recorded k, other;
    char signed_one[UUID_LEN + 1], second[UUID_LEN + 1], ticket[40];
    static const char full_id[] = "431228197202284460", full_phone[] = "13800138000";

    /* The server again, its calendar moved by a file the test writes. */
    const char *lib = getenv("FAKETIME_LIB");
    if (!lib) {
        lib = access(DEFAULT_FAKETIME, R_OK) == 0 ? DEFAULT_FAKETIME : OTHER_FAKETIME;
    }
    if (access(lib, R_OK) != 0) {
        fail_msg("no libfaketime at %s: apt-get install faketime (or set FAKETIME_LIB)", lib);
    }
    snprintf(ui_clock_file, sizeof ui_clock_file, "%s/ui.clock", f->dir);
    set_ui_clock("+0");
    assert_int_equal(ui_stop(f), 0);
    ui_clock_lib = lib;
    int started = ui_start(f, "--no-browser");
    ui_clock_lib = NULL;
    assert_int_equal(started, 0);
    open_session(f);
    record_case(f, &k);
    record_case(f, &other);
    make_agreement(f, k.id, 1, signed_one);
    make_agreement(f, other.id, 1, second);
    const char *reveals = "SELECT count(*) FROM events WHERE case_id = '%s' AND kind = 'reveal'";
    int64_t journal = journal_size(f);

    /* Refused, recording nothing: without the CSRF token, an agreement that
     * is not of this village. */
    assert_int_equal(print_ticket(f, signed_one, 0, ticket, &r), 403);
    assert_error(&r, 403, "csrf");
    reply_clear(&r);
    assert_int_equal(print_ticket(f, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 1, ticket, &r), 404);
    assert_error(&r, 404, "not_found");
    reply_clear(&r);
    assert_int_equal(journal_size(f), journal);
    assert_int_equal(ledger_int(f, reveals, k.id), 0);

    /* Without a ticket the print is masked, as before, and records nothing. */
    print_with(f, signed_one, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, full_id));
    assert_null(strstr(r.body, full_phone));
    reply_clear(&r);
    /* A ticket never asked for is refused, not answered masked. */
    print_with(f, signed_one, "0123456789abcdef0123456789abcdef", &r);
    assert_error(&r, 403, "ticket");
    reply_clear(&r);
    assert_int_equal(ledger_int(f, reveals, k.id), 0);

    /* A good ticket: the reveal is recorded once, when it is issued; the
     * print has the numbers in full; used again, it is refused. */
    assert_int_equal(print_ticket(f, signed_one, 1, ticket, &r), 200);
    reply_clear(&r);
    assert_int_equal(ledger_int(f, reveals, k.id), 1);
    assert_int_equal(ledger_int(f, reveals, other.id), 0);
    print_with(f, signed_one, ticket, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, full_id));
    assert_non_null(strstr(r.body, full_phone));
    char v[300];
    assert_non_null(
        strstr(header(&r, "Content-Security-Policy", v, sizeof v), "frame-ancestors 'self'"));
    reply_clear(&r);
    assert_int_equal(ledger_int(f, reveals, k.id), 1);
    print_with(f, signed_one, ticket, &r);
    assert_error(&r, 403, "ticket");
    reply_clear(&r);

    /* A ticket of one agreement does not print another, and is used up. */
    assert_int_equal(print_ticket(f, signed_one, 1, ticket, &r), 200);
    reply_clear(&r);
    print_with(f, second, ticket, &r);
    assert_error(&r, 403, "ticket");
    reply_clear(&r);
    print_with(f, signed_one, ticket, &r);
    assert_error(&r, 403, "ticket");
    reply_clear(&r);

    /* Expired: a ticket is good for 60 seconds. */
    assert_int_equal(print_ticket(f, signed_one, 1, ticket, &r), 200);
    reply_clear(&r);
    set_ui_clock("+61");
    print_with(f, signed_one, ticket, &r);
    assert_error(&r, 403, "ticket");
    reply_clear(&r);
    set_ui_clock("+0");
    assert_int_equal(ledger_int(f, reveals, k.id), 3);

    /* At most 8 outstanding: the ninth drops the first; the second is
     * still good. */
    char tickets[9][40];
    for (int i = 0; i < 9; i++) {
        assert_int_equal(print_ticket(f, signed_one, 1, tickets[i], &r), 200);
        reply_clear(&r);
    }
    print_with(f, signed_one, tickets[0], &r);
    assert_error(&r, 403, "ticket");
    reply_clear(&r);
    for (int i = 1; i < 9; i++) {
        print_with(f, signed_one, tickets[i], &r);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body, full_id));
        reply_clear(&r);
    }
}

/* ---- the launcher ---- */

static int file_mode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* `hamlet --db DB ui --open`, run to its end (at most 20 s: a launcher that
 * started a server instead would still be running). */
static int run_open(struct fixture *f, struct agentproc_result *r)
{
    const char *open_args[] = {"ui", "--open", NULL};
    f->laptop->timeout_s = 20;
    return agentproc_run(f->laptop, open_args, r);
}

/* What the fake xdg-open was given, once it has been run (at most 10 s);
 * NULL if it was not. Free it. */
static char *opened(struct fixture *f)
{
    for (int i = 0; i < 100; i++) {
        char *text = read_file(f->opened);
        if (text && text[0]) {
            return text;
        }
        free(text);
        struct timespec pause = {0, 100000000L};
        nanosleep(&pause, NULL);
    }
    return NULL;
}

static void test_launch_files(void **state)
{
    struct fixture *f = *state;
    char want[sizeof f->first_url + 1];
    snprintf(want, sizeof want, "%s\n", f->first_url);
    char *url = read_file(f->url_file);
    assert_non_null(url);
    assert_string_equal(url, want);
    free(url);
    char dir[sizeof f->run + 8];
    snprintf(dir, sizeof dir, "%s/hamlet", f->run);
    assert_int_equal(file_mode(dir), 0700);
    assert_int_equal(file_mode(f->url_file), 0600);
    assert_int_equal(file_mode(f->page_file), 0600);
    char refresh[300];
    snprintf(refresh, sizeof refresh, "<meta http-equiv=\"refresh\" content=\"0;url=%s\">",
             f->first_url);
    char *page = read_file(f->page_file);
    assert_non_null(page);
    assert_non_null(strstr(page, refresh));
    assert_null(strstr(page, "<script"));
    free(page);
    /* --no-browser: no browser asked. */
    assert_int_equal(access(f->opened, F_OK), -1);

    assert_int_equal(ui_stop(f), 0);
    assert_int_equal(access(f->url_file, F_OK), -1);
    assert_int_equal(access(f->page_file, F_OK), -1);

    /* Without XDG_RUNTIME_DIR: the user's ~/.cache, made private. */
    char home[sizeof f->dir + 8], url_file[sizeof home + 32];
    snprintf(home, sizeof home, "%s/home", f->dir);
    snprintf(url_file, sizeof url_file, "%s/.cache/hamlet/ui.url", home);
    assert_int_equal(mkdir(home, 0755), 0);
    const char *old_home = getenv("HOME");
    char saved_home[512];
    snprintf(saved_home, sizeof saved_home, "%s", old_home ? old_home : "");
    unsetenv("XDG_RUNTIME_DIR");
    setenv("HOME", home, 1);
    int started = ui_start(f, "--no-browser");
    setenv("XDG_RUNTIME_DIR", f->run, 1);
    if (old_home) {
        setenv("HOME", saved_home, 1);
    } else {
        unsetenv("HOME");
    }
    assert_int_equal(started, 0);
    snprintf(want, sizeof want, "%s\n", f->first_url);
    url = read_file(url_file);
    assert_non_null(url);
    assert_string_equal(url, want);
    free(url);
    assert_int_equal(file_mode(url_file), 0600);
    snprintf(dir, sizeof dir, "%s/.cache", home);
    assert_int_equal(file_mode(dir), 0700);
    assert_int_equal(ui_stop(f), 0);
    assert_int_equal(access(url_file, F_OK), -1);
}

static void test_open_running(void **state)
{
    struct fixture *f = *state;
    struct agentproc_result r;
    int status = run_open(f, &r);
    if (status != 0) {
        fail_msg("hamlet ui --open: status %d, %s%s", status, r.out, r.err);
    }
    assert_true(r.seconds < 5);
    assert_non_null(strstr(r.out, f->base));
    assert_null(strstr(r.out, "token"));
    agentproc_result_clear(&r);

    /* The browser got the page's path, and nothing with the token. */
    char *args = opened(f);
    assert_non_null(args);
    char want[sizeof f->page_file + 1];
    snprintf(want, sizeof want, "%s\n", f->page_file);
    assert_string_equal(args, want);
    assert_null(strstr(args, strstr(f->first_url, "token=") + 6));
    free(args);
    /* The running server was asked, and it still owns the files. */
    char *log = read_file(f->log);
    assert_non_null(log);
    assert_non_null(strstr(log, "hamlet ui: GET /running 200"));
    assert_null(strstr(log, strstr(f->first_url, "token=") + 6));
    free(log);
    char *url = read_file(f->url_file);
    assert_non_null(url);
    assert_true(!strncmp(url, f->first_url, strlen(f->first_url)));
    free(url);
    assert_int_equal(kill(f->ui, 0), 0);

    /* The proof of the server is no copy of the token, and a nonce of
     * another form gets none. */
    struct reply reply;
    char path[200];
    snprintf(path, sizeof path, "/running?nonce=%064d", 7);
    get(f, path, 0, &reply);
    assert_int_equal(reply.status, 200);
    assert_int_equal(reply.len, TOKEN_HEX);
    assert_null(strstr(f->first_url, reply.body));
    reply_clear(&reply);
    get(f, "/running?nonce=abc", 0, &reply);
    assert_error(&reply, 400, "bad_request");
    reply_clear(&reply);

    /* --open and --no-browser contradict each other. */
    const char *both[] = {"ui", "--open", "--no-browser", NULL};
    assert_int_equal(agentproc_run(f->laptop, both, &r), 2);
    agentproc_result_clear(&r);
}

static void test_open_stale(void **state)
{
    struct fixture *f = *state;
    char old_url[sizeof f->first_url];
    snprintf(old_url, sizeof old_url, "%s", f->first_url);
    kill(f->ui, SIGKILL);
    waitpid(f->ui, NULL, 0);
    f->ui = 0;
    assert_int_equal(access(f->url_file, F_OK), 0); /* left behind */

    /* The launcher finds no one at the address, and starts a server. */
    assert_int_equal(ui_start(f, "--open"), 0);
    assert_string_not_equal(f->first_url, old_url);
    char want[sizeof f->first_url + 1];
    snprintf(want, sizeof want, "%s\n", f->first_url);
    char *url = read_file(f->url_file);
    assert_non_null(url);
    assert_string_equal(url, want);
    free(url);
    char *args = opened(f);
    assert_non_null(args);
    char page[sizeof f->page_file + 1];
    snprintf(page, sizeof page, "%s\n", f->page_file);
    assert_string_equal(args, page);
    free(args);
    open_session(f); /* the new server works */
}

static void test_open_wrong_token(void **state)
{
    struct fixture *f = *state;
    /* A file naming the live server's port with another token: another
     * program on the port, as the launcher sees it. */
    char forged[sizeof f->first_url];
    snprintf(forged, sizeof forged, "%s", f->first_url);
    char *t = strstr(forged, "token=") + 6;
    t[0] = t[0] == 'a' ? 'b' : 'a';
    FILE *out = fopen(f->url_file, "w");
    assert_non_null(out);
    fprintf(out, "%s\n", forged);
    fclose(out);

    pid_t first = f->ui;
    unsigned first_port = f->port;
    assert_int_equal(ui_start(f, "--open"), 0);
    assert_int_not_equal(f->port, first_port);
    assert_int_equal(ui_stop(f), 0);
    f->ui = first; /* for teardown */
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const char *path = getenv("PATH");
    snprintf(original_path, sizeof original_path, "%s", path ? path : "/usr/bin:/bin");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "test_ui: libcurl would not start\n");
        return 1;
    }
    const char *filter = getenv("HAMLET_TEST_FILTER");
    if (filter && filter[0]) {
        cmocka_set_test_filter(filter);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_and_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_need_csrf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_party_edit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agreement_supplement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print_in_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_launch_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_wrong_token, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
