/* A tiny test harness: CHECK aborts the test with file:line and a message;
 * exit codes follow the usual convention (0 pass, 1 fail, 77 skip). */
#ifndef EVAIO_TEST_CHECK_H
#define EVAIO_TEST_CHECK_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evaio.h"

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

#define CHECK_EQ(a, b)                                                                  \
    do {                                                                                \
        long long a_ = (long long)(a), b_ = (long long)(b);                             \
        if (a_ != b_) {                                                                 \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", __FILE__, \
                    __LINE__, #a, a_, #b, b_);                                          \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

/* Skips (77), except under EVAIO_TEST_NO_SKIP=1 (CI), where a skip would
 * hide a missing install and fails instead. */
#define SKIP(why)                                                                       \
    do {                                                                                \
        const char *no_skip_ = getenv("EVAIO_TEST_NO_SKIP");                             \
        int fail_ = no_skip_ && *no_skip_ && strcmp(no_skip_, "0") != 0;                \
        fprintf(stderr, "%s: %s\n", fail_ ? "cannot skip under EVAIO_TEST_NO_SKIP" : "skipped", why); \
        exit(fail_ ? 1 : 77);                                                           \
    } while (0)

static inline double check_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void check_sleep(double secs)
{
    struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The descriptors this process has open (not counting the one that lists
 * them), to compare before and after: nothing may leak. */
static inline int check_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    CHECK_EQ(closedir(d), 0);
    return n - 1;
}

/* Waits (polling the condition) up to a generous bound, so that a slow
 * machine only makes the test slower, never wrong. */
#define CHECK_EVENTUALLY(cond)                                                          \
    do {                                                                                \
        double deadline_ = check_now() + 30.0;                                          \
        while (!(cond) && check_now() < deadline_)                                      \
            check_sleep(0.001);                                                         \
        CHECK(cond);                                                                    \
    } while (0)

static int check_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char check_tmp_path[4096];

static void check_tmp_cleanup(void)
{
    if (check_tmp_path[0])
        nftw(check_tmp_path, check_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh temporary directory, removed at exit. */
static inline const char *check_tmpdir(void)
{
    if (!check_tmp_path[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(check_tmp_path, sizeof check_tmp_path, "%s/evaio-test-XXXXXX", base ? base : "/tmp");
        CHECK(mkdtemp(check_tmp_path) != NULL);
        atexit(check_tmp_cleanup);
    }
    return check_tmp_path;
}

/* A path inside the temporary directory (a static buffer per call slot). */
static inline const char *check_path(const char *name)
{
    static char bufs[8][8192];
    static int next;
    char *buf = bufs[next++ % 8];
    const char *dir = check_tmpdir();
    CHECK(strlen(dir) + strlen(name) + 2 <= sizeof bufs[0]);
    memcpy(buf, dir, strlen(dir));
    buf[strlen(dir)] = '/';
    strcpy(buf + strlen(dir) + 1, name);
    return buf;
}

#endif
