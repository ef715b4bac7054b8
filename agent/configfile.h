/* SPDX-License-Identifier: MIT */
/*
 * configfile.h - the village agent's configuration files.
 *
 * INI files read with inih: /etc/hamlet/hamlet.conf for the whole laptop,
 * then the user's own ($XDG_CONFIG_HOME/hamlet/hamlet.conf, else
 * ~/.config/hamlet/hamlet.conf), whose lines win; or only the file named
 * by --config or HAMLET_CONFIG. Every key is listed, commented and with its
 * default, in packaging/hamlet.conf. Command-line options and the
 * environment (HAMLET_DB) override the files. With no file at all the agent
 * behaves exactly as its built-in defaults say. An unknown section or key,
 * or a value out of range, is an error naming the file and line, so that a
 * typo never leaves a default silently in force.
 */
#ifndef HAMLET_CONFIGFILE_H
#define HAMLET_CONFIGFILE_H

#include <stddef.h>

#define CONFIGFILE_SYSTEM_PATH "/etc/hamlet/hamlet.conf"
#define CONFIGFILE_TEXT        512 /* longest path, with its NUL */
#define CONFIGFILE_MAX_SECONDS 86400U

struct configfile {
    char db[CONFIGFILE_TEXT]; /* [hamlet] db: "" when not set */
    /* [daemon], in seconds from 1 to CONFIGFILE_MAX_SECONDS; 0 when not set. */
    unsigned debounce_s, interval_s, idle_max_s;
};

/* configfile_load(config, path, required, why, why_len): read path over the
 * values already in config (zero it first for "nothing set"). A missing
 * file is an error only when required. Returns 0, or -1 with "FILE:LINE:
 * reason" (or "cannot read FILE: reason") in why. */
int configfile_load(struct configfile *config, const char *path, int required, char *why,
                    size_t why_len);

/* configfile_load_default(config, given, why, why_len): zero config, then
 * read the file given (--config; NULL if none) or $HAMLET_CONFIG, which
 * must exist; else the system file and then the user's, either of which
 * may be missing. Returns 0 or -1 as configfile_load(). */
int configfile_load_default(struct configfile *config, const char *given, char *why,
                            size_t why_len);

#endif
