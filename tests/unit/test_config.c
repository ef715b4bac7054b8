/* SPDX-License-Identifier: MIT */
/*
 * test_config.c - reading hub.conf: values land where they belong, the
 * command line's defaults stay when the file is silent, and every mistake
 * is an error that names the file and the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "hub_error.h"

static char path[64];

static void write_conf(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/hamlet-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void test_values(void **state)
{
    (void)state;
    write_conf("; the township hub\n"
               "[hub]\n"
               "db = /var/lib/hamlet-hub/hub.db\n"
               "url = https://hub.example.cn:8443\n"
               "listen = 0.0.0.0:8443\n"
               "cert = /etc/hamlet/hub.crt\n"
               "key = /etc/hamlet/hub.key\n"
               "threads = 8\n"
               "max_connections = 1000\n"
               "idle_timeout = 15\n"
               "device_requests_per_minute = 30\n"
               "max_request_bytes = 1048576\n"
               "enrol_valid_days = 3\n");
    struct config c;
    config_defaults(&c);
    char why[200];
    assert_int_equal(config_load(&c, path, 1, why, sizeof why), 0);
    assert_string_equal(c.db, "/var/lib/hamlet-hub/hub.db");
    assert_string_equal(c.url, "https://hub.example.cn:8443");
    assert_string_equal(c.server.listen, "0.0.0.0:8443");
    assert_string_equal(c.server.cert_path, "/etc/hamlet/hub.crt");
    assert_string_equal(c.server.key_path, "/etc/hamlet/hub.key");
    assert_int_equal(c.server.threads, 8);
    assert_int_equal(c.server.max_connections, 1000);
    assert_int_equal(c.server.idle_timeout_s, 15);
    assert_int_equal(c.server.device_per_minute, 30);
    assert_int_equal(c.server.limits.max_request, 1048576);
    assert_int_equal(c.server.limits.envelope.max_envelope, 1048576);
    assert_int_equal(c.enrol_valid_days, 3);
}

static void test_defaults_and_missing_file(void **state)
{
    (void)state;
    struct config c;
    config_defaults(&c);
    char why[200];
    assert_int_equal(config_load(&c, "/nonexistent/hub.conf", 0, why, sizeof why), 0);
    assert_string_equal(c.server.listen, "127.0.0.1:8443");
    assert_int_equal(c.server.threads, 4);
    assert_int_equal(c.enrol_valid_days, 7);
    assert_null(c.server.cert_path);
    assert_int_equal(config_load(&c, "/nonexistent/hub.conf", 1, why, sizeof why), HUB_E_IO);
    assert_non_null(strstr(why, "/nonexistent/hub.conf"));
}

static void test_mistakes_name_the_line(void **state)
{
    (void)state;
    const char *bad[][2] = {
        {"[hub]\nthreds = 4\n", ":2: unknown key \"threds\""},
        {"[hub]\n\nthreads = many\n", ":3: threads: expected a number"},
        {"[hub]\nthreads = 0\n", ":2: threads"},
        {"[hub]\nthreads = -1\n", ":2: threads"},
        {"[server]\nthreads = 4\n", ":2: unknown section [server]"},
        {"[hub]\nthis is not a pair\n", ":2:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_conf(bad[i][0]);
        struct config c;
        config_defaults(&c);
        char why[200] = "";
        assert_int_equal(config_load(&c, path, 1, why, sizeof why), HUB_E_CONFIG);
        if (!strstr(why, bad[i][1])) {
            fail_msg("config %zu: \"%s\" does not say \"%s\"", i, why, bad[i][1]);
        }
    }
}

static void test_rules(void **state)
{
    (void)state;
    write_conf("[rules]\n"
               "accept_days = 10\n"
               "followup_months_3 = 12\n"
               "target_satisfaction = 96.5\n"
               "category = land|土地纠纷|land\n"
               "category = water|用水纠纷|water\n");
    struct config c;
    config_defaults(&c);
    assert_int_equal(c.rules.accept_days, 15);
    assert_int_equal(c.rules.ncategories, 12);
    char why[200];
    assert_int_equal(config_load(&c, path, 1, why, sizeof why), 0);
    assert_int_equal(c.rules.accept_days, 10);
    assert_int_equal(c.rules.conclude_days, 60);
    assert_int_equal(c.rules.followup_months[2], 12);
    assert_int_equal(c.rules.target_satisfaction_bp, 9650);
    assert_int_equal(c.rules.ncategories, 2);
    assert_string_equal(c.rules.categories[1].name, "water");
    assert_string_equal(c.rules.categories[1].zh, "用水纠纷");

    const char *bad[][2] = {
        {"[rules]\naccept_days = 0\n", ":2: unknown rule \"accept_days\" or value out of range"},
        {"[rules]\nwarn_days = soon\n", ":2:"},
        {"[rules]\ndeadline = 3\n", ":2: unknown rule \"deadline\""},
        {"[rules]\ncategory = land\n", ":2: category"},
        {"[rules]\ncategory = land|土地|land\ncategory = land|土地|land\n", ":3: category"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_conf(bad[i][0]);
        config_defaults(&c);
        why[0] = '\0';
        assert_int_equal(config_load(&c, path, 1, why, sizeof why), HUB_E_CONFIG);
        if (!strstr(why, bad[i][1])) {
            fail_msg("rules %zu: \"%s\" does not say \"%s\"", i, why, bad[i][1]);
        }
    }
}

/* The commented configuration file that ships, with every line of it
 * uncommented, is a valid configuration. */
static void test_packaged_file(void **state)
{
    (void)state;
    FILE *in = fopen("packaging/hub.conf", "r");
    assert_non_null(in);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    char line[512];
    while (fgets(line, sizeof line, in)) {
        /* ";key = value" lines are the options; "; words" lines are comments. */
        fputs(line[0] == ';' && line[1] != ' ' && line[1] != '\n' ? line + 1 : line, out);
    }
    fclose(in);
    fclose(out);
    struct config c;
    config_defaults(&c);
    char why[200] = "";
    if (config_load(&c, path, 1, why, sizeof why) != 0) {
        fail_msg("packaging/hub.conf uncommented: %s", why);
    }
    struct config d;
    config_defaults(&d);
    assert_int_equal(c.rules.ncategories, d.rules.ncategories);
    assert_memory_equal(&c.rules, &d.rules, sizeof c.rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults_and_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mistakes_name_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packaged_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
