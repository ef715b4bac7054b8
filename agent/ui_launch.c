/* SPDX-License-Identifier: MIT */
/*
 * ui_launch.c - how the person at the laptop reaches a running `hamlet ui`
 * (ui.h). The server leaves its first address, token and all, in a file
 * only the user can read ($XDG_RUNTIME_DIR/hamlet/ui.url), with a page
 * beside it (ui.html) that redirects to that address; the browser is handed
 * the page's path, so the token is never in a process's arguments, where
 * `ps` would show it to other users. `hamlet ui --open` (the desktop
 * entry) reads the file and asks the server there to prove, over loopback
 * HTTP, that it knows the token; a file left by a killed run fails that,
 * and the launcher starts a server of its own.
 */
#include "ui_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define URL_PREFIX  "http://127.0.0.1:"
#define URL_MAX     128 /* bytes of ui.url read: the address is about 100 */
#define PROBE_MAX_S 3L  /* a live server answers on loopback at once */

int ui_launch_paths(struct ui_launch *where, char *why, size_t why_len)
{
    const char *run = getenv("XDG_RUNTIME_DIR");
    const char *home = getenv("HOME");
    int n;
    if (run && run[0] == '/') {
        n = snprintf(where->dir, sizeof where->dir, "%s/hamlet", run);
    } else if (home && home[0] == '/') {
        /* No session runtime folder (a console login, su): a folder of the
         * user's own home, which no one else can write either. */
        n = snprintf(where->dir, sizeof where->dir, "%s/.cache/hamlet", home);
    } else {
        snprintf(why, why_len, "neither XDG_RUNTIME_DIR nor HOME is set");
        return -1;
    }
    if (n < 0 || (size_t)n >= sizeof where->dir) {
        snprintf(why, why_len, "the path of the folder for ui.url is too long");
        return -1;
    }
    snprintf(where->url, sizeof where->url, "%s/ui.url", where->dir);
    snprintf(where->page, sizeof where->page, "%s/ui.html", where->dir);
    return 0;
}

/* mkdir path 0700 unless it exists (and its parent, 0700, when that is
 * missing: ~/.cache on a new account); then it must be a folder of this
 * user, and is made 0700 if it was not. 0 or -1 with why. */
static int make_private_dir(const char *path, char *why, size_t why_len)
{
    if (mkdir(path, 0700) != 0 && errno == ENOENT) {
        char parent[UI_LAUNCH_PATH_MAX];
        snprintf(parent, sizeof parent, "%s", path);
        char *slash = strrchr(parent, '/');
        if (slash && slash > parent) {
            *slash = '\0';
            if (mkdir(parent, 0700) == 0) {
                (void)mkdir(path, 0700);
            }
        }
    }
    struct stat st;
    if (lstat(path, &st) != 0) {
        snprintf(why, why_len, "cannot make %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
        snprintf(why, why_len, "%s is not a folder of this user's own", path);
        return -1;
    }
    if ((st.st_mode & 077) != 0 && chmod(path, 0700) != 0) {
        snprintf(why, why_len, "cannot make %s private: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Write text to path, 0600, whole or not at all: into a new file beside it,
 * renamed over path once written. 0 or -1 with why. */
static int write_private(const char *path, const char *text, char *why, size_t why_len)
{
    char aside[UI_LAUNCH_PATH_MAX + 8];
    snprintf(aside, sizeof aside, "%s.XXXXXX", path);
    int fd = mkstemp(aside); /* 0600, a name no one else chose */
    if (fd < 0) {
        snprintf(why, why_len, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            goto fail;
        }
        done += (size_t)n;
    }
    if (fchmod(fd, 0600) != 0 || close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(aside, path) != 0) {
        goto fail;
    }
    return 0;
fail:
    snprintf(why, why_len, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0) {
        close(fd);
    }
    unlink(aside);
    return -1;
}

/* The page that sends the browser on to first_url: a refresh, no script
 * (so no Content-Security-Policy of the file itself stands in its way),
 * and a link for a browser that does not follow refreshes. The token is
 * hexadecimal: nothing in the address needs escaping. */
static int write_page(const struct ui_launch *where, const char *first_url, char *why,
                      size_t why_len)
{
    char page[1024];
    int n = snprintf(page, sizeof page,
                     "<!DOCTYPE html>\n"
                     "<html lang=\"zh-CN\">\n"
                     "<head>\n"
                     "<meta charset=\"utf-8\">\n"
                     "<meta name=\"referrer\" content=\"no-referrer\">\n"
                     "<meta http-equiv=\"refresh\" content=\"0;url=%s\">\n"
                     "<title>村调解台账</title>\n"
                     "</head>\n"
                     "<body>\n"
                     "<p><a href=\"%s\">打开村调解台账 (Open the village mediation "
                     "ledger)</a></p>\n"
                     "</body>\n"
                     "</html>\n",
                     first_url, first_url);
    int rc = -1;
    if (n > 0 && (size_t)n < sizeof page) {
        rc = write_private(where->page, page, why, why_len);
    } else {
        snprintf(why, why_len, "the address is too long for %s", where->page);
    }
    sodium_memzero(page, sizeof page);
    return rc;
}

int ui_launch_publish(const struct ui_launch *where, const char *first_url, char *why,
                      size_t why_len)
{
    char line[URL_MAX + 2];
    if (strlen(first_url) > URL_MAX) {
        snprintf(why, why_len, "the address is too long for %s", where->url);
        return -1;
    }
    snprintf(line, sizeof line, "%s\n", first_url);
    /* The page first: whoever finds ui.url finds the page ready. */
    int rc = -1;
    if (make_private_dir(where->dir, why, why_len) == 0 &&
        write_page(where, first_url, why, why_len) == 0) {
        rc = write_private(where->url, line, why, why_len);
    }
    sodium_memzero(line, sizeof line);
    return rc;
}

/* The first line of ui.url into out (at most URL_MAX bytes, no newline).
 * 0, or -1 when there is no such file or it holds more. */
static int read_url_file(const char *path, char out[URL_MAX + 1])
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    char buf[URL_MAX + 2];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        if (len == sizeof buf - 1) {
            break;
        }
    }
    close(fd);
    buf[len] = '\0';
    size_t line = strcspn(buf, "\n");
    int rc = -1;
    if (line <= URL_MAX) {
        memcpy(out, buf, line);
        out[line] = '\0';
        rc = 0;
    }
    sodium_memzero(buf, sizeof buf);
    return rc;
}

void ui_launch_withdraw(const struct ui_launch *where, const char *first_url)
{
    char found[URL_MAX + 1];
    if (read_url_file(where->url, found) == 0 && !strcmp(found, first_url)) {
        unlink(where->url); /* first: the launcher looks for it, not for the page */
        unlink(where->page);
    }
    sodium_memzero(found, sizeof found);
}

pid_t ui_launch_browser(const char *path)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        return 0;
    }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {"xdg-open", (char *)path, NULL};
    pid_t pid = 0;
    if (posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ) != 0) {
        pid = 0;
    }
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

