/* SPDX-License-Identifier: MIT */
/*
 * test_cert.c - unit tests for the hub's certificate module (hub/cert.h).
 * Each test makes its own pair in a fresh temporary directory. Where the
 * openssl command is installed, an independent implementation checks what
 * GnuTLS wrote: the pin, the names and extensions, the validity, and a real
 * TLS handshake with `openssl s_server` serving the pair on loopback.
 */
#define _XOPEN_SOURCE 700 /* nftw() */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cert.h"
#include "hub_error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#define WHY_LEN  512
#define OUT_MAX  65536
#define PATH_LEN 512

struct pair {
    char dir[64];  /* the mkdtemp directory, removed afterwards */
    char sub[128]; /* dir/tls: made by cert_generate */
    char crt[192];
    char key[192];
    char pin[CERT_PIN_LEN];
};

static int have_openssl(void)
{
    static int known = -1;

    if (known < 0) {
        known = system("openssl version >/dev/null 2>&1") == 0;
        if (!known) {
            print_message("openssl not found: skipping the independent checks\n");
        }
    }
    return known;
}

/* Runs cmd through the shell and returns its output (stdout and whatever
 * cmd redirects), NUL-terminated; the caller frees it. */
static char *run(const char *cmd)
{
    char *out = calloc(1, OUT_MAX);
    size_t used = 0;
    FILE *pipe;

    assert_non_null(out);
    pipe = popen(cmd, "r");
    assert_non_null(pipe);
    while (used < OUT_MAX - 1) {
        size_t n = fread(out + used, 1, OUT_MAX - 1 - used, pipe);

        if (n == 0) {
            break;
        }
        used += n;
    }
    (void)pclose(pipe);
    return out;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, OUT_MAX);

    assert_non_null(f);
    assert_non_null(buf);
    *len = fread(buf, 1, OUT_MAX - 1, f);
    (void)fclose(f);
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir)
{
    (void)nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes a pair for name in a new directory dir/tls and checks the call. */
static void make_pair(struct pair *p, const char *name, int days)
{
    char why[WHY_LEN] = "untouched";

    snprintf(p->dir, sizeof p->dir, "/tmp/hamlet-cert-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    snprintf(p->sub, sizeof p->sub, "%s/tls", p->dir);
    snprintf(p->crt, sizeof p->crt, "%s/hub.crt", p->sub);
    snprintf(p->key, sizeof p->key, "%s/hub.key", p->sub);
    int rc = cert_generate(p->sub, name, days, p->pin, sizeof p->pin, why, sizeof why);
    if (rc != 0) {
        fail_msg("cert_generate: %d: %s", rc, why);
    }
    assert_string_equal(why, "");
}

static mode_t mode_of(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    return st.st_mode & 07777;
}

/* The text form of the certificate, as openssl prints it. */
static char *crt_text(const struct pair *p)
{
    char cmd[PATH_LEN + 64];

    snprintf(cmd, sizeof cmd, "openssl x509 -in %s -noout -text 2>&1", p->crt);
    return run(cmd);
}

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL) {
        fail_msg("\"%s\" not found in:\n%s", part, text);
    }
}

