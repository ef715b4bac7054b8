/* SPDX-License-Identifier: MIT */
/*
 * test_web.c - the review pages' sign-in as a browser meets it: the real
 * `hamlet-hub serve` on loopback over HTTPS (its key pinned), accounts made
 * with `hamlet-hub user add` and the password on stdin, as a township
 * administrator's script would. Each test gets a hub of its own and checks
 * what a reviewer, or someone trying to be one, would notice: the cookie's
 * protections, data refused without a session, changes refused without
 * the CSRF token, sign-out, disabled accounts, the lock after repeated
 * failures, the auth log, the limits, and the security headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agentproc.h"
#include "auth.h"
#include "hubclient.h"
#include "hubproc.h"
#include "web.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#define REVIEWER    "wangfang"
#define REVIEWER_PW "山路十八弯-2026"
#define ADMIN       "王芳"
#define ADMIN_PW    "admin password 1"
#define MAX_HEADERS 8192

struct fixture {
    struct hubproc *hub;
};

/* ---- the administrator's commands ---- */

/* Run `hamlet-hub --db DB args...` with input on its stdin (hubproc_run()
 * gives its commands /dev/null). stdout is dropped. The exit status, or -1. */
static int run_with_stdin(struct hubproc *hub, const char *input, const char *const *args)
{
    char *argv[24];
    size_t n = 0;
    argv[n++] = hub->bin;
    argv[n++] = "--db";
    argv[n++] = hub->db;
    for (size_t i = 0; args[i] && n + 1 < sizeof argv / sizeof argv[0]; i++) {
        argv[n++] = (char *)args[i];
    }
    argv[n] = NULL;
    int fds[2];
    if (pipe(fds) != 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (dup2(fds[0], STDIN_FILENO) < 0 || devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0) {
            _exit(127);
        }
        close(fds[0]);
        close(fds[1]);
        close(devnull);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[0]);
    size_t len = input ? strlen(input) : 0, done = 0;
    while (done < len) {
        ssize_t w = write(fds[1], input + done, len - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break; /* the program stopped reading: its status says why */
        }
        done += (size_t)w;
    }
    close(fds[1]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int user_add(struct fixture *f, const char *name, const char *role, const char *password)
{
    char line[300];
    snprintf(line, sizeof line, "%s\n", password);
    const char *args[] = {"user", "add", name, "--role", role, NULL};
    return run_with_stdin(f->hub, line, args);
}

static long long db_int(struct fixture *f, const char *sql)
{
    long long v = -1;
    if (hubproc_query_int(f->hub, sql, &v) != 0) {
        fail_msg("query failed: %s", sql);
    }
    return v;
}

/* ---- HTTPS as a browser speaks it ---- */

struct reply {
    long status;
    char *body; /* NUL-terminated, or NULL */
    size_t len;
    char headers[MAX_HEADERS]; /* of the final response */
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
    if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
        r->hlen = 0; /* a new response (after a 100 Continue) */
    }
    if (r->hlen + len < sizeof r->headers) {
        memcpy(r->headers + r->hlen, data, len);
        r->hlen += len;
        r->headers[r->hlen] = '\0';
    }
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
            size_t v_len = line_len - (size_t)(v - line);
            snprintf(out, out_len, "%.*s", (int)v_len, v);
            return out;
        }
        line += line_len;
        line += strspn(line, "\r\n");
    }
    return out;
}

/* One request. token (the session cookie), csrf (X-CSRF-Token) and type
 * (Content-Type) may be NULL; chunked sends the body without a length. */
static long request(struct fixture *f, const char *method, const char *path, const char *token,
                    const char *csrf, const char *type, const char *body, int chunked,
                    struct reply *out)
{
    memset(out, 0, sizeof *out);
    struct hubclient_target target = {f->hub->url, f->hub->pin, f->hub->cert, 30};
    char cookie[128], csrf_line[128], type_line[128];
    const char *headers[4];
    size_t n = 0;
    if (token) {
        snprintf(cookie, sizeof cookie, "Cookie: theme=dark; hamlet_session=%s; lang=zh", token);
        headers[n++] = cookie;
    }
    if (csrf) {
        snprintf(csrf_line, sizeof csrf_line, "X-CSRF-Token: %s", csrf);
        headers[n++] = csrf_line;
    }
    if (type) {
        snprintf(type_line, sizeof type_line, "Content-Type: %s", type);
        headers[n++] = type_line;
    }
    headers[n] = NULL;
    struct hubclient_request *req = hubclient_request_new(&target, method, path, headers, body,
                                                          body ? strlen(body) : 0, chunked);
    assert_non_null(req);
    CURL *easy = hubclient_request_easy(req);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, out);
    CURLcode rc = curl_easy_perform(easy);
    struct hubclient_response resp;
    hubclient_request_finish(req, rc, &resp);
    hubclient_request_free(req);
    if (resp.status == 0) {
        fprintf(stderr, "  %s %s: %s\n", method, path, resp.error);
    }
    out->status = resp.status;
    out->body = (char *)resp.body;
    out->len = resp.len;
    return out->status;
}