void ui_launch_proof(const char *token, const char *nonce, char out[UI_TOKEN_HEX + 1])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)token, strlen(token));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)nonce, strlen(nonce));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, UI_TOKEN_HEX + 1, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}

/* The port and token of a first address as ui_serve() writes it; 0, or
 * -1 when line is not one. */
static int parse_first_url(const char *line, unsigned *port, char token[UI_TOKEN_HEX + 1])
{
    if (strncmp(line, URL_PREFIX, sizeof URL_PREFIX - 1) != 0) {
        return -1;
    }
    const char *p = line + sizeof URL_PREFIX - 1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(p, &end, 10);
    if (errno || end == p || v == 0 || v > 65535 || strncmp(end, "/?token=", 8) != 0) {
        return -1;
    }
    const char *t = end + 8;
    if (strlen(t) != UI_TOKEN_HEX || strspn(t, "0123456789abcdef") != UI_TOKEN_HEX) {
        return -1;
    }
    *port = (unsigned)v;
    memcpy(token, t, UI_TOKEN_HEX + 1);
    return 0;
}

struct probe_answer {
    char body[UI_TOKEN_HEX + 2];
    size_t len;
};

static size_t on_probe_body(char *data, size_t size, size_t n, void *ctx)
{
    struct probe_answer *a = ctx;
    size_t len = size * n;
    if (a->len + len >= sizeof a->body) {
        return 0; /* longer than a proof: not our server */
    }
    memcpy(a->body + a->len, data, len);
    a->len += len;
    a->body[a->len] = '\0';
    return len;
}

/* 1 when a server on 127.0.0.1:port proves that it knows token. */
static int server_knows(unsigned port, const char *token)
{
    unsigned char bytes[UI_TOKEN_HEX / 2];
    char nonce[UI_TOKEN_HEX + 1], want[UI_TOKEN_HEX + 1], url[160];
    randombytes_buf(bytes, sizeof bytes);
    sodium_bin2hex(nonce, sizeof nonce, bytes, sizeof bytes);
    ui_launch_proof(token, nonce, want);
    snprintf(url, sizeof url, URL_PREFIX "%u/running?nonce=%s", port, nonce);

    struct probe_answer answer;
    memset(&answer, 0, sizeof answer);
    long status = 0;
    CURL *easy = curl_easy_init();
    if (!easy) {
        return 0;
    }
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*"); /* loopback, whatever http_proxy says */
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, PROBE_MAX_S);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, PROBE_MAX_S);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_probe_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer);
    if (curl_easy_perform(easy) == CURLE_OK) {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_easy_cleanup(easy);
    return status == 200 && answer.len == UI_TOKEN_HEX &&
           sodium_memcmp(answer.body, want, UI_TOKEN_HEX) == 0;
}

int ui_open_running(FILE *out, FILE *log)
{
    struct ui_launch where;
    char why[UI_LAUNCH_PATH_MAX + 100], line[URL_MAX + 1], token[UI_TOKEN_HEX + 1];
    unsigned port = 0;
    int rc = UI_E_NOT_RUNNING;
    if (sodium_init() < 0 || ui_launch_paths(&where, why, sizeof why) != 0 ||
        read_url_file(where.url, line) != 0 || parse_first_url(line, &port, token) != 0 ||
        !server_knows(port, token)) {
        goto done;
    }
    /* The page again, in case it went (a cleaned runtime folder). */
    if (write_page(&where, line, why, sizeof why) != 0) {
        fprintf(log, "hamlet ui: %s\n", why);
        goto done;
    }
    fprintf(out, "Hamlet is open at http://127.0.0.1:%u/ (already running)\n", port);
    fflush(out);
    pid_t browser = ui_launch_browser(where.page);
    if (browser <= 0) {
        fprintf(log, "hamlet ui: no xdg-open: open %s in the browser\n", where.page);
    }
    /* xdg-open hands the page over and exits; it is not waited for long. */
    for (int waited = 0; browser > 0 && waited < 50; waited++) {
        if (waitpid(browser, NULL, WNOHANG) != 0) {
            break;
        }
        struct timespec pause = {0, 100000000L};
        nanosleep(&pause, NULL);
    }
    rc = 0;
done:
    sodium_memzero(line, sizeof line);
    sodium_memzero(token, sizeof token);
    return rc;
}
