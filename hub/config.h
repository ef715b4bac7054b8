/* SPDX-License-Identifier: MIT */
/*
 * config.h - the hub's configuration file (/etc/hamlet/hub.conf).
 *
 * An INI file read with inih: a [hub] section of key = value lines and a
 * [rules] section of the township's rules (deadlines, follow-up months,
 * targets, categories; ledger/RULES.md). Every key is listed, with its
 * default, in packaging/hub.conf. The command line
 * overrides what the file says. Unknown keys and bad values are errors that
 * name the line, so a typo never silently leaves a default in force.
 */
#ifndef HAMLET_CONFIG_H
#define HAMLET_CONFIG_H

#include "rules.h"
#include "server.h"

#include <stddef.h>

#define CONFIG_DEFAULT_PATH "/etc/hamlet/hub.conf"

struct config {
    char db[512];
    char url[512]; /* the hub's public URL, for enrolment codes */
    char listen[128];
    char cert[512];
    char key[512];
    unsigned enrol_valid_days;
    struct server_config server; /* limits; its strings point into this struct */
    struct rules_config rules;   /* [rules]: the township's numbers and categories */
};

/* config_defaults(config): the built-in defaults (no database, listening on
 * 127.0.0.1:8443, enrolment codes valid 7 days, server_config_default()). */
void config_defaults(struct config *config);

/* config_load(config, path, required, why, why_len): read path over the
 * current values. A missing file is an error only when required. Returns 0,
 * HUB_E_IO or HUB_E_CONFIG (with "FILE:LINE: ..." in why). */
int config_load(struct config *config, const char *path, int required, char *why, size_t why_len);

/* config_finish(config): point the server configuration at the paths. */
void config_finish(struct config *config);

#endif