static long get(struct fixture *f, const char *path, const char *token, struct reply *out)
{
    return request(f, "GET", path, token, NULL, NULL, NULL, 0, out);
}

/* A string field of the JSON body ("" when absent). */
static const char *field(const struct reply *r, const char *name, char *out, size_t out_len)
{
    out[0] = '\0';
    cJSON *doc = r->body ? cJSON_Parse(r->body) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
    if (cJSON_IsString(v)) {
        snprintf(out, out_len, "%s", v->valuestring);
    }
    cJSON_Delete(doc);
    return out;
}

static void assert_error(const struct reply *r, long status, const char *name)
{
    char got[64];
    if (r->status != status || strcmp(field(r, "error", got, sizeof got), name) != 0) {
        fail_msg("expected %ld {\"error\":\"%s\"}, got %ld %s", status, name, r->status,
                 r->body ? r->body : "(no body)");
    }
}

/* The security headers every response of the review pages carries. */
static void assert_security_headers(const struct reply *r)
{
    char v[300];
    assert_string_equal(header(r, "X-Content-Type-Options", v, sizeof v), "nosniff");
    assert_non_null(
        strstr(header(r, "Content-Security-Policy", v, sizeof v), "default-src 'self'"));
    assert_string_equal(header(r, "Referrer-Policy", v, sizeof v), "no-referrer");
    assert_string_equal(header(r, "X-Frame-Options", v, sizeof v), "DENY");
}

struct session {
    char token[AUTH_TOKEN_LEN];
    char csrf[AUTH_TOKEN_LEN];
};

/* POST /api/login; on 200 the session's cookie token and CSRF token. */
static long login(struct fixture *f, const char *name, const char *password, struct session *s,
                  struct reply *out)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "name", name);
    cJSON_AddStringToObject(obj, "password", password);
    char *json = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    assert_non_null(json);
    request(f, "POST", "/api/login", NULL, NULL, "application/json", json, 0, out);
    free(json);
    if (s) {
        memset(s, 0, sizeof *s);
        char cookie[300];
        header(out, "Set-Cookie", cookie, sizeof cookie);
        const char *at = strstr(cookie, "hamlet_session=");
        if (at) {
            snprintf(s->token, sizeof s->token, "%.*s", (int)strcspn(at + 15, ";"), at + 15);
        }
        field(out, "csrf", s->csrf, sizeof s->csrf);
    }
    return out->status;
}

/* Signed in, or the test fails. */
static void login_ok(struct fixture *f, const char *name, const char *password, struct session *s)
{
    struct reply r;
    if (login(f, name, password, s, &r) != 200) {
        fail_msg("login of %s: %ld %s", name, r.status, r.body ? r.body : "");
    }
    reply_clear(&r);
    assert_true(auth_token_valid(s->token));
    assert_true(auth_token_valid(s->csrf));
}

/* ---- fixture ---- */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f || hubproc_new(NULL, &f->hub) != 0 || hubproc_start(f->hub) != 0) {
        if (f) {
            hubproc_free(f->hub);
        }
        free(f);
        return -1;
    }
    if (user_add(f, REVIEWER, "reviewer", REVIEWER_PW) != 0 ||
        user_add(f, ADMIN, "admin", ADMIN_PW) != 0) {
        fprintf(stderr, "  user add failed\n");
        hubproc_free(f->hub);
        free(f);
        return -1;
    }
    printf("  hub: %s in %s\n", f->hub->url, f->hub->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int status = hubproc_stop(f->hub);
    if (status != 0) {
        fprintf(stderr, "  the hub did not stop cleanly on SIGTERM (status %d)\n", status);
    }
    hubproc_free(f->hub);
    free(f);
    return status == 0 ? 0 : -1;
}

