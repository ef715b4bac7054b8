/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what every command of `hamlet` shares: reporting an error once,
 * --help, options after the operands, the language of the words shown, and
 * writing to stdout.
 */
#ifndef HAMLET_CLI_H
#define HAMLET_CLI_H

#include <stddef.h>

#define CLI_EXIT_USAGE 2

/* cli_fail(code, fmt, ...): print "hamlet: <message>" on stderr; returns
 * code, the exit status. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_wants_help(argc, argv, help): when --help or -h is among the
 * arguments, print help on stdout and return 1; else 0. */
int cli_wants_help(int argc, char **argv, const char *help);

/* cli_take_options(argc, argv, names, values, n, flags, flag_values,
 * nflags): take "--name VALUE" options (values[k] for names[k]) and
 * "--flag" flags (flag_values[k] set to 1) from argv[1...]; the operands
 * are moved to the front of argv. Returns the operand count, or -1 for an
 * unknown option or one without its value. */
int cli_take_options(int argc, char **argv, const char *const *names, const char **values, size_t n,
                     const char *const *flags, int *flag_values, size_t nflags);

/* cli_lang(given): the language of the words shown: given (a --lang
 * option) when not NULL, else "zh" when HAMLET_LANG, LC_ALL, LC_MESSAGES or
 * LANG (the first one set) starts with "zh", else "en". */
const char *cli_lang(const char *given);

/* cli_write_stdout(ctx, data, len): a ledger_io_write_fn for stdout. */
int cli_write_stdout(void *ctx, const char *data, size_t len);

#endif
