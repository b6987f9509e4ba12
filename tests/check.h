/* A tiny test harness: CHECK aborts the test with file:line and a message;
 * exit codes follow the usual convention (0 pass, 1 fail, 77 skip). */
#ifndef EVAIO_TEST_CHECK_H
#define EVAIO_TEST_CHECK_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
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

/* The same file, as two stat calls see it (its identity, type, owner,
 * links and size). */
static inline void check_same_file(const struct stat *a, const struct stat *b)
{
    CHECK_EQ(a->st_dev, b->st_dev);
    CHECK_EQ(a->st_ino, b->st_ino);
    CHECK_EQ(a->st_mode, b->st_mode);
    CHECK_EQ(a->st_nlink, b->st_nlink);
    CHECK_EQ(a->st_uid, b->st_uid);
    CHECK_EQ(a->st_gid, b->st_gid);
    CHECK_EQ(a->st_size, b->st_size);
}

/* A gate that holds workers: a custom request running check_gate_hold
 * blocks in it until check_gate_release lets one through.  It is a pipe,
 * so holding takes no allocation, lock or condition variable the library
 * could see.  At exit it lets every worker go, so that a failed CHECK does
 * not wait on a held one (the library's destructor joins its workers), and
 * is closed. */
static int check_gate_fds[2] = { -1, -1 };
static int check_gate_held; /* workers that reached the gate since check_gate_reset; atomic */

static inline void check_gate_let_go(void)
{
    if (check_gate_fds[1] < 0)
        return;
    if (write(check_gate_fds[1], "xxxxxxxx", 8) < 0) {
        /* on the way out: nothing more to do */
    }
    /* A held worker still reads its byte: a pipe keeps what was written. */
    close(check_gate_fds[0]);
    close(check_gate_fds[1]);
    check_gate_fds[0] = check_gate_fds[1] = -1;
}

static inline void check_gate_open(void)
{
    if (check_gate_fds[0] >= 0)
        return;
    CHECK_EQ(pipe(check_gate_fds), 0);
    atexit(check_gate_let_go);
}

static inline void check_gate_reset(void)
{
    __atomic_store_n(&check_gate_held, 0, __ATOMIC_RELEASE);
}

static inline int64_t check_gate_hold(evaio_req *req)
{
    (void)req;
    __atomic_fetch_add(&check_gate_held, 1, __ATOMIC_RELEASE);
    char c;
    CHECK_EQ(read(check_gate_fds[0], &c, 1), 1);
    return 0;
}

/* Until n workers (since the last reset) are held. */
#define CHECK_GATE_HOLDS(n) CHECK_EVENTUALLY(__atomic_load_n(&check_gate_held, __ATOMIC_ACQUIRE) == (n))

static inline void check_gate_release(void)
{
    CHECK_EQ(write(check_gate_fds[1], "x", 1), 1);
}

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