/* ---- tests ---- */

static void test_user_command(void **state)
{
    struct fixture *f = *state;
    /* Refusals: a short password, a taken name, a bad role, no password. */
    assert_int_equal(user_add(f, "chen", "reviewer", "short"), 1);
    assert_int_equal(user_add(f, REVIEWER, "reviewer", "a long enough one"), 1);
    const char *bad_role[] = {"user", "add", "chen", "--role", "boss", NULL};
    assert_int_equal(run_with_stdin(f->hub, "a long enough one\n", bad_role), 2);
    const char *no_role[] = {"user", "add", "chen", NULL};
    assert_int_equal(run_with_stdin(f->hub, "a long enough one\n", no_role), 2);
    const char *add[] = {"user", "add", "chen", "--role", "reviewer", NULL};
    assert_int_equal(run_with_stdin(f->hub, "", add), 1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM users"), 2);
    /* Only Argon2id hashes are kept. */
    assert_int_equal(db_int(f, "SELECT count(*) FROM users WHERE pw_hash LIKE '$argon2id$%'"
                               " AND instr(pw_hash, 'admin password') = 0"),
                     2);

    const char *list[] = {"user", "list", NULL};
    char *out = NULL;
    assert_int_equal(hubproc_run(f->hub, list, &out, NULL), 0);
    assert_non_null(strstr(out, REVIEWER));
    assert_non_null(strstr(out, ADMIN));
    assert_null(strstr(out, "disabled"));
    free(out);

    const char *disable[] = {"user", "disable", REVIEWER, NULL};
    assert_int_equal(hubproc_run(f->hub, disable, NULL, NULL), 0);
    const char *disable_nobody[] = {"user", "disable", "nobody", NULL};
    assert_int_equal(hubproc_run(f->hub, disable_nobody, NULL, NULL), 1);
    assert_int_equal(hubproc_run(f->hub, list, &out, NULL), 0);
    assert_non_null(strstr(out, "disabled"));
    free(out);
    const char *help[] = {"user", "--help", NULL};
    assert_int_equal(hubproc_run(f->hub, help, &out, NULL), 0);
    assert_non_null(strstr(out, "user add NAME --role reviewer|admin"));
    free(out);
}

static void test_login_page(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    char v[300];
    /* The review pages and the sign-in page; the first sends a browser
     * without a session to the second, from its script. */
    const char *pages[][2] = {{"/", "/assets/app.js"}, {"/login", "/assets/login.js"}};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(get(f, pages[i][0], NULL, &r), 200);
        assert_true(strncmp(header(&r, "Content-Type", v, sizeof v), "text/html", 9) == 0);
        assert_non_null(strstr(r.body, "<html lang=\"zh-CN\">"));
        assert_non_null(strstr(r.body, pages[i][1]));
        assert_security_headers(&r);
        assert_string_equal(header(&r, "Set-Cookie", v, sizeof v), "");
        reply_clear(&r);
    }
    /* The page's files are served as built from web/, byte for byte. */
    const char *files[][2] = {{"common.js", "text/javascript"},
                              {"login.js", "text/javascript"},
                              {"login.css", "text/css"},
                              {"app.js", "text/javascript"},
                              {"app.css", "text/css"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[64], local[64];
        snprintf(path, sizeof path, "/assets/%s", files[i][0]);
        snprintf(local, sizeof local, "web/%s", files[i][0]);
        assert_int_equal(get(f, path, NULL, &r), 200);
        assert_true(
            !strncmp(header(&r, "Content-Type", v, sizeof v), files[i][1], strlen(files[i][1])));
        assert_security_headers(&r);
        FILE *file = fopen(local, "rb");
        assert_non_null(file);
        char *want = calloc(1, r.len + 2);
        assert_non_null(want);
        assert_int_equal(fread(want, 1, r.len + 1, file), r.len);
        fclose(file);
        assert_memory_equal(want, r.body, r.len);
        free(want);
        reply_clear(&r);
    }
    assert_int_equal(get(f, "/assets/nothing.js", NULL, &r), 404);
    assert_security_headers(&r);
    reply_clear(&r);
    assert_int_equal(request(f, "POST", "/login", NULL, NULL, NULL, "x", 0, &r), 405);
    reply_clear(&r);
    /* The devices' endpoints are where they were. */
    struct hubclient_target target = {f->hub->url, f->hub->pin, f->hub->cert, 30};
    assert_int_equal(hubclient_health(&target), 200);
}

static void test_session_required(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    char v[300];
    char made_up[AUTH_TOKEN_LEN];
    assert_int_equal(auth_token_new(made_up), 0);
    const char *data[] = {"/api/me", "/api/villages"};
    for (size_t i = 0; i < 2; i++) {
        get(f, data[i], NULL, &r);
        assert_error(&r, 401, "session");
        assert_security_headers(&r);
        assert_string_equal(header(&r, "Cache-Control", v, sizeof v), "no-store");
        reply_clear(&r);
        get(f, data[i], made_up, &r);
        assert_error(&r, 401, "session");
        reply_clear(&r);
        get(f, data[i], "not-a-token", &r);
        assert_error(&r, 401, "session");
        reply_clear(&r);
    }

    struct session s;
    assert_int_equal(login(f, REVIEWER, REVIEWER_PW, &s, &r), 200);
    header(&r, "Set-Cookie", v, sizeof v);
    assert_true(!strncmp(v, "hamlet_session=", 15));
    assert_non_null(strstr(v, "; HttpOnly"));
    assert_non_null(strstr(v, "; Secure"));
    assert_non_null(strstr(v, "; SameSite=Strict"));
    assert_non_null(strstr(v, "; Path=/"));
    assert_non_null(strstr(v, "; Max-Age=604800"));
    assert_true(auth_token_valid(s.token));
    assert_true(auth_token_valid(s.csrf));
    assert_string_equal(field(&r, "user", v, sizeof v), REVIEWER);
    assert_string_equal(field(&r, "role", v, sizeof v), "reviewer");
    assert_string_equal(header(&r, "Cache-Control", v, sizeof v), "no-store");
    assert_security_headers(&r);
    reply_clear(&r);

    assert_int_equal(get(f, "/api/me", s.token, &r), 200);
    assert_string_equal(field(&r, "user", v, sizeof v), REVIEWER);
    assert_string_equal(field(&r, "csrf", v, sizeof v), s.csrf);
    assert_security_headers(&r);
    reply_clear(&r);

    assert_int_equal(hubproc_village_add(f->hub, "yangliu"), 0);
    char code[HUBPROC_CODE_MAX];
    assert_int_equal(hubproc_device_add(f->hub, "yangliu", code, sizeof code), 0);
    assert_int_equal(get(f, "/api/villages", s.token, &r), 200);
    cJSON *doc = cJSON_Parse(r.body);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "villages");
    assert_int_equal(cJSON_GetArraySize(list), 1);
    const cJSON *village = cJSON_GetArrayItem(list, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(village, "code")->valuestring, "yangliu");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(village, "devices")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(village, "cases")->valueint, 0);
    cJSON_Delete(doc);
    reply_clear(&r);

    /* The sign-in is logged with where it came from; the hub keeps the
     * session's hash, not its token. */
    assert_int_equal(db_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'login_ok'"
                               " AND user = 'wangfang' AND remote = '127.0.0.1'"),
                     1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM sessions WHERE length(token_hash) = 32"), 1);
}

