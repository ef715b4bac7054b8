/* SPDX-License-Identifier: MIT */
/*
 * test_hub_ops.c - what a township's technician and the system services do
 * to running programs, end to end: the real `hamlet-hub serve` on loopback
 * and the real `hamlet` on laptops' ledgers (tests/tools/hubproc,
 * tests/tools/agentproc). A renewed certificate is loaded on SIGHUP while
 * a sync is in flight over a slow link, and that sync still finishes; new
 * connections see the new certificate; an unreadable one leaves the old in
 * use. An online backup taken while the hub serves opens and exports the
 * same ledger, and restores. Under systemd (JOURNAL_STREAM) the hub's log
 * lines carry syslog priorities. The agent's daemon syncs at once on
 * SIGUSR1 (NetworkManager's hook), and takes its intervals from
 * hamlet.conf, whose mistakes name the line.
 *
 * Environment: HAMLET_AGENT, HAMLET_HUB, SLOWLINK (the programs);
 * HAMLET_TEST_FILTER (a cmocka pattern: run some tests). Needs the openssl
 * program (a certificate renewed with the same key).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agentproc.h"
#include "hubproc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CASES        40  /* cases on the laptop before the slow sync */
#define SLOW_RATE    "4" /* kbit/s: the sync takes several seconds */
#define SLOW_LATENCY "200"
#define WAIT_MS      20000 /* longest wait for something to happen */
#define VILLAGE      "baisha"

struct fixture {
    struct hubproc *hub;
    char dir[AGENTPROC_PATH_MAX - 80];
    struct agentproc *laptop;
    char code[HUBPROC_CODE_MAX];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f || hubproc_new(NULL, &f->hub) != 0 ||
        agentproc_tmpdir("hamlet-ops", f->dir, sizeof f->dir) != 0 ||
        agentproc_new(f->dir, "a1", &f->laptop) != 0) {
        return -1;
    }
    if (hubproc_start(f->hub) != 0 || hubproc_village_add(f->hub, VILLAGE) != 0 ||
        hubproc_device_add(f->hub, VILLAGE, f->code, sizeof f->code) != 0) {
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    agentproc_free(f->laptop);
    hubproc_free(f->hub);
    agentproc_rmdir(f->dir);
    free(f);
    return 0;
}

/* Run `hamlet ARGS...` on the laptop; fails the test unless it exits 0. */
static void agent_ok(struct fixture *f, const char *const *args)
{
    struct agentproc_result r;
    int status = agentproc_run(f->laptop, args, &r);
    if (status != 0) {
        fail_msg("hamlet %s exited %d: %s", args[0], status, r.err);
    }
    agentproc_result_clear(&r);
}

/* The laptop's ledger for the village, enrolled with code, with n cases. */
static void laptop_with_cases(struct fixture *f, const char *code, int n)
{
    agent_ok(f, (const char *const[]){"init", "--village", VILLAGE, NULL});
    agent_ok(f, (const char *const[]){"enroll", code, NULL});
    for (int i = 0; i < n; i++) {
        char title[128];
        snprintf(title, sizeof title,
                 "title=王某与李某宅基地纠纷第%d号，双方就院墙位置各执一词，村委会多次调解", i);
        agent_ok(f,
                 (const char *const[]){"case", "add", title, "category=land", "severity=2", NULL});
    }
}

/* The first line of a shell command's output (the command is fixed text
 * built from the test's own paths), malloc'd; NULL on failure. */
static char *first_line(const char *command)
{
    FILE *p = popen(command, "r");
    if (!p) {
        return NULL;
    }
    char line[512] = "";
    char *got = fgets(line, sizeof line, p);
    int status = pclose(p);
    if (!got || status != 0) {
        return NULL;
    }
    line[strcspn(line, "\n")] = '\0';
    return strdup(line);
}

/* The SHA-256 fingerprint of the certificate the hub serves now (a new
 * connection), or of a PEM file. */
