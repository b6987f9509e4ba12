/* Helpers shared by the path-operation tests (test_ops_path2.c,
 * test_ops_path3.c): include after op_harness.h.
 *
 * Every do_OP helper there runs a case through one API style and, when `wd`
 * is not NULL, against that working directory: the wrapper style through
 * evaio_OP_at, the caller-owned style through evaio_OP_init followed by
 * evaio_req_set_wd.  With `wd` NULL the wrapper style uses plain evaio_OP. */
#ifndef EVAIO_TEST_PATH_UTIL_H
#define EVAIO_TEST_PATH_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#define SUBMIT_WD(style, r, wd, at_call, plain_call, init_call)                         \
    SUBMIT(style, r, (wd) ? (at_call) : (plain_call), set_wd_after(init_call, &(r)->own, (wd)))
#define set_wd_after(init_call, req, wd)                                                \
    do {                                                                                \
        init_call;                                                                      \
        evaio_req_set_wd((req), (wd));                                                  \
        CHECK(evaio_req_wd(req) == (wd));                                               \
    } while (0)

#define SYNC_ERRNO(call) sync_errno_((call) == -1, #call)
static int sync_errno_(int failed, const char *what)
{
    int err = errno;
    if (!failed) {
        fprintf(stderr, "expected the synchronous %s to fail\n", what);
        exit(1);
    }
    return err;
}

/* snprintf that fails the test rather than truncate a path. */
__attribute__((format(printf, 3, 4))) static void pathf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    CHECK(n >= 0 && (size_t)n < cap);
}

static void make_file(const char *path, const char *content)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    size_t len = strlen(content);
    CHECK_EQ(write(fd, content, len), (ssize_t)len);
    CHECK_EQ(close(fd), 0);
}

/* The whole content of a (small) file, NUL-terminated, in a static buffer. */
static const char *file_content(const char *path)
{
    static char buf[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    CHECK(n >= 0);
    buf[n] = 0;
    CHECK_EQ(close(fd), 0);
    return buf;
}

static int exists(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return 1;
    CHECK_EQ(errno, ENOENT);
    return 0;
}

/* A path under the test directory for this style: "NAME-wrap" / "NAME-init". */
static const char *spath(int style, const char *name)
{
    char tmp[256];
    pathf(tmp, sizeof tmp, "%s-%s", name, style == WRAP ? "wrap" : "init");
    return check_path(tmp);
}

/* A NULL path: the wrapper refuses with EFAULT and runs nothing; a
 * caller-owned request fails through its one callback with EFAULT. */
static void expect_null_path(const struct rec *r, int style, int expect_type)
{
    if (style == WRAP) {
        CHECK(r->rejected);
        CHECK_EQ(r->submit_errno, EFAULT);
        CHECK_EQ(r->calls, 0);
    } else {
        expect_fail(r, expect_type, EFAULT);
    }
}

/* Open descriptors of the process (for the leak check at the end of main). */
/* Working directories through the library's own wd_open / wd_close. */
static int wd_opened_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    CHECK(req->args.wd_open.handle != NULL);
    *(evaio_wd **)req->data = req->args.wd_open.handle;
    return 0;
}

static evaio_wd *open_wd(const char *path)
{
    evaio_wd *wd = NULL;
    CHECK(evaio_wd_open(path, EVAIO_PRI_DEFAULT, wd_opened_cb, &wd) != NULL);
    CHECK_EQ(evaio_wait(), 0);
    CHECK(wd != NULL);
    return wd;
}

static void close_wd(evaio_wd *wd)
{
    CHECK(evaio_wd_close(wd, EVAIO_PRI_DEFAULT, NULL, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0);
}

/* A fresh directory DIR-STYLE under the test directory, the wd opened on it,
 * and its absolute path in `abs`.  The process's current directory is
 * elsewhere (see enter_elsewhere), so relative names reach it only through
 * the wd. */
static evaio_wd *make_wd(int style, const char *name, char *abs, size_t cap)
{
    pathf(abs, cap, "%s", spath(style, name));
    CHECK_EQ(mkdir(abs, 0700), 0);
    return open_wd(abs);
}

/* Moves the process into a directory of its own under the test directory, so
 * that a relative name resolved against the process's cwd by mistake would
 * not find what the tests put in their wds. */
static void enter_elsewhere(void)
{
    const char *dir = check_path("elsewhere");
    CHECK_EQ(mkdir(dir, 0700), 0);
    CHECK_EQ(chdir(dir), 0);
}

/* Nothing under `name` appeared in the process's current directory. */
static void not_in_cwd(const char *name)
{
    struct stat st;
    CHECK(lstat(name, &st) == -1);
    CHECK_EQ(errno, ENOENT);
}

/* The test's end: nothing outstanding, no descriptor left open. */
static void check_no_leaks(int fds_at_start)
{
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    CHECK_EQ(check_count_fds(), fds_at_start);
}

#endif
