/* SPDX-License-Identifier: MIT */
/*
 * configfile.c - reading hamlet.conf with inih.
 */
#include "configfile.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct load_state {
    struct configfile *config;
    char error[200];
};

static int on_value(void *user, const char *section, const char *name, const char *value)
{
    struct load_state *st = user;
    struct configfile *c = st->config;
    if (!strcmp(section, "hamlet")) {
        if (strcmp(name, "db") != 0) {
            snprintf(st->error, sizeof st->error, "unknown key \"%s\" in [hamlet]", name);
            return 0;
        }
        if (!value[0] || strlen(value) >= sizeof c->db) {
            snprintf(st->error, sizeof st->error, "db: expected a path of 1 to %zu bytes",
                     sizeof c->db - 1);
            return 0;
        }
        snprintf(c->db, sizeof c->db, "%s", value);
        return 1;
    }
    if (strcmp(section, "daemon") != 0) {
        snprintf(st->error, sizeof st->error, "unknown section [%s]", section);
        return 0;
    }
    static const char *const names[] = {"debounce", "interval", "idle_max"};
    unsigned *targets[] = {&c->debounce_s, &c->interval_s, &c->idle_max_s};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcmp(name, names[i])) {
            char *end;
            errno = 0;
            unsigned long v = strtoul(value, &end, 10);
            if (errno || end == value || *end || value[0] == '-' || v == 0 ||
                v > CONFIGFILE_MAX_SECONDS) {
                snprintf(st->error, sizeof st->error, "%s: expected seconds from 1 to %u", name,
                         CONFIGFILE_MAX_SECONDS);
                return 0;
            }
            *targets[i] = (unsigned)v;
            return 1;
        }
    }
    snprintf(st->error, sizeof st->error, "unknown key \"%s\" in [daemon]", name);
    return 0;
}

int configfile_load(struct configfile *config, const char *path, int required, char *why,
                    size_t why_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!required && errno == ENOENT) {
            return 0;
        }
        snprintf(why, why_len, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct load_state st = {config, ""};
    int line = ini_parse_file(f, on_value, &st);
    fclose(f);
    if (line != 0) {
        snprintf(why, why_len, "%s:%d: %s", path, line,
                 st.error[0] ? st.error : "not a key = value line");
        return -1;
    }
    return 0;
}

int configfile_load_default(struct configfile *config, const char *given, char *why, size_t why_len)
{
    memset(config, 0, sizeof *config);
    const char *env = getenv("HAMLET_CONFIG");
    if (given || (env && env[0])) {
        return configfile_load(config, given ? given : env, 1, why, why_len);
    }
    if (configfile_load(config, CONFIGFILE_SYSTEM_PATH, 0, why, why_len) != 0) {
        return -1;
    }
    char user[CONFIGFILE_TEXT];
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && xdg[0]) {
        n = snprintf(user, sizeof user, "%s/hamlet/hamlet.conf", xdg);
    } else if (home && home[0]) {
        n = snprintf(user, sizeof user, "%s/.config/hamlet/hamlet.conf", home);
    } else {
        return 0;
    }
    if (n < 0 || (size_t)n >= sizeof user) {
        snprintf(why, why_len, "the path of the user's hamlet.conf is longer than %zu bytes",
                 sizeof user - 1);
        return -1;
    }
    return configfile_load(config, user, 0, why, why_len);
}