/* Every endpoint of the review pages: without a session 401; a change
 * without the CSRF token 403, with someone else's 403; managing devices
 * as a reviewer 403. Nothing refused leaves a trace in the ledger. */
static void test_every_endpoint_guarded(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *method, *path;
        int admin;
    } endpoints[] = {
        {"GET", "/api/me", 0},
        {"GET", "/api/villages", 0},
        {"GET", "/api/vocabulary", 0},
        {"GET", "/api/cases", 0},
        {"GET", "/api/case?id=x", 0},
        {"POST", "/api/case/reveal", 0},
        {"POST", "/api/case/deadline", 0},
        {"POST", "/api/case/level", 0},
        {"POST", "/api/case/correction", 0},
        {"POST", "/api/case/mediator", 0},
        {"GET", "/api/conflicts", 0},
        {"POST", "/api/conflicts/resolve", 0},
        {"GET", "/api/list?which=overdue", 0},
        {"GET", "/api/report?year=2024", 0},
        {"GET", "/api/report.csv?year=2024", 0},
        {"GET", "/api/devices", 0},
        {"POST", "/api/devices/add", 1},
        {"POST", "/api/devices/revoke", 1},
        {"POST", "/api/logout", 0},
    };
    static const char body[] = "{\"id\":\"x\",\"village\":\"yangliu\"}";
    struct reply r;
    struct session reviewer, admin;
    login_ok(f, REVIEWER, REVIEWER_PW, &reviewer);
    login_ok(f, ADMIN, ADMIN_PW, &admin);
    long long events = db_int(f, "SELECT count(*) FROM events");
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
        const char *m = endpoints[i].method, *p = endpoints[i].path;
        int post = m[0] == 'P';
        request(f, m, p, NULL, NULL, post ? "application/json" : NULL, post ? body : NULL, 0, &r);
        if (r.status != 401) {
            fail_msg("%s %s without a session: %ld", m, p, r.status);
        }
        assert_error(&r, 401, "session");
        assert_security_headers(&r);
        reply_clear(&r);
        if (!post) {
            continue;
        }
        request(f, m, p, reviewer.token, NULL, "application/json", body, 0, &r);
        assert_error(&r, 403, "csrf");
        reply_clear(&r);
        request(f, m, p, reviewer.token, admin.csrf, "application/json", body, 0, &r);
        assert_error(&r, 403, "csrf");
        reply_clear(&r);
        if (endpoints[i].admin) {
            request(f, m, p, reviewer.token, reviewer.csrf, "application/json", body, 0, &r);
            assert_error(&r, 403, "role");
            reply_clear(&r);
        }
    }
    assert_int_equal(db_int(f, "SELECT count(*) FROM events"), events);
    assert_int_equal(db_int(f, "SELECT count(*) FROM devices"), 0);
    /* Both sessions live on: nothing above signed anyone out. */
    assert_int_equal(get(f, "/api/me", reviewer.token, &r), 200);
    reply_clear(&r);
    assert_int_equal(get(f, "/api/me", admin.token, &r), 200);
    reply_clear(&r);
}