static void test_generate_writes_pair(void **state)
{
    struct pair p;
    struct stat st;

    (void)state;
    make_pair(&p, "hub.example.org", 0);
    assert_int_equal(mode_of(p.crt), 0644);
    assert_int_equal(mode_of(p.key), 0600);
    assert_int_equal(stat(p.sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    /* "sha256//" and 44 base64 characters ending in one '=' (32 bytes). */
    assert_int_equal(strncmp(p.pin, "sha256//", 8), 0);
    assert_int_equal(strlen(p.pin), 8 + 44);
    assert_int_equal(p.pin[8 + 43], '=');
    assert_int_equal(strspn(p.pin + 8, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789+/"),
                     43);

    size_t len;
    char *pem = read_all(p.crt, &len);
    assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));
    free(pem);
    pem = read_all(p.key, &len);
    assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    free(pem);

    /* No temporary files are left behind. */
    char cmd[PATH_LEN + 32];
    snprintf(cmd, sizeof cmd, "ls -A %s", p.sub);
    char *listing = run(cmd);
    assert_string_equal(listing, "hub.crt\nhub.key\n");
    free(listing);
    remove_tree(p.dir);
}

static void test_generate_refuses_existing(void **state)
{
    struct pair p;
    char pin[CERT_PIN_LEN] = "";
    char why[WHY_LEN] = "";
    size_t crt_len, key_len, len;

    (void)state;
    make_pair(&p, "hub.example.org", 0);
    char *crt = read_all(p.crt, &crt_len);
    char *key = read_all(p.key, &key_len);

    assert_int_equal(cert_generate(p.sub, "hub.example.org", 0, pin, sizeof pin, why, sizeof why),
                     HUB_E_EXISTS);
    assert_non_null(strstr(why, "exists"));
    assert_string_equal(pin, "");

    /* The same directory with a trailing slash, named with one slash. */
    char slashed[PATH_LEN];
    snprintf(slashed, sizeof slashed, "%s/", p.sub);
    assert_int_equal(cert_generate(slashed, NULL, 0, pin, sizeof pin, why, sizeof why),
                     HUB_E_EXISTS);
    assert_non_null(strstr(why, p.key));

    char *again = read_all(p.crt, &len);
    assert_int_equal(len, crt_len);
    assert_memory_equal(again, crt, len);
    free(again);
    again = read_all(p.key, &len);
    assert_int_equal(len, key_len);
    assert_memory_equal(again, key, len);
    free(again);
    assert_int_equal(mode_of(p.key), 0600);

    /* A key alone is enough to refuse, and no certificate appears. */
    assert_int_equal(unlink(p.crt), 0);
    why[0] = '\0';
    assert_int_equal(cert_generate(p.sub, NULL, 0, pin, sizeof pin, why, sizeof why), HUB_E_EXISTS);
    assert_int_not_equal(why[0], '\0');
    assert_int_equal(access(p.crt, F_OK), -1);
    again = read_all(p.key, &len);
    assert_int_equal(len, key_len);
    assert_memory_equal(again, key, len);
    free(again);

    /* And a certificate alone. */
    assert_int_equal(rename(p.key, p.crt), 0);
    assert_int_equal(cert_generate(p.sub, NULL, 0, pin, sizeof pin, why, sizeof why), HUB_E_EXISTS);
    assert_int_equal(access(p.key, F_OK), -1);

    free(crt);
    free(key);
    remove_tree(p.dir);
}

static void test_pin_file(void **state)
{
    struct pair p;
    char pin[CERT_PIN_LEN];
    char why[WHY_LEN];

    (void)state;
    make_pair(&p, "hub.example.org", 0);
    assert_int_equal(cert_pin_file(p.crt, pin, sizeof pin, why, sizeof why), 0);
    assert_string_equal(pin, p.pin);

    /* Two pairs never share a pin. */
    struct pair q;
    make_pair(&q, "hub.example.org", 0);
    assert_string_not_equal(p.pin, q.pin);

    if (have_openssl()) {
        char cmd[PATH_LEN + 200];
        snprintf(cmd, sizeof cmd,
                 "openssl x509 -in %s -pubkey -noout | openssl pkey -pubin -outform der "
                 "| openssl dgst -sha256 -binary | base64",
                 p.crt);
        char *b64 = run(cmd);
        char *nl = strchr(b64, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }
        assert_string_equal(p.pin + 8, b64);
        free(b64);
    }
    remove_tree(p.dir);
    remove_tree(q.dir);
}

static void test_pin_file_errors(void **state)
{
    char dir[] = "/tmp/hamlet-cert-XXXXXX";
    char path[PATH_LEN];
    char pin[CERT_PIN_LEN] = "";
    char why[WHY_LEN] = "";

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/missing.crt", dir);
    assert_int_equal(cert_pin_file(path, pin, sizeof pin, why, sizeof why), HUB_E_IO);
    assert_non_null(strstr(why, path));
    assert_non_null(strstr(why, strerror(ENOENT)));
    assert_string_equal(pin, "");

    snprintf(path, sizeof path, "%s/notes.txt", dir);
    write_text(path, "this is not a certificate\n");
    why[0] = '\0';
    assert_int_equal(cert_pin_file(path, pin, sizeof pin, why, sizeof why), HUB_E_TLS);
    assert_non_null(strstr(why, path));

    /* A directory is unreadable as a file. */
    why[0] = '\0';
    assert_int_equal(cert_pin_file(dir, pin, sizeof pin, why, sizeof why), HUB_E_IO);
    assert_int_not_equal(why[0], '\0');

    /* Too small a buffer for the pin. */
    assert_int_equal(cert_pin_file(path, pin, 20, why, sizeof why), HUB_E_ARG);
    remove_tree(dir);
}

static void test_names(void **state)
{
    struct pair p;

    (void)state;
    if (!have_openssl()) {
        skip();
    }
    make_pair(&p, "hub.example.org", 0);
    char *text = crt_text(&p);
    assert_contains(text, "DNS:hub.example.org");
    assert_contains(text, "CN = hub.example.org");
    assert_contains(text, "Version: 3");
    assert_contains(text, "prime256v1");
    assert_contains(text, "ecdsa-with-SHA256");
    assert_contains(text, "CA:FALSE");
    assert_contains(text, "Digital Signature");
    assert_contains(text, "TLS Web Server Authentication");
    assert_contains(text, "X509v3 Subject Key Identifier");
    assert_null(strstr(text, "IP Address:"));
    free(text);
    remove_tree(p.dir);

    make_pair(&p, "192.0.2.7", 0);
    text = crt_text(&p);
    assert_contains(text, "IP Address:192.0.2.7");
    assert_contains(text, "CN = 192.0.2.7");
    assert_null(strstr(text, "DNS:"));
    free(text);
    remove_tree(p.dir);

    make_pair(&p, "2001:db8::7", 0);
    text = crt_text(&p);
    assert_contains(text, "IP Address:2001:DB8:0:0:0:0:0:7");
    free(text);
    remove_tree(p.dir);

    make_pair(&p, NULL, 0); /* localhost */
    text = crt_text(&p);
    assert_contains(text, "DNS:localhost");
    assert_contains(text, "IP Address:127.0.0.1");
    assert_contains(text, "IP Address:0:0:0:0:0:0:0:1");
    free(text);
    remove_tree(p.dir);
}

/* Whether openssl says the certificate is still valid in `seconds`. */
static int valid_in(const struct pair *p, long seconds)
{
    char cmd[PATH_LEN + 80];

    snprintf(cmd, sizeof cmd, "openssl x509 -in %s -noout -checkend %ld >/dev/null 2>&1", p->crt,
             seconds);
    return system(cmd) == 0;
}

static void test_validity(void **state)
{
    struct pair p;

    (void)state;
    if (!have_openssl()) {
        skip();
    }
    make_pair(&p, "hub.example.org", 10);
    assert_true(valid_in(&p, 9L * 86400));
    assert_false(valid_in(&p, 11L * 86400));
    /* Already valid: notBefore lies in the past. */
    char cmd[PATH_LEN + 64];
    snprintf(cmd, sizeof cmd, "openssl x509 -in %s -noout -startdate", p.crt);
    char *start = run(cmd);
    assert_contains(start, "notBefore=");
    free(start);
    remove_tree(p.dir);

    make_pair(&p, "hub.example.org", -1); /* the default: ten years */
    assert_true(valid_in(&p, 3649L * 86400));
    assert_false(valid_in(&p, 3651L * 86400));
    remove_tree(p.dir);
}

static void test_check_pair(void **state)
{
    struct pair p, q;
    char why[WHY_LEN] = "untouched";

    (void)state;
    make_pair(&p, "hub.example.org", 0);
    make_pair(&q, "hub.example.org", 0);
    assert_int_equal(cert_check_pair(p.crt, p.key, why, sizeof why), 0);
    assert_string_equal(why, "");
    assert_int_equal(cert_check_pair(q.crt, q.key, why, sizeof why), 0);

    assert_int_equal(cert_check_pair(p.crt, q.key, why, sizeof why), HUB_E_TLS);
    assert_non_null(strstr(why, q.key));
    assert_non_null(strstr(why, "does not belong"));

    /* A certificate given as the key, and a key given as the certificate. */
    why[0] = '\0';
    assert_int_equal(cert_check_pair(p.crt, p.crt, why, sizeof why), HUB_E_TLS);
    assert_int_not_equal(why[0], '\0');
    assert_int_equal(cert_check_pair(p.key, p.key, why, sizeof why), HUB_E_TLS);

    char missing[PATH_LEN];
    snprintf(missing, sizeof missing, "%s/none.key", p.dir);
    assert_int_equal(cert_check_pair(p.crt, missing, why, sizeof why), HUB_E_IO);
    assert_non_null(strstr(why, missing));

    /* GnuTLS itself (as libmicrohttpd will) accepts the pair. */
    gnutls_certificate_credentials_t cred;
    assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
    assert_true(gnutls_certificate_set_x509_key_file(cred, p.crt, p.key, GNUTLS_X509_FMT_PEM) >= 0);
    gnutls_certificate_free_credentials(cred);

    remove_tree(p.dir);
    remove_tree(q.dir);
}

static void test_generate_errors(void **state)
{
    char why[WHY_LEN] = "";
    char pin[CERT_PIN_LEN] = "";

    (void)state;
    assert_int_equal(cert_generate("/proc/hamlet-cert-test/tls", "hub.example.org", 0, pin,
                                   sizeof pin, why, sizeof why),
                     HUB_E_IO);
    assert_int_not_equal(why[0], '\0');
    assert_non_null(strstr(why, "/proc/hamlet-cert-test"));
    assert_string_equal(pin, "");

    /* Bad arguments are refused before anything is created. */
    char dir[] = "/tmp/hamlet-cert-XXXXXX";
    char sub[PATH_LEN];
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/tls", dir);
    static const char *const bad_names[] = {
        "", "hub example", "-hub.example.org", "hub..example", "hub.example.org/x", "ex*ample"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        why[0] = '\0';
        assert_int_equal(cert_generate(sub, bad_names[i], 0, pin, sizeof pin, why, sizeof why),
                         HUB_E_ARG);
        assert_int_not_equal(why[0], '\0');
    }
    assert_int_equal(cert_generate(sub, NULL, 40000, pin, sizeof pin, why, sizeof why), HUB_E_ARG);
    assert_int_equal(cert_generate(sub, NULL, 0, pin, 10, why, sizeof why), HUB_E_ARG);
    assert_int_equal(cert_generate(NULL, NULL, 0, pin, sizeof pin, why, sizeof why), HUB_E_ARG);
    assert_int_equal(access(sub, F_OK), -1);

    /* A file where the directory should be. */
    write_text(sub, "not a directory\n");
    why[0] = '\0';
    assert_int_equal(cert_generate(sub, NULL, 0, pin, sizeof pin, why, sizeof why), HUB_E_IO);
    assert_int_not_equal(why[0], '\0');
    remove_tree(dir);
}

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static int free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    (void)close(fd);
    return ntohs(sa.sin_port);
}

