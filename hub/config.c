/* SPDX-License-Identifier: MIT */
/*
 * config.c - reading hub.conf with inih.
 */
#include "config.h"

#include "hub_error.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct load_state {
    struct config *config;
    int categories_seen; /* the first "category" line replaces the defaults */
    char error[200];
};

void config_defaults(struct config *config)
{
    memset(config, 0, sizeof *config);
    snprintf(config->listen, sizeof config->listen, "127.0.0.1:8443");
    config->enrol_valid_days = 7;
    server_config_default(&config->server);
    rules_config_default(&config->rules);
    config_finish(config);
}

void config_finish(struct config *config)
{
    config->server.listen = config->listen;
    config->server.cert_path = config->cert[0] ? config->cert : NULL;
    config->server.key_path = config->key[0] ? config->key : NULL;
    config->server.rules = &config->rules;
    config->server.public_url = config->url[0] ? config->url : NULL;
    config->server.enrol_valid_days = config->enrol_valid_days;
}

static int parse_unsigned(const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

/* A line of [rules]: a number of the rules (rules_config_set()) or a
 * category "token|中文|English". */
static int on_rule(struct load_state *st, const char *name, const char *value)
{
    struct rules_config *rules = &st->config->rules;
    if (!strcmp(name, "category")) {
        char copy[RULES_NAME_MAX + 2 * RULES_LABEL_MAX + 2];
        char *bar1, *bar2;
        if (!st->categories_seen) {
            rules_config_clear_categories(rules);
            st->categories_seen = 1;
        }
        if (strlen(value) >= sizeof copy) {
            snprintf(st->error, sizeof st->error, "category: too long");
            return 0;
        }
        snprintf(copy, sizeof copy, "%s", value);
        bar1 = strchr(copy, '|');
        bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
        if (bar2) {
            *bar1 = '\0';
            *bar2 = '\0';
        }
        if (!bar2 || rules_config_add_category(rules, copy, bar1 + 1, bar2 + 1) != 0) {
            snprintf(st->error, sizeof st->error,
                     "category: expected token|中文|English with a new token of a-z, 0-9 and _");
            return 0;
        }
        return 1;
    }
    if (rules_config_set(rules, name, value) != 0) {
        snprintf(st->error, sizeof st->error,
                 "unknown rule \"%s\" or value out of range (see packaging/hub.conf)", name);
        return 0;
    }
    return 1;
}

static int on_value(void *user, const char *section, const char *name, const char *value)
{
    struct load_state *st = user;
    struct config *c = st->config;
    if (!strcmp(section, "rules")) {
        return on_rule(st, name, value);
    }
    if (strcmp(section, "hub") != 0) {
        snprintf(st->error, sizeof st->error, "unknown section [%s]", section);
        return 0;
    }
    struct {
        const char *name;
        char *text;
        size_t size;
    } texts[] = {
        {"db", c->db, sizeof c->db},
        {"url", c->url, sizeof c->url},
        {"listen", c->listen, sizeof c->listen},
        {"cert", c->cert, sizeof c->cert},
        {"key", c->key, sizeof c->key},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (!strcmp(name, texts[i].name)) {
            if (strlen(value) >= texts[i].size) {
                snprintf(st->error, sizeof st->error, "%s: too long", name);
                return 0;
            }
            snprintf(texts[i].text, texts[i].size, "%s", value);
            return 1;
        }
    }
    struct {
        const char *name;
        unsigned long max;
        unsigned *u;
        size_t *z;
    } numbers[] = {
        {"threads", 256, &c->server.threads, NULL},
        {"max_connections", 100000, &c->server.max_connections, NULL},
        {"idle_timeout", 3600, &c->server.idle_timeout_s, NULL},
        {"device_requests_per_minute", 100000, &c->server.device_per_minute, NULL},
        {"enrol_valid_days", 365, &c->enrol_valid_days, NULL},
        {"max_request_bytes", 1UL << 30, NULL, &c->server.limits.max_request},
        {"max_pull_bytes", 1UL << 30, NULL, &c->server.limits.max_pull},
        {"max_body_bytes", 1UL << 30, NULL, &c->server.limits.envelope.max_body},
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        if (!strcmp(name, numbers[i].name)) {
            unsigned long v;
            if (parse_unsigned(value, numbers[i].max, &v) != 0 || v == 0) {
                snprintf(st->error, sizeof st->error, "%s: expected a number from 1 to %lu", name,
                         numbers[i].max);
                return 0;
            }
            if (numbers[i].u) {
                *numbers[i].u = (unsigned)v;
            } else {
                *numbers[i].z = (size_t)v;
            }
            return 1;
        }
    }
    snprintf(st->error, sizeof st->error, "unknown key \"%s\"", name);
    return 0;
}

int config_load(struct config *config, const char *path, int required, char *why, size_t why_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!required && errno == ENOENT) {
            return 0;
        }
        snprintf(why, why_len, "cannot read %s: %s", path, strerror(errno));
        return HUB_E_IO;
    }
    struct load_state st = {config, 0, ""};
    int line = ini_parse_file(f, on_value, &st);
    fclose(f);
    if (line != 0) {
        snprintf(why, why_len, "%s:%d: %s", path, line,
                 st.error[0] ? st.error : "not a key = value line");
        return HUB_E_CONFIG;
    }
    /* The envelope limit follows the request limit: a request is an envelope. */
    config->server.limits.envelope.max_envelope = config->server.limits.max_request;
    config_finish(config);
    return 0;
}