/* POST path with body (JSON) in a's session; the status. */
static long post(struct fixture *f, const struct session *a, const char *path, const char *body,
                 struct reply *out)
{
    return request(f, "POST", path, a->token, a->csrf, "application/json", body, 0, out);
}

/* The id of the first case of the ledger page (?per=1), or the test fails. */
static void first_case(struct fixture *f, const struct session *a, char *id, size_t len)
{
    struct reply r;
    assert_int_equal(get(f, "/api/cases?per=1", a->token, &r), 200);
    cJSON *doc = cJSON_Parse(r.body);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "cases"), 0);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "id");
    assert_true(cJSON_IsString(v));
    snprintf(id, len, "%s", v->valuestring);
    cJSON_Delete(doc);
    reply_clear(&r);
}

/* The review pages' data and decisions on a real ledger: a laptop's cases
 * arrive by sync; every filter and every decision's input is checked at
 * its limit, a refused one changes nothing, and a decision is logged. */
static void test_review_limits(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    struct session s;
    char dir[AGENTPROC_PATH_MAX - 80], code[HUBPROC_CODE_MAX], data[512], id[64], body[9000];
    const char *env = getenv("HAMLET_DATA");
    snprintf(data, sizeof data, "%s/cases-200.jsonl", env && env[0] ? env : "../shared/data");
    assert_int_equal(agentproc_tmpdir("hamlet-web", dir, sizeof dir), 0);
    struct agentproc *laptop;
    assert_int_equal(agentproc_new(dir, "a1", &laptop), 0);
    /* The village's code is its name: the data's cases name 白沙村. */
    assert_int_equal(hubproc_village_add(f->hub, "白沙村"), 0);
    assert_int_equal(hubproc_device_add(f->hub, "白沙村", code, sizeof code), 0);
    struct agentproc_result res;
    const char *init[] = {"init", "--village", "白沙村", NULL};
    const char *enroll[] = {"enroll", code, NULL};
    const char *import[] = {"import", data, NULL};
    const char *sync[] = {"sync", NULL};
    const char *const *steps[] = {init, enroll, import, sync};
    for (size_t i = 0; i < 4; i++) {
        if (agentproc_run(laptop, steps[i], &res) != 0 || res.status != 0) {
            fail_msg("hamlet %s: %s", steps[i][0], res.err);
        }
        agentproc_result_clear(&res);
    }
    login_ok(f, REVIEWER, REVIEWER_PW, &s);
    first_case(f, &s, id, sizeof id);

    /* Filters out of range: 400, each with its reason. */
    const char *bad_get[] = {"/api/cases?per=201",
                             "/api/cases?per=0",
                             "/api/cases?page=0",
                             "/api/cases?page=100001",
                             "/api/cases?class=4",
                             "/api/cases?level=8",
                             "/api/cases?overdue=yes",
                             "/api/cases?dir=up",
                             "/api/cases?sort=colour",
                             "/api/list?which=someday",
                             "/api/list?which=due&days=3651",
                             "/api/report?month=2024-13",
                             "/api/report?year=24",
                             "/api/report?month=2024-01&year=2024",
                             "/api/report.csv",
                             "/api/case",
                             "/api/conflicts?all=2"};
    for (size_t i = 0; i < sizeof bad_get / sizeof bad_get[0]; i++) {
        get(f, bad_get[i], s.token, &r);
        if (r.status != 400) {
            fail_msg("GET %s: expected 400, got %ld %s", bad_get[i], r.status, r.body);
        }
        assert_error(&r, 400, "bad_request");
        reply_clear(&r);
    }
    char q[256] = "/api/cases?q=";
    memset(q + strlen(q), 'a', 201);
    get(f, q, s.token, &r);
    assert_error(&r, 400, "bad_request");
    reply_clear(&r);
    get(f, "/api/case?id=0190aaaa-0000-7000-8000-000000000000", s.token, &r);
    assert_error(&r, 404, "not_found");
    reply_clear(&r);

    /* Decisions with bad input: refused, nothing written. */
    long long events = db_int(f, "SELECT count(*) FROM events");
    /* Each body is its first part, the case's id, then its second part. */
    static const char *const bad_post[][3] = {
        {"/api/case/level", "{\"id\":\"", "\",\"level\":0}"},
        {"/api/case/level", "{\"id\":\"", "\",\"level\":8}"},
        {"/api/case/level", "{\"id\":\"", "\",\"level\":\"3\"}"},
        {"/api/case/level", "{\"id\":\"", "\",\"level\":2.5}"},
        {"/api/case/deadline", "{\"id\":\"", "\",\"date\":\"2025-02-30\"}"},
        {"/api/case/deadline", "{\"id\":\"", "\",\"date\":20250201}"},
        {"/api/case/correction", "{\"id\":\"", "\",\"comment\":\"\"}"},
        {"/api/case/mediator", "{\"id\":\"", "\"}"},
        {"/api/conflicts/resolve", "{\"choice\":\"both\",\"x\":\"", "\",\"id\":1}"},
        {"/api/conflicts/resolve", "{\"choice\":\"value\",\"x\":\"", "\",\"id\":1}"},
        {"/api/case/reveal", "{\"case\":\"", "\"}"},
        {"/api/case/level", "[\"", "\"]"},
    };
    for (size_t i = 0; i < sizeof bad_post / sizeof bad_post[0]; i++) {
        snprintf(body, sizeof body, "%s%s%s", bad_post[i][1], id, bad_post[i][2]);
        post(f, &s, bad_post[i][0], body, &r);
        if (r.status != 400) {
            fail_msg("POST %s %s: expected 400, got %ld %s", bad_post[i][0], body, r.status,
                     r.body);
        }
        reply_clear(&r);
    }
    request(f, "POST", "/api/case/level", s.token, s.csrf, "text/plain", "{}", 0, &r);
    assert_int_equal(r.status, 415);
    reply_clear(&r);
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"level\":3}", "0190aaaa-0000-7000-8000-0000");
    post(f, &s, "/api/case/level", body, &r);
    assert_error(&r, 404, "not_found");
    reply_clear(&r);
    post(f, &s, "/api/conflicts/resolve", "{\"id\":999,\"choice\":\"standing\"}", &r);
    assert_error(&r, 404, "not_found");
    reply_clear(&r);

    /* A correction at its limit of 1,000 characters (3,000 bytes of
     * Chinese) is taken; one character more is refused by the rules. */
    size_t n = (size_t)snprintf(body, sizeof body, "{\"id\":\"%s\",\"comment\":\"", id);
    for (int i = 0; i < 1000; i++) {
        n += (size_t)snprintf(body + n, sizeof body - n, "改");
    }
    snprintf(body + n, sizeof body - n, "\"}");
    assert_int_equal(post(f, &s, "/api/case/correction", body, &r), 200);
    reply_clear(&r);
    snprintf(body + n, sizeof body - n, "改\"}");
    post(f, &s, "/api/case/correction", body, &r);
    assert_error(&r, 422, "refused");
    reply_clear(&r);
    assert_int_equal(db_int(f, "SELECT count(*) FROM events"), events + 1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'decision'"
                               " AND user = 'wangfang' AND message LIKE 'correction: case %'"
                               " AND remote = '127.0.0.1'"),
                     1);

    /* The same level twice: the second is refused by the rules, with why. */
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"level\":3}", id);
    assert_int_equal(post(f, &s, "/api/case/level", body, &r), 200);
    reply_clear(&r);
    post(f, &s, "/api/case/level", body, &r);
    assert_error(&r, 422, "refused");
    reply_clear(&r);
    assert_int_equal(db_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'decision'"),
                     2); /* the refused ones are not decisions */

    agentproc_free(laptop);
    agentproc_rmdir(dir);
}

