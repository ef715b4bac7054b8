/* SPDX-License-Identifier: MIT */
/*
 * cli.c - the command line's shared helpers (cli.h).
 */
#include "cli.h"

#include "sync_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hamlet: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return code;
}

int cli_wants_help(int argc, char **argv, const char *help)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(help, stdout);
            return 1;
        }
    }
    return 0;
}

int cli_take_options(int argc, char **argv, const char *const *names, const char **values, size_t n,
                     const char *const *flags, int *flag_values, size_t nflags)
{
    int operands = 0;
    for (int i = 1; i < argc; i++) {
        int matched = 0;
        for (size_t k = 0; k < n && !matched; k++) {
            if (!strcmp(argv[i], names[k])) {
                if (i + 1 >= argc) {
                    return -1;
                }
                values[k] = argv[++i];
                matched = 1;
            }
        }
        for (size_t k = 0; k < nflags && !matched; k++) {
            if (!strcmp(argv[i], flags[k])) {
                flag_values[k] = 1;
                matched = 1;
            }
        }
        if (!matched) {
            if (!strncmp(argv[i], "--", 2)) {
                return -1;
            }
            argv[operands++] = argv[i];
        }
    }
    return operands;
}

const char *cli_lang(const char *given)
{
    if (given) {
        return strncmp(given, "zh", 2) == 0 ? "zh" : "en";
    }
    static const char *const vars[] = {"HAMLET_LANG", "LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && v[0]) {
            return strncmp(v, "zh", 2) == 0 ? "zh" : "en";
        }
    }
    return "en";
}

int cli_write_stdout(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    return fwrite(data, 1, len, stdout) == len ? 0 : SYNC_E_DB;
}