static char *served_fingerprint(struct fixture *f)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "echo | openssl s_client -connect %s 2>/dev/null |"
             " openssl x509 -noout -fingerprint -sha256",
             f->hub->listen);
    return first_line(cmd);
}

static char *file_fingerprint(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "openssl x509 -in '%s' -noout -fingerprint -sha256", path);
    return first_line(cmd);
}

static int log_has(struct fixture *f, const char *text)
{
    char *log = hubproc_read_log(f->hub);
    int found = log && strstr(log, text) != NULL;
    free(log);
    return found;
}

static int wait_for_log(struct fixture *f, const char *text)
{
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        if (log_has(f, text)) {
            return 1;
        }
        agentproc_sleep_ms(100);
    }
    return 0;
}

/* ---- the certificate, reloaded on SIGHUP ---- */

static void test_cert_reload(void **state)
{
    struct fixture *f = *state;
    printf("  a laptop with %d cases behind a %s kbit/s link\n", CASES, SLOW_RATE);
    struct agentproc_link *link;
    assert_int_equal(agentproc_link_start(f->dir, f->hub->listen,
                                          (const char *const[]){"--rate", SLOW_RATE, "--latency",
                                                                SLOW_LATENCY, NULL},
                                          &link),
                     0);
    char code[HUBPROC_CODE_MAX];
    assert_int_equal(agentproc_code_with_url(f->code, link->url, code, sizeof code), 0);
    laptop_with_cases(f, code, CASES);

    char *old_fp = served_fingerprint(f);
    assert_non_null(old_fp);

    /* A renewal: a new certificate for the same key, so the laptops' pin
     * still holds. */
    char renewed[AGENTPROC_PATH_MAX + 16], cmd[4096];
    snprintf(renewed, sizeof renewed, "%s/renewed.crt", f->dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -new -x509 -key '%s' -subj /CN=localhost -days 30"
             " -addext subjectAltName=DNS:localhost -out '%s' 2>/dev/null",
             f->hub->key, renewed);
    assert_int_equal(system(cmd), 0);
    char *new_fp = file_fingerprint(renewed);
    assert_non_null(new_fp);
    assert_string_not_equal(old_fp, new_fp);

    printf("  a sync in flight while the renewed certificate is loaded (SIGHUP)\n");
    assert_int_equal(agentproc_spawn(f->laptop, (const char *const[]){"sync", NULL}), 0);
    agentproc_sleep_ms(1500);
    assert_true(agentproc_running(f->laptop));
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", renewed, f->hub->cert);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(kill(f->hub->pid, SIGHUP), 0);
    assert_true(wait_for_log(f, "certificate reloaded"));
    assert_true(agentproc_running(f->laptop)); /* the reload came mid-sync */

    printf("  a new connection sees the new certificate\n");
    char *now_fp = served_fingerprint(f);
    assert_non_null(now_fp);
    assert_string_equal(now_fp, new_fp);

    printf("  the sync in flight finishes, and the hub holds every case\n");
    struct agentproc_result r;
    int status = agentproc_wait(f->laptop, &r);
    if (status != 0) {
        fail_msg("the sync across the reload exited %d: %s", status, r.err);
    }
    agentproc_result_clear(&r);
    char *out;
    size_t len;
    assert_int_equal(hubproc_export(f->hub, VILLAGE, &out, &len), 0);
    char last[64];
    snprintf(last, sizeof last, "纠纷第%d号", CASES - 1);
    assert_non_null(strstr(out, last));
    free(out);
    assert_true(hubproc_alive(f->hub));

    printf("  an unreadable certificate leaves the renewed one in use\n");
    FILE *bad = fopen(f->hub->cert, "w");
    assert_non_null(bad);
    fputs("not a certificate\n", bad);
    fclose(bad);
    assert_int_equal(kill(f->hub->pid, SIGHUP), 0);
    assert_true(wait_for_log(f, "certificate not reloaded"));
    char *still = served_fingerprint(f);
    assert_non_null(still);
    assert_string_equal(still, new_fp);
    agent_ok(f, (const char *const[]){"sync", NULL});

    free(still);
    free(now_fp);
    free(new_fp);
    free(old_fp);
    agentproc_link_stop(link);
}