static void test_csrf_and_logout(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    char v[300];
    struct session a, b;

    /* Without a session, the session is what is missing. */
    request(f, "POST", "/api/logout", NULL, NULL, NULL, NULL, 0, &r);
    assert_error(&r, 401, "session");
    reply_clear(&r);

    login_ok(f, REVIEWER, REVIEWER_PW, &a);
    login_ok(f, ADMIN, ADMIN_PW, &b);
    char wrong[AUTH_TOKEN_LEN];
    assert_int_equal(auth_token_new(wrong), 0);
    const char *bad[] = {NULL, wrong, b.csrf, a.token, "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        request(f, "POST", "/api/logout", a.token, bad[i], NULL, NULL, 0, &r);
        assert_error(&r, 403, "csrf");
        assert_security_headers(&r);
        reply_clear(&r);
    }
    /* Refused changes changed nothing. */
    assert_int_equal(get(f, "/api/me", a.token, &r), 200);
    reply_clear(&r);

    assert_int_equal(request(f, "POST", "/api/logout", a.token, a.csrf, NULL, NULL, 0, &r), 200);
    header(&r, "Set-Cookie", v, sizeof v);
    assert_true(!strncmp(v, "hamlet_session=;", 16));
    assert_non_null(strstr(v, "Max-Age=0"));
    reply_clear(&r);
    get(f, "/api/me", a.token, &r);
    assert_error(&r, 401, "session");
    reply_clear(&r);
    request(f, "POST", "/api/logout", a.token, a.csrf, NULL, NULL, 0, &r);
    assert_error(&r, 401, "session");
    reply_clear(&r);

    /* The other session goes on. */
    assert_int_equal(get(f, "/api/me", b.token, &r), 200);
    assert_string_equal(field(&r, "user", v, sizeof v), ADMIN);
    assert_string_equal(field(&r, "role", v, sizeof v), "admin");
    reply_clear(&r);
    assert_int_equal(db_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'logout'"
                               " AND user = 'wangfang'"),
                     1);
}

