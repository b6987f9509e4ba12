/* Per-operation tests for the descriptor operations: open, close, read,
 * write, fstat, fsync.  Every case runs through both API styles (the
 * library-allocated wrapper evaio_OP and the caller-owned evaio_OP_init +
 * evaio_start), counts callbacks (exactly one each), and compares the result
 * and errno with what the equivalent synchronous syscall gives. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <fcntl.h>
#include <sys/stat.h>

/* The huge-length read below must fail with ENOMEM, as plain malloc does;
 * the sanitizers' allocators would otherwise abort on it.  (Test programs
 * inherit the project's hidden visibility, so export the hooks.) */
#define TEST_EXPORT __attribute__((visibility("default"), used))
TEST_EXPORT const char *__asan_default_options(void);
TEST_EXPORT const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
TEST_EXPORT const char *__tsan_default_options(void);
TEST_EXPORT const char *__tsan_default_options(void) { return "allocator_may_return_null=1"; }

#define REC_OUTPUTS                                                                     \
    const void *buf_seen;  /* req->args.read.buf / req->args.fstat.buf */               \
    unsigned char *bytes;  /* read: copy of the bytes read */                           \
    struct stat st;        /* fstat: copy of the buffer */
#include "op_harness.h"

static void rec_capture(struct rec *r, evaio_req *req)
{
    switch (req->type) {
    case EVAIO_OP_READ:
        r->buf_seen = req->args.read.buf;
        if (req->result > 0) {
            CHECK(req->args.read.buf != NULL);
            CHECK((size_t)req->result <= req->args.read.length);
            free(r->bytes);
            r->bytes = malloc((size_t)req->result);
            CHECK(r->bytes != NULL);
            memcpy(r->bytes, req->args.read.buf, (size_t)req->result);
        }
        break;
    case EVAIO_OP_FSTAT:
        r->buf_seen = req->args.fstat.buf;
        CHECK(req->args.fstat.buf != NULL); /* the caller's or one the library supplies */
        if (req->result == 0)
            r->st = *req->args.fstat.buf;
        break;
    default:
        break;
    }
}

static void rec_reset_outputs(struct rec *r)
{
    free(r->bytes);
    r->bytes = NULL;
    r->buf_seen = NULL;
    memset(&r->st, 0, sizeof r->st);
}

/* ---- per-operation submitters, both styles ---- */