/* ---- online backup and restore ---- */

static void test_backup(void **state)
{
    struct fixture *f = *state;
    struct agentproc_link *link;
    assert_int_equal(agentproc_link_start(f->dir, f->hub->listen,
                                          (const char *const[]){"--rate", SLOW_RATE, NULL}, &link),
                     0);
    char code[HUBPROC_CODE_MAX];
    assert_int_equal(agentproc_code_with_url(f->code, link->url, code, sizeof code), 0);
    laptop_with_cases(f, code, CASES);

    printf("  a backup taken while a sync is in flight opens and passes its check\n");
    char during[AGENTPROC_PATH_MAX], after[AGENTPROC_PATH_MAX];
    snprintf(during, sizeof during, "%s/during.db", f->dir);
    snprintf(after, sizeof after, "%s/after.db", f->dir);
    assert_int_equal(agentproc_spawn(f->laptop, (const char *const[]){"sync", NULL}), 0);
    agentproc_sleep_ms(1000);
    assert_true(agentproc_running(f->laptop));
    assert_int_equal(hubproc_run(f->hub, (const char *const[]){"backup", during, NULL}, NULL, NULL),
                     0);
    struct stat st;
    assert_int_equal(stat(during, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *copy;
    size_t len;
    assert_int_equal(
        hubproc_run(f->hub, (const char *const[]){"--db", during, "export", NULL}, &copy, &len), 0);
    free(copy);
    struct agentproc_result r;
    assert_int_equal(agentproc_wait(f->laptop, &r), 0);
    agentproc_result_clear(&r);

    printf("  a backup of the hub at rest exports the same ledger, byte for byte\n");
    assert_int_equal(hubproc_run(f->hub, (const char *const[]){"backup", after, NULL}, NULL, NULL),
                     0);
    char *live;
    assert_int_equal(hubproc_export(f->hub, NULL, &live, &len), 0);
    assert_int_equal(
        hubproc_run(f->hub, (const char *const[]){"--db", after, "export", NULL}, &copy, &len), 0);
    assert_string_equal(copy, live);
    assert_true(hubproc_alive(f->hub));

    printf("  a backup never overwrites a file\n");
    assert_int_equal(hubproc_run(f->hub, (const char *const[]){"backup", after, NULL}, NULL, NULL),
                     1);

    printf("  restored (stop, copy back, start): the same ledger\n");
    agent_ok(f, (const char *const[]){"case", "add", "title=备份之后的案件", "category=debt",
                                      "severity=3", NULL});
    agent_ok(f, (const char *const[]){"sync", NULL});
    assert_int_equal(hubproc_stop(f->hub), 0);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -f '%s-wal' '%s-shm' && cp '%s' '%s'", f->hub->db, f->hub->db,
             after, f->hub->db);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(hubproc_start(f->hub), 0);
    char *restored;
    assert_int_equal(hubproc_export(f->hub, NULL, &restored, &len), 0);
    assert_string_equal(restored, live);
    assert_null(strstr(restored, "备份之后的案件"));
    free(restored);
    free(copy);
    free(live);
    agentproc_link_stop(link);
}

/* ---- logs to the journal ---- */

static void test_journal_priorities(void **state)
{
    struct fixture *f = *state;
    printf("  with JOURNAL_STREAM naming its stderr, the hub's lines carry <N>\n");
    assert_int_equal(hubproc_stop(f->hub), 0);
    struct stat st;
    assert_int_equal(stat(f->hub->log, &st), 0);
    char stream[64];
    snprintf(stream, sizeof stream, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", stream, 1);
    int started = hubproc_start(f->hub);
    unsetenv("JOURNAL_STREAM");
    assert_int_equal(started, 0);
    assert_true(wait_for_log(f, "<6>hamlet-hub: serving https://"));
    assert_int_equal(kill(f->hub->pid, SIGHUP), 0);
    assert_true(wait_for_log(f, "<6>hamlet-hub: certificate reloaded"));

    printf("  a JOURNAL_STREAM that is not its stderr changes nothing\n");
    assert_int_equal(hubproc_stop(f->hub), 0);
    setenv("JOURNAL_STREAM", "1:1", 1);
    started = hubproc_start(f->hub);
    unsetenv("JOURNAL_STREAM");
    assert_int_equal(started, 0);
    char *log = hubproc_read_log(f->hub);
    assert_non_null(log);
    assert_non_null(strstr(log, "Z hamlet-hub: serving https://"));
    free(log);
}

/* ---- the agent's daemon: woken by SIGUSR1, configured by hamlet.conf ---- */

static void test_daemon_wake_and_config(void **state)
{
    struct fixture *f = *state;
    laptop_with_cases(f, f->code, 1);
    char conf[AGENTPROC_PATH_MAX];
    snprintf(conf, sizeof conf, "%s/hamlet.conf", f->dir);
    FILE *c = fopen(conf, "w");
    assert_non_null(c);
    fputs("; a test\n[daemon]\ninterval = 3600\nidle_max = 7200\ndebounce = 3600\n", c);
    fclose(c);
    assert_int_equal(agentproc_setenv(f->laptop, "HAMLET_CONFIG", conf), 0);

    printf("  the daemon takes its intervals from hamlet.conf\n");
    assert_int_equal(agentproc_spawn(f->laptop, (const char *const[]){"daemon", NULL}), 0);
    /* It syncs once at start: the laptop then records a good sync. */
    int64_t last_ok = 0;
    for (int waited = 0; waited < WAIT_MS && last_ok == 0; waited += 100) {
        agentproc_sleep_ms(100);
        if (agentproc_meta_int(f->laptop, "agent.last_ok_ms", &last_ok) != 0) {
            last_ok = 0;
        }
    }
    assert_true(last_ok > 0);

    printf("  a case added later waits (debounce 3600 s) until SIGUSR1\n");
    agent_ok(f, (const char *const[]){"case", "add", "title=网络恢复后同步", "category=debt",
                                      "severity=3", NULL});
    agentproc_sleep_ms(2500);
    char *out;
    size_t len;
    assert_int_equal(hubproc_export(f->hub, VILLAGE, &out, &len), 0);
    assert_null(strstr(out, "网络恢复后同步"));
    free(out);
    assert_int_equal(kill(f->laptop->pid, SIGUSR1), 0);
    int arrived = 0;
    for (int waited = 0; waited < WAIT_MS && !arrived; waited += 200) {
        agentproc_sleep_ms(200);
        assert_int_equal(hubproc_export(f->hub, VILLAGE, &out, &len), 0);
        arrived = strstr(out, "网络恢复后同步") != NULL;
        free(out);
    }
    assert_true(arrived);
    struct agentproc_result r;
    assert_int_equal(agentproc_signal(f->laptop, SIGTERM, &r), 1);
    assert_non_null(strstr(r.err, "every 3600 s, up to 7200 s"));
    assert_non_null(strstr(r.err, "woken (SIGUSR1)"));
    agentproc_result_clear(&r);

    printf("  a mistake in hamlet.conf names the file and line\n");
    c = fopen(conf, "w");
    assert_non_null(c);
    fputs("[daemon]\ninterval = 900\nintervall = 60\n", c);
    fclose(c);
    assert_int_equal(agentproc_run(f->laptop, (const char *const[]){"status", NULL}, &r), 1);
    char where[AGENTPROC_PATH_MAX + 8];
    snprintf(where, sizeof where, "%s:3:", conf);
    assert_non_null(strstr(r.err, where));
    assert_non_null(strstr(r.err, "intervall"));
    agentproc_result_clear(&r);
}

int main(void)
{
    const char *filter = getenv("HAMLET_TEST_FILTER");
    if (filter && filter[0]) {
        cmocka_set_test_filter(filter);
    }
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cert_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_priorities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_wake_and_config, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