static int port_open(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int ok;

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    (void)close(fd);
    return ok;
}

static void test_tls_handshake(void **state)
{
    struct pair p;
    char accept_arg[32];
    char cmd[3 * PATH_LEN];
    int port;
    pid_t server;

    (void)state;
    if (!have_openssl()) {
        skip();
    }
    make_pair(&p, NULL, 0);
    port = free_port();
    snprintf(accept_arg, sizeof accept_arg, "127.0.0.1:%d", port);
    server = fork();
    assert_true(server >= 0);
    if (server == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            (void)dup2(null, 0);
            (void)dup2(null, 1);
            (void)dup2(null, 2);
        }
        execlp("openssl", "openssl", "s_server", "-cert", p.crt, "-key", p.key, "-accept",
               accept_arg, "-www", (char *)NULL);
        _exit(127);
    }
    /* Wait for the server to listen: at most 3 s. */
    int ready = 0;
    for (int i = 0; i < 300 && !ready; i++) {
        ready = port_open(port);
        if (!ready) {
            struct timespec pause = {0, 10000000L};
            (void)nanosleep(&pause, NULL);
        }
    }

    char *out = NULL;
    if (ready) {
        /* The certificate, taken as the only trusted one, must verify for the
         * name and the address laptops use. */
        snprintf(cmd, sizeof cmd,
                 "openssl s_client -connect 127.0.0.1:%d -servername localhost -CAfile %s "
                 "-verify_hostname localhost -verify_return_error </dev/null 2>&1",
                 port, p.crt);
        out = run(cmd);
    }
    (void)kill(server, SIGTERM);
    (void)waitpid(server, NULL, 0);
    if (!ready) {
        fail_msg("openssl s_server did not start on %s", accept_arg);
    }
    assert_contains(out, "Server certificate");
    assert_contains(out, "-----BEGIN CERTIFICATE-----");
    assert_contains(out, "Verify return code: 0 (ok)");
    assert_null(strstr(out, "Cipher is (NONE)"));
    free(out);
    remove_tree(p.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_writes_pair),
        cmocka_unit_test(test_generate_refuses_existing),
        cmocka_unit_test(test_pin_file),
        cmocka_unit_test(test_pin_file_errors),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_validity),
        cmocka_unit_test(test_check_pair),
        cmocka_unit_test(test_generate_errors),
        cmocka_unit_test(test_tls_handshake),
    };

    (void)umask(022);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