static void test_disabled_user(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    struct session s, admin;
    login_ok(f, REVIEWER, REVIEWER_PW, &s);
    login_ok(f, ADMIN, ADMIN_PW, &admin);
    const char *disable[] = {"user", "disable", REVIEWER, NULL};
    assert_int_equal(hubproc_run(f->hub, disable, NULL, NULL), 0);

    /* The open session stops working at once... */
    get(f, "/api/me", s.token, &r);
    assert_error(&r, 401, "session");
    reply_clear(&r);
    /* ...and the right password gets no new one. */
    login(f, REVIEWER, REVIEWER_PW, NULL, &r);
    assert_error(&r, 403, "disabled");
    char v[300];
    assert_string_equal(header(&r, "Set-Cookie", v, sizeof v), "");
    reply_clear(&r);
    login(f, REVIEWER, "not the password", NULL, &r);
    assert_error(&r, 401, "auth");
    reply_clear(&r);

    assert_int_equal(get(f, "/api/me", admin.token, &r), 200);
    reply_clear(&r);
    assert_int_equal(db_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'disabled'"
                               " AND user = 'wangfang'"),
                     1);
}

static void test_lockout(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    char v[300];
    for (int i = 0; i < 5; i++) {
        login(f, REVIEWER, "a wrong guess", NULL, &r);
        assert_error(&r, 401, "auth");
        reply_clear(&r);
    }
    /* Locked: the right password too is refused, with the wait. */
    login(f, REVIEWER, REVIEWER_PW, NULL, &r);
    assert_error(&r, 429, "locked");
    assert_string_equal(header(&r, "Set-Cookie", v, sizeof v), "");
    long retry = strtol(header(&r, "Retry-After", v, sizeof v), NULL, 10);
    if (retry < 1 || retry > 30) {
        fail_msg("Retry-After: \"%s\"", v);
    }
    assert_security_headers(&r);
    reply_clear(&r);
    login(f, REVIEWER, REVIEWER_PW, NULL, &r);
    assert_error(&r, 429, "locked");
    reply_clear(&r);

    /* An unknown name is refused like a wrong password; other accounts
     * are not locked. */
    login(f, "nobody", REVIEWER_PW, NULL, &r);
    assert_error(&r, 401, "auth");
    reply_clear(&r);
    struct session s;
    login_ok(f, ADMIN, ADMIN_PW, &s);

    assert_int_equal(db_int(f, "SELECT failures FROM users WHERE name = 'wangfang'"), 5);
    assert_int_equal(db_int(f, "SELECT count(*) FROM users WHERE name = 'wangfang'"
                               " AND locked_until_ms > 0"),
                     1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM auth_log WHERE user = 'wangfang'"
                               " AND kind = 'login_failed' AND remote = '127.0.0.1'"),
                     5);
    /* The lock as it began, and the two refusals while it held. */
    assert_int_equal(db_int(f, "SELECT count(*) FROM auth_log WHERE user = 'wangfang'"
                               " AND kind = 'locked'"),
                     3);
    assert_int_equal(db_int(f, "SELECT count(*) FROM auth_log WHERE user = 'wangfang'"
                               " AND kind = 'login_ok'"),
                     0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM auth_log WHERE user = 'nobody'"
                               " AND kind = 'login_failed'"),
                     1);
}

