/* SPDX-License-Identifier: MIT */
/*
 * peakrss.c - run a command and report the most memory it held.
 *
 * The benchmarks measure the village agent's peak resident set while it
 * imports and syncs. peakrss runs the command with its output untouched,
 * waits for it, and writes its peak RSS (ru_maxrss of wait4(), in KiB) to
 * the file given, or to stderr; its exit status is the command's.
 *
 *   peakrss [--out FILE] -- COMMAND [ARGS...]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *out = NULL;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else {
            fprintf(stderr, "usage: peakrss [--out FILE] -- COMMAND [ARGS...]\n");
            return 2;
        }
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "usage: peakrss [--out FILE] -- COMMAND [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "peakrss: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execvp(argv[i + 1], argv + i + 1);
        fprintf(stderr, "peakrss: %s: %s\n", argv[i + 1], strerror(errno));
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "peakrss: wait: %s\n", strerror(errno));
            return 1;
        }
    }
    FILE *f = out ? fopen(out, "w") : stderr;
    if (!f) {
        fprintf(stderr, "peakrss: %s: %s\n", out, strerror(errno));
        return 1;
    }
    fprintf(f, "%ld\n", ru.ru_maxrss);
    if (f != stderr) {
        fclose(f);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}