static void do_open(int style, struct rec *r, const char *path, int flags, mode_t mode)
{
    SUBMIT(style, r, evaio_open(path, flags, mode, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_open_init(&r->own, path, flags, mode, rec_cb, r));
}

static void do_close(int style, struct rec *r, int fd)
{
    SUBMIT(style, r, evaio_close(fd, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_close_init(&r->own, fd, rec_cb, r));
}

static void do_read(int style, struct rec *r, int fd, int64_t off, size_t len, void *buf)
{
    SUBMIT(style, r, evaio_read(fd, off, len, buf, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_read_init(&r->own, fd, off, len, buf, rec_cb, r));
}

static void do_write(int style, struct rec *r, int fd, int64_t off, size_t len, const void *buf)
{
    SUBMIT(style, r, evaio_write(fd, off, len, buf, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_write_init(&r->own, fd, off, len, buf, rec_cb, r));
}

static void do_fstat(int style, struct rec *r, int fd, struct stat *buf)
{
    SUBMIT(style, r, evaio_fstat(fd, buf, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_fstat_init(&r->own, fd, buf, rec_cb, r));
}

static void do_fsync(int style, struct rec *r, int fd)
{
    SUBMIT(style, r, evaio_fsync(fd, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_fsync_init(&r->own, fd, rec_cb, r));
}

/* ---- helpers ---- */

/* A descriptor number that is certainly closed, and far above the numbers
 * the process (or the library, opening its eventfd) would be handed next. */
static int closed_fd(void)
{
    long max = sysconf(_SC_OPEN_MAX);
    int floor_fd = max > 300 ? (int)(max - 100 > 4000 ? 4000 : max - 100) : 100;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, floor_fd);
    CHECK(hi >= floor_fd);
    CHECK_EQ(close(fd), 0);
    CHECK_EQ(close(hi), 0);
    errno = 0;
    CHECK_EQ(fcntl(hi, F_GETFD), -1);
    CHECK_EQ(errno, EBADF);
    return hi;
}

static unsigned char pattern_byte(size_t i)
{
    return (unsigned char)((i * 7 + 3) ^ (i >> 8));
}

#define PATTERN_LEN 10000

/* A file holding PATTERN_LEN pattern bytes. */
static const char *make_pattern_file(const char *name)
{
    const char *path = check_path(name);
    unsigned char *data = malloc(PATTERN_LEN);
    CHECK(data != NULL);
    for (size_t i = 0; i < PATTERN_LEN; i++)
        data[i] = pattern_byte(i);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, data, PATTERN_LEN), PATTERN_LEN);
    CHECK_EQ(close(fd), 0);
    free(data);
    return path;
}

static void check_pattern(const unsigned char *got, size_t off, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (got[i] != pattern_byte(off + i)) {
            fprintf(stderr, "byte %zu (file offset %zu) differs\n", i, off + i);
            CHECK(got[i] == pattern_byte(off + i));
        }
}

static off_t file_pos(int fd)
{
    off_t pos = lseek(fd, 0, SEEK_CUR);
    CHECK(pos >= 0);
    return pos;
}

/* Runs a failing syscall, returning its errno (and checking it failed). */
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

/* ---- open ---- */

static void test_open(int style)
{
    struct rec r = { 0 };
    struct stat st_async, st_sync;
    begin("open", style);

    /* Creating a file: same result as open(2), and the descriptor is close-on-exec
     * even though O_CLOEXEC was not asked for. */
    const char *p = check_path(style == WRAP ? "open-new-wrap" : "open-new-init");
    do_open(style, &r, p, O_RDWR | O_CREAT | O_EXCL, 0640);
    CHECK(!r.rejected);
    CHECK_EQ(r.calls, 1);
    CHECK_EQ(r.type, EVAIO_OP_OPEN);
    CHECK_EQ(r.errorno, 0);
    CHECK(r.result >= 0);
    int fd = (int)r.result;
    int fdflags = fcntl(fd, F_GETFD);
    CHECK(fdflags >= 0);
    CHECK(fdflags & FD_CLOEXEC);
    int flflags = fcntl(fd, F_GETFL);
    CHECK(flflags >= 0);
    CHECK_EQ(flflags & O_ACCMODE, O_RDWR);
    CHECK_EQ(fstat(fd, &st_async), 0);
    CHECK_EQ(stat(p, &st_sync), 0);
    check_same_file(&st_async, &st_sync);
    CHECK(S_ISREG(st_async.st_mode));
    CHECK_EQ(st_async.st_mode & 0777, 0640 & ~022);
    CHECK_EQ(close(fd), 0);

    /* Opening read-only without O_CLOEXEC: still close-on-exec. */
    do_open(style, &r, p, O_RDONLY, 0);
    CHECK(r.result >= 0);
    CHECK_EQ(r.errorno, 0);
    fd = (int)r.result;
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    CHECK_EQ(fstat(fd, &st_async), 0);
    CHECK_EQ(st_async.st_ino, st_sync.st_ino);
    CHECK_EQ(close(fd), 0);

    /* O_EXCL on an existing file: EEXIST, as open(2) says. */
    int err = SYNC_ERRNO(open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    CHECK_EQ(err, EEXIST);
    do_open(style, &r, p, O_RDWR | O_CREAT | O_EXCL, 0600);
    expect_fail(&r, EVAIO_OP_OPEN, err);

    /* A missing path: ENOENT. */
    const char *missing = check_path("open-missing");
    err = SYNC_ERRNO(open(missing, O_RDONLY | O_CLOEXEC));
    CHECK_EQ(err, ENOENT);
    do_open(style, &r, missing, O_RDONLY, 0);
    expect_fail(&r, EVAIO_OP_OPEN, err);
    CHECK_EQ(access(missing, F_OK), -1); /* and nothing created */

    /* A missing parent with O_CREAT: ENOENT. */
    const char *noparent = check_path("open-no-such-dir/file");
    err = SYNC_ERRNO(open(noparent, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    do_open(style, &r, noparent, O_RDWR | O_CREAT, 0600);
    expect_fail(&r, EVAIO_OP_OPEN, err);

    /* A directory opened for writing: EISDIR. */
    err = SYNC_ERRNO(open(check_tmpdir(), O_WRONLY | O_CLOEXEC));
    CHECK_EQ(err, EISDIR);
    do_open(style, &r, check_tmpdir(), O_WRONLY, 0);
    expect_fail(&r, EVAIO_OP_OPEN, err);

    /* A NULL path: the wrapper refuses with EFAULT and nothing runs; a
     * caller-owned request fails through its callback with EFAULT. */
    do_open(style, &r, NULL, O_RDONLY, 0);
    if (style == WRAP) {
        CHECK(r.rejected);
        CHECK_EQ(r.submit_errno, EFAULT);
        CHECK_EQ(r.calls, 0);
    } else {
        expect_fail(&r, EVAIO_OP_OPEN, EFAULT);
    }
    rec_reset(&r);
}

/* The wrapper copies the path: the caller's buffer may change right after. */
static void test_open_path_copied(void)
{
    struct rec r = { 0 };
    begin("open path copy", WRAP);
    const char *p = make_pattern_file("open-copy");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", p);
    rec_reset(&r);
    r.expect_req = evaio_open(buf, O_RDONLY, 0, EVAIO_PRI_DEFAULT, rec_cb, &r);
    CHECK(r.expect_req != NULL);
    memset(buf, 'x', sizeof buf - 1); /* now a path that does not exist */
    buf[sizeof buf - 1] = 0;
    rec_wait(&r);
    CHECK(r.result >= 0);
    struct stat a, b;
    CHECK_EQ(fstat((int)r.result, &a), 0);
    CHECK_EQ(stat(p, &b), 0);
    check_same_file(&a, &b);
    CHECK_EQ(close((int)r.result), 0);
    rec_reset(&r);
}

/* ---- close ---- */

static void test_close(int style)
{
    struct rec r = { 0 };
    begin("close", style);

    int fd = open(check_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(fd >= 0);
    do_close(style, &r, fd);
    expect_same(&r, EVAIO_OP_CLOSE, 0, 0);
    errno = 0;
    CHECK_EQ(fcntl(fd, F_GETFD), -1); /* really closed */
    CHECK_EQ(errno, EBADF);

    /* The same descriptor again, now closed: EBADF. */
    int bad = closed_fd();
    int err = SYNC_ERRNO(close(bad));
    CHECK_EQ(err, EBADF);
    do_close(style, &r, bad);
    expect_fail(&r, EVAIO_OP_CLOSE, err);

    /* -1: EBADF. */
    err = SYNC_ERRNO(close(-1));
    CHECK_EQ(err, EBADF);
    do_close(style, &r, -1);
    expect_fail(&r, EVAIO_OP_CLOSE, err);
    rec_reset(&r);
}

/* ---- read ---- */

static void test_read(int style)
{
    struct rec r = { 0 };
    begin("read", style);
    const char *p = make_pattern_file(style == WRAP ? "read-wrap" : "read-init");
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    unsigned char buf[4096], sync_buf[4096];

    /* At an offset, into the caller's buffer: like pread(2), position unchanged. */
    memset(buf, 0, sizeof buf);
    ssize_t sync_n = pread(fd, sync_buf, 500, 100);
    CHECK_EQ(sync_n, 500);
    do_read(style, &r, fd, 100, 500, buf);
    expect_same(&r, EVAIO_OP_READ, sync_n, 0);
    CHECK(r.buf_seen == buf);
    CHECK(memcmp(buf, sync_buf, 500) == 0);
    check_pattern(buf, 100, 500);
    CHECK_EQ(file_pos(fd), 0);

    /* Offset -1: reads at the file position and advances it, like read(2). */
    CHECK_EQ(lseek(fd, 1000, SEEK_SET), 1000);
    do_read(style, &r, fd, -1, 700, buf);
    expect_same(&r, EVAIO_OP_READ, 700, 0);
    check_pattern(buf, 1000, 700);
    CHECK_EQ(file_pos(fd), 1700);
    do_read(style, &r, fd, -1, 300, NULL);
    expect_same(&r, EVAIO_OP_READ, 300, 0);
    check_pattern(r.bytes, 1700, 300);
    CHECK_EQ(file_pos(fd), 2000);
    /* An explicit offset meanwhile leaves the position alone. */
    do_read(style, &r, fd, 0, 10, buf);
    expect_same(&r, EVAIO_OP_READ, 10, 0);
    check_pattern(buf, 0, 10);
    CHECK_EQ(file_pos(fd), 2000);
    /* Only -1 means "at the position": another negative offset is refused
     * like pread(2) refuses it, and the position stays. */
    do_read(style, &r, fd, -2, 10, buf);
    expect_fail(&r, EVAIO_OP_READ, EINVAL);
    CHECK_EQ(file_pos(fd), 2000);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);

    /* Short read at the end, and 0 at and past the end, as pread(2) says. */
    sync_n = pread(fd, sync_buf, 500, PATTERN_LEN - 100);
    CHECK_EQ(sync_n, 100);
    do_read(style, &r, fd, PATTERN_LEN - 100, 500, buf);
    expect_same(&r, EVAIO_OP_READ, sync_n, 0);
    check_pattern(buf, PATTERN_LEN - 100, 100);
    do_read(style, &r, fd, PATTERN_LEN, 500, buf);
    expect_same(&r, EVAIO_OP_READ, 0, 0);
    do_read(style, &r, fd, PATTERN_LEN + 12345, 500, NULL);
    expect_same(&r, EVAIO_OP_READ, 0, 0);
    do_read(style, &r, fd, 0, 0, buf);
    expect_same(&r, EVAIO_OP_READ, 0, 0);

    /* NULL buffer: the library allocates `length` bytes, visible as
     * req->args.read.buf during the callback (and freed after it: LSan). */
    do_read(style, &r, fd, 3000, 4000, NULL);
    expect_same(&r, EVAIO_OP_READ, 4000, 0);
    CHECK(r.buf_seen != NULL);
    check_pattern(r.bytes, 3000, 4000);
    do_read(style, &r, fd, 0, PATTERN_LEN * 2, NULL); /* larger than the file */
    expect_same(&r, EVAIO_OP_READ, PATTERN_LEN, 0);
    check_pattern(r.bytes, 0, PATTERN_LEN);
    do_read(style, &r, fd, 0, 0, NULL); /* length 0 */
    expect_same(&r, EVAIO_OP_READ, 0, 0);
    CHECK_EQ(file_pos(fd), 0);

    /* A huge length with a NULL buffer cannot be allocated: ENOMEM, no crash. */
    do_read(style, &r, fd, 0, SIZE_MAX / 2, NULL);
    expect_fail(&r, EVAIO_OP_READ, ENOMEM);
    do_read(style, &r, fd, -1, SIZE_MAX / 2 + 1, NULL);
    expect_fail(&r, EVAIO_OP_READ, ENOMEM);
    CHECK_EQ(file_pos(fd), 0);

    /* Bad descriptors: EBADF, with the caller's buffer or the library's. */
    int err = SYNC_ERRNO(pread(-1, sync_buf, 10, 0));
    CHECK_EQ(err, EBADF);
    do_read(style, &r, -1, 0, 10, buf);
    expect_fail(&r, EVAIO_OP_READ, err);
    do_read(style, &r, -1, -1, 10, NULL);
    expect_fail(&r, EVAIO_OP_READ, err);
    int bad = closed_fd();
    err = SYNC_ERRNO(read(bad, sync_buf, 10));
    CHECK_EQ(err, EBADF);
    do_read(style, &r, bad, -1, 10, buf);
    expect_fail(&r, EVAIO_OP_READ, err);
    do_read(style, &r, bad, 0, 10, NULL);
    expect_fail(&r, EVAIO_OP_READ, err);

    /* A write-only descriptor: EBADF. */
    int wfd = open(p, O_WRONLY | O_CLOEXEC);
    CHECK(wfd >= 0);
    err = SYNC_ERRNO(pread(wfd, sync_buf, 10, 0));
    CHECK_EQ(err, EBADF);
    do_read(style, &r, wfd, 0, 10, buf);
    expect_fail(&r, EVAIO_OP_READ, err);
    CHECK_EQ(close(wfd), 0);

    /* A directory: EISDIR. */
    int dfd = open(check_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dfd >= 0);
    err = SYNC_ERRNO(read(dfd, sync_buf, 10));
    CHECK_EQ(err, EISDIR);
    do_read(style, &r, dfd, -1, 10, NULL);
    expect_fail(&r, EVAIO_OP_READ, err);
    CHECK_EQ(close(dfd), 0);

    /* A pipe with data, at the "file position" (pread would be ESPIPE). */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    CHECK_EQ(write(pfd[1], "pipe!", 5), 5);
    do_read(style, &r, pfd[0], -1, sizeof buf, buf);
    expect_same(&r, EVAIO_OP_READ, 5, 0);
    CHECK(memcmp(buf, "pipe!", 5) == 0);
    err = SYNC_ERRNO(pread(pfd[0], sync_buf, 10, 0));
    CHECK_EQ(err, ESPIPE);
    do_read(style, &r, pfd[0], 0, 10, buf);
    expect_fail(&r, EVAIO_OP_READ, err);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- write ---- */

static void read_file(const char *path, char *out, size_t cap, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    ssize_t n = read(fd, out, cap);
    CHECK(n >= 0);
    *len = (size_t)n;
    CHECK_EQ(close(fd), 0);
}

static void test_write(int style)
{
    struct rec r = { 0 };
    char got[256];
    size_t len;
    begin("write", style);
    const char *p = check_path(style == WRAP ? "write-wrap" : "write-init");
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);

    /* At an offset, like pwrite(2): a hole before it, position unchanged. */
    do_write(style, &r, fd, 10, 5, "hello");
    expect_same(&r, EVAIO_OP_WRITE, 5, 0);
    CHECK_EQ(file_pos(fd), 0);
    read_file(p, got, sizeof got, &len);
    CHECK_EQ(len, 15);
    CHECK(memcmp(got, "\0\0\0\0\0\0\0\0\0\0hello", 15) == 0);

    /* Offset -1 writes at the file position and advances it, like write(2). */
    CHECK_EQ(ftruncate(fd, 0), 0);
    CHECK_EQ(write(fd, "AAAA", 4), 4);
    CHECK_EQ(file_pos(fd), 4);
    do_write(style, &r, fd, -1, 4, "BBBB");
    expect_same(&r, EVAIO_OP_WRITE, 4, 0);
    CHECK_EQ(file_pos(fd), 8);
    do_write(style, &r, fd, -1, 2, "CC");
    expect_same(&r, EVAIO_OP_WRITE, 2, 0);
    CHECK_EQ(file_pos(fd), 10);
    /* ... and an explicit offset overwrites without moving it. */
    do_write(style, &r, fd, 1, 2, "zz");
    expect_same(&r, EVAIO_OP_WRITE, 2, 0);
    CHECK_EQ(file_pos(fd), 10);
    read_file(p, got, sizeof got, &len);
    CHECK_EQ(len, 10);
    CHECK(memcmp(got, "AzzABBBBCC", 10) == 0);
    /* Another negative offset is refused, like pwrite(2), and writes nothing. */
    do_write(style, &r, fd, -2, 2, "yy");
    expect_fail(&r, EVAIO_OP_WRITE, EINVAL);
    CHECK_EQ(file_pos(fd), 10);

    /* Length 0 writes nothing. */
    do_write(style, &r, fd, 0, 0, "ignored");
    expect_same(&r, EVAIO_OP_WRITE, 0, 0);
    read_file(p, got, sizeof got, &len);
    CHECK_EQ(len, 10);

    /* Bad descriptors: EBADF. */
    int err = SYNC_ERRNO(pwrite(-1, "x", 1, 0));
    CHECK_EQ(err, EBADF);
    do_write(style, &r, -1, 0, 1, "x");
    expect_fail(&r, EVAIO_OP_WRITE, err);
    do_write(style, &r, -1, -1, 1, "x");
    expect_fail(&r, EVAIO_OP_WRITE, err);
    int bad = closed_fd();
    err = SYNC_ERRNO(write(bad, "x", 1));
    CHECK_EQ(err, EBADF);
    do_write(style, &r, bad, -1, 1, "x");
    expect_fail(&r, EVAIO_OP_WRITE, err);
    do_write(style, &r, bad, 0, 1, "x");
    expect_fail(&r, EVAIO_OP_WRITE, err);

    /* A read-only descriptor: EBADF, file untouched. */
    int rfd = open(p, O_RDONLY | O_CLOEXEC);
    CHECK(rfd >= 0);
    err = SYNC_ERRNO(pwrite(rfd, "x", 1, 0));
    CHECK_EQ(err, EBADF);
    do_write(style, &r, rfd, 0, 1, "x");
    expect_fail(&r, EVAIO_OP_WRITE, err);
    CHECK_EQ(close(rfd), 0);
    read_file(p, got, sizeof got, &len);
    CHECK_EQ(len, 10);
    CHECK(memcmp(got, "AzzABBBBCC", 10) == 0);

    /* A pipe at the "file position"; pwrite on it is ESPIPE. */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    do_write(style, &r, pfd[1], -1, 4, "pipe");
    expect_same(&r, EVAIO_OP_WRITE, 4, 0);
    CHECK_EQ(read(pfd[0], got, sizeof got), 4);
    CHECK(memcmp(got, "pipe", 4) == 0);
    err = SYNC_ERRNO(pwrite(pfd[1], "x", 1, 0));
    CHECK_EQ(err, ESPIPE);
    do_write(style, &r, pfd[1], 0, 1, "x");
    expect_fail(&r, EVAIO_OP_WRITE, err);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* O_APPEND: offset -1 appends at the end whatever the position. */
static void test_write_append(int style)
{
    struct rec r = { 0 };
    char got[64];
    size_t len;
    begin("write O_APPEND", style);
    const char *p = check_path(style == WRAP ? "append-wrap" : "append-init");
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "12345", 5), 5);
    CHECK_EQ(close(fd), 0);

    do_open(style, &r, p, O_WRONLY | O_APPEND, 0);
    CHECK(r.result >= 0);
    fd = (int)r.result;
    CHECK_EQ(file_pos(fd), 0);
    do_write(style, &r, fd, -1, 3, "abc");
    expect_same(&r, EVAIO_OP_WRITE, 3, 0);
    CHECK_EQ(file_pos(fd), 8);
    do_write(style, &r, fd, -1, 2, "de");
    expect_same(&r, EVAIO_OP_WRITE, 2, 0);
    read_file(p, got, sizeof got, &len);
    CHECK_EQ(len, 10);
    CHECK(memcmp(got, "12345abcde", 10) == 0);
    do_close(style, &r, fd);
    expect_same(&r, EVAIO_OP_CLOSE, 0, 0);
    rec_reset(&r);
}

/* ---- fstat ---- */

static void test_fstat(int style)
{
    struct rec r = { 0 };
    struct stat mine, sync_st;
    begin("fstat", style);
    const char *p = make_pattern_file(style == WRAP ? "fstat-wrap" : "fstat-init");
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_EQ(fstat(fd, &sync_st), 0);

    /* Into the caller's struct. */
    memset(&mine, 0xa5, sizeof mine);
    do_fstat(style, &r, fd, &mine);
    expect_same(&r, EVAIO_OP_FSTAT, 0, 0);
    CHECK(r.buf_seen == &mine);
    check_same_file(&mine, &sync_st);
    CHECK_EQ(mine.st_size, PATTERN_LEN);
    CHECK(S_ISREG(mine.st_mode));

    /* NULL: the library supplies one, req->args.fstat.buf in the callback. */
    do_fstat(style, &r, fd, NULL);
    expect_same(&r, EVAIO_OP_FSTAT, 0, 0);
    CHECK(r.buf_seen != NULL);
    check_same_file(&r.st, &sync_st);

    /* A directory and a pipe. */
    int dfd = open(check_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dfd >= 0);
    CHECK_EQ(fstat(dfd, &sync_st), 0);
    do_fstat(style, &r, dfd, NULL);
    expect_same(&r, EVAIO_OP_FSTAT, 0, 0);
    CHECK(S_ISDIR(r.st.st_mode));
    CHECK_EQ(r.st.st_ino, sync_st.st_ino);
    CHECK_EQ(close(dfd), 0);
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    do_fstat(style, &r, pfd[0], &mine);
    expect_same(&r, EVAIO_OP_FSTAT, 0, 0);
    CHECK(S_ISFIFO(mine.st_mode));
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);

    /* Bad descriptors: EBADF, with either kind of buffer. */
    int err = SYNC_ERRNO(fstat(-1, &sync_st));
    CHECK_EQ(err, EBADF);
    do_fstat(style, &r, -1, &mine);
    expect_fail(&r, EVAIO_OP_FSTAT, err);
    do_fstat(style, &r, -1, NULL);
    expect_fail(&r, EVAIO_OP_FSTAT, err);
    int bad = closed_fd();
    err = SYNC_ERRNO(fstat(bad, &sync_st));
    CHECK_EQ(err, EBADF);
    do_fstat(style, &r, bad, &mine);
    expect_fail(&r, EVAIO_OP_FSTAT, err);
    do_fstat(style, &r, bad, NULL);
    expect_fail(&r, EVAIO_OP_FSTAT, err);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- fsync ---- */

static void test_fsync(int style)
{
    struct rec r = { 0 };
    begin("fsync", style);
    const char *p = make_pattern_file(style == WRAP ? "fsync-wrap" : "fsync-init");
    int fd = open(p, O_RDWR | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_EQ(pwrite(fd, "dirty", 5, 0), 5);

    int sync_r = fsync(fd);
    CHECK_EQ(sync_r, 0);
    CHECK_EQ(pwrite(fd, "again", 5, 0), 5);
    do_fsync(style, &r, fd);
    expect_same(&r, EVAIO_OP_FSYNC, sync_r, 0);

    /* Bad descriptors: EBADF. */
    int err = SYNC_ERRNO(fsync(-1));
    CHECK_EQ(err, EBADF);
    do_fsync(style, &r, -1);
    expect_fail(&r, EVAIO_OP_FSYNC, err);
    int bad = closed_fd();
    err = SYNC_ERRNO(fsync(bad));
    CHECK_EQ(err, EBADF);
    do_fsync(style, &r, bad);
    expect_fail(&r, EVAIO_OP_FSYNC, err);

    /* A pipe cannot be synced: EINVAL. */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    err = SYNC_ERRNO(fsync(pfd[1]));
    CHECK_EQ(err, EINVAL);
    do_fsync(style, &r, pfd[1]);
    expect_fail(&r, EVAIO_OP_FSYNC, err);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- a caller-owned request restarted: the library's buffers again ---- */

static void test_restart_owned(void)
{
    struct rec r = { 0 };
    begin("restart caller-owned read/fstat with NULL buffers", INIT);
    const char *p = make_pattern_file("restart");
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    struct stat sync_st;
    CHECK_EQ(fstat(fd, &sync_st), 0);

    rec_reset(&r);
    evaio_read_init(&r.own, fd, 0, 64, NULL, rec_cb, &r);
    r.expect_req = &r.own;
    for (int round = 0; round < 3; round++) {
        r.calls = 0;
        CHECK_EQ(evaio_start(&r.own), 0);
        CHECK_EQ(evaio_wait(), 0);
        CHECK_EQ(r.calls, 1);
        expect_same(&r, EVAIO_OP_READ, 64, 0);
        CHECK(r.buf_seen != NULL);
        check_pattern(r.bytes, 0, 64);
    }

    evaio_fstat_init(&r.own, fd, NULL, rec_cb, &r);
    for (int round = 0; round < 3; round++) {
        r.calls = 0;
        CHECK_EQ(evaio_start(&r.own), 0);
        CHECK_EQ(evaio_wait(), 0);
        expect_same(&r, EVAIO_OP_FSTAT, 0, 0);
        check_same_file(&r.st, &sync_st);
    }
    CHECK_EQ(evaio_nreqs(), 0);
    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- many at once: every callback exactly once, each with its own data ---- */

#define NCONC 48

static void test_concurrent_reads(void)
{
    static struct rec recs[NCONC];
    static unsigned char bufs[NCONC][200];
    begin("concurrent reads, mixed styles and buffers", WRAP);
    const char *p = make_pattern_file("concurrent");
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    for (int i = 0; i < NCONC; i++) {
        struct rec *r = &recs[i];
        rec_reset(r);
        void *buf = i % 3 == 0 ? NULL : bufs[i];
        int64_t off = (int64_t)i * 199;
        if (i % 2) {
            r->expect_req = evaio_read(fd, off, 200, buf, (i % 9) - 4, rec_cb, r);
            CHECK(r->expect_req != NULL);
        } else {
            evaio_read_init(&r->own, fd, off, 200, buf, rec_cb, r);
            evaio_req_set_pri(&r->own, (i % 9) - 4);
            r->expect_req = &r->own;
            CHECK_EQ(evaio_start(&r->own), 0);
        }
    }
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    for (int i = 0; i < NCONC; i++) {
        struct rec *r = &recs[i];
        expect_same(r, EVAIO_OP_READ, 200, 0);
        CHECK(r->req_seen == r->expect_req);
        if (i % 3)
            CHECK(r->buf_seen == bufs[i]);
        check_pattern(r->bytes, (size_t)i * 199, 200);
        rec_reset(r);
    }
    CHECK_EQ(close(fd), 0);
}

int main(void)
{
    main_thread = pthread_self();
    umask(022);
    CHECK(evaio_default_ctx() != NULL); /* its eventfd is opened before any test fd */
    check_tmpdir();

    for (int style = WRAP; style <= INIT; style++) {
        test_open(style);
        test_close(style);
        test_read(style);
        test_write(style);
        test_write_append(style);
        test_fstat(style);
        test_fsync(style);
    }
    test_open_path_copied();
    test_restart_owned();
    test_concurrent_reads();

    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    fprintf(stderr, "test_ops_fd: all passed\n");
    return 0;
}