static void test_limits(void **state)
{
    struct fixture *f = *state;
    struct reply r;
    char big[WEB_MAX_BODY + 1001];
    memset(big, ' ', sizeof big - 1);
    big[0] = '{';
    big[sizeof big - 2] = '}';
    big[sizeof big - 1] = '\0';
    request(f, "POST", "/api/login", NULL, NULL, "application/json", big, 0, &r);
    assert_error(&r, 413, "too_big");
    assert_security_headers(&r);
    reply_clear(&r);
    request(f, "POST", "/api/login", NULL, NULL, "application/json", big, 1, &r); /* no length */
    assert_error(&r, 413, "too_big");
    reply_clear(&r);

    const char *json = "{\"name\":\"wangfang\",\"password\":\"山路十八弯-2026\"}";
    request(f, "POST", "/api/login", NULL, NULL, "text/plain", json, 0, &r);
    assert_error(&r, 415, "content_type");
    reply_clear(&r);
    request(f, "POST", "/api/login", NULL, NULL, NULL, json, 0, &r); /* a form's type */
    assert_error(&r, 415, "content_type");
    reply_clear(&r);
    request(f, "POST", "/api/login", NULL, NULL, "application/json", "{", 0, &r);
    assert_error(&r, 400, "bad_request");
    reply_clear(&r);
    request(f, "POST", "/api/login", NULL, NULL, "application/json",
            "{\"name\":\"wangfang\",\"password\":12345678}", 0, &r);
    assert_error(&r, 400, "bad_request");
    reply_clear(&r);
    get(f, "/api/login", NULL, &r);
    assert_error(&r, 405, "method");
    reply_clear(&r);
    request(f, "POST", "/api/me", NULL, NULL, NULL, NULL, 0, &r);
    assert_error(&r, 405, "method");
    reply_clear(&r);
    get(f, "/api/nothing", NULL, &r);
    assert_error(&r, 404, "not_found");
    reply_clear(&r);
    /* None of it was a sign-in attempt. */
    assert_int_equal(db_int(f, "SELECT count(*) FROM auth_log WHERE kind LIKE 'login%'"), 0);

    /* The JSON type with a charset is fine. */
    request(f, "POST", "/api/login", NULL, NULL, "application/json; charset=utf-8", json, 0, &r);
    assert_int_equal(r.status, 200);
    reply_clear(&r);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (hubclient_global_init() != 0) {
        fprintf(stderr, "test_web: libcurl would not start\n");
        return 1;
    }
    const char *filter = getenv("HAMLET_TEST_FILTER");
    if (filter && filter[0]) {
        cmocka_set_test_filter(filter);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_user_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_endpoint_guarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_review_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf_and_logout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    hubclient_global_cleanup();
    return failed ? 1 : 0;
}
