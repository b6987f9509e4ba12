/* Per-operation tests for the descriptor operations that duplicate, position,
 * transfer and control: dup2, dup3, seek, readv, writev, sendfile,
 * copy_file_range, fcntl, ioctl, flock.  Every case runs through both API
 * styles (the library-allocated wrapper evaio_OP and the caller-owned
 * evaio_OP_init + evaio_start), counts callbacks (exactly one each), checks
 * the real effect on the files and descriptors, and compares errors with
 * what the equivalent synchronous call gives. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>

#define REC_OUTPUTS int unused_out;
#include "op_harness.h"
#include "test_ops_fd_util.h"

static void rec_capture(struct rec *r, evaio_req *req)
{
    (void)r;
    (void)req;
}

static void rec_reset_outputs(struct rec *r)
{
    r->unused_out = 0;
}

/* ---- per-operation submitters, both styles ---- */

static void do_dup2(int style, struct rec *r, int fd, int new_fd)
{
    SUBMIT(style, r, evaio_dup2(fd, new_fd, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_dup2_init(&r->own, fd, new_fd, rec_cb, r));
}

static void do_dup3(int style, struct rec *r, int fd, int new_fd, int flags)
{
    SUBMIT(style, r, evaio_dup3(fd, new_fd, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_dup3_init(&r->own, fd, new_fd, flags, rec_cb, r));
}

static void do_seek(int style, struct rec *r, int fd, int64_t offset, int whence)
{
    SUBMIT(style, r, evaio_seek(fd, offset, whence, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_seek_init(&r->own, fd, offset, whence, rec_cb, r));
}

static void do_readv(int style, struct rec *r, int fd, int64_t offset, const struct iovec *iov, int count,
                     int flags)
{
    SUBMIT(style, r, evaio_readv(fd, offset, iov, count, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_readv_init(&r->own, fd, offset, iov, count, flags, rec_cb, r));
}

static void do_writev(int style, struct rec *r, int fd, int64_t offset, const struct iovec *iov, int count,
                      int flags)
{
    SUBMIT(style, r, evaio_writev(fd, offset, iov, count, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_writev_init(&r->own, fd, offset, iov, count, flags, rec_cb, r));
}

static void do_sendfile(int style, struct rec *r, int out_fd, int in_fd, int64_t offset, size_t length)
{
    SUBMIT(style, r, evaio_sendfile(out_fd, in_fd, offset, length, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_sendfile_init(&r->own, out_fd, in_fd, offset, length, rec_cb, r));
}

static void do_copy_file_range(int style, struct rec *r, int in_fd, int64_t in_off, int out_fd, int64_t out_off,
                               size_t length, int flags)
{
    SUBMIT(style, r,
           evaio_copy_file_range(in_fd, in_off, out_fd, out_off, length, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_copy_file_range_init(&r->own, in_fd, in_off, out_fd, out_off, length, flags, rec_cb, r));
}

static void do_fcntl(int style, struct rec *r, int fd, int cmd, intptr_t arg)
{
    SUBMIT(style, r, evaio_fcntl(fd, cmd, arg, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_fcntl_init(&r->own, fd, cmd, arg, rec_cb, r));
}

static void do_ioctl(int style, struct rec *r, int fd, unsigned long request, intptr_t arg)
{
    SUBMIT(style, r, evaio_ioctl(fd, request, arg, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_ioctl_init(&r->own, fd, request, arg, rec_cb, r));
}

static void do_flock(int style, struct rec *r, int fd, int operation)
{
    SUBMIT(style, r, evaio_flock(fd, operation, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_flock_init(&r->own, fd, operation, rec_cb, r));
}

static const char *name_for(const char *base, int style)
{
    static char bufs[4][64];
    static int next;
    char *buf = bufs[next++ % 4];
    snprintf(buf, sizeof bufs[0], "%s-%s", base, style == WRAP ? "wrap" : "init");
    return buf;
}

static void same_open_file(int a, int b)
{
    struct stat sa, sb;
    CHECK_EQ(fstat(a, &sa), 0);
    CHECK_EQ(fstat(b, &sb), 0);
    CHECK_EQ(sa.st_dev, sb.st_dev);
    CHECK_EQ(sa.st_ino, sb.st_ino);
}

static int is_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    CHECK(fl >= 0);
    return (fl & FD_CLOEXEC) != 0;
}

/* ---- dup2 ---- */

static void test_dup2(int style)
{
    struct rec r = { 0 };
    begin("dup2", style);
    int fd = make_file(name_for("dup2", style), "abcdef", 6, O_RDWR);

    /* Onto a closed number: that number, close-on-exec, the same open file
     * (sharing the position). */
    int target = closed_fd();
    do_dup2(style, &r, fd, target);
    expect_same(&r, EVAIO_OP_DUP2, target, 0);
    CHECK(is_cloexec(target));
    same_open_file(fd, target);
    CHECK_EQ(lseek(fd, 4, SEEK_SET), 4);
    CHECK_EQ(file_pos(target), 4);
    CHECK_EQ(close(target), 0);

    /* Onto an open descriptor without FD_CLOEXEC: it is replaced, and now
     * close-on-exec. */
    int other = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(other >= 0);
    CHECK_EQ(fcntl(other, F_SETFD, 0), 0);
    do_dup2(style, &r, fd, other);
    expect_same(&r, EVAIO_OP_DUP2, other, 0);
    same_open_file(fd, other);
    CHECK(is_cloexec(other));
    CHECK_EQ(close(other), 0);

    /* Onto itself: new_fd, nothing changes (FD_CLOEXEC stays cleared). */
    CHECK_EQ(fcntl(fd, F_SETFD, 0), 0);
    do_dup2(style, &r, fd, fd);
    expect_same(&r, EVAIO_OP_DUP2, fd, 0);
    CHECK(!is_cloexec(fd));
    CHECK_EQ(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);

    /* A closed descriptor onto itself: EBADF, like dup2(2). */
    int bad = closed_fd();
    int err = SYNC_ERRNO(dup2(bad, bad));
    CHECK_EQ(err, EBADF);
    do_dup2(style, &r, bad, bad);
    expect_fail(&r, EVAIO_OP_DUP2, err);

    /* A closed source: EBADF, and the target stays closed. */
    target = closed_fd_besides(bad);
    err = SYNC_ERRNO(dup2(bad, target));
    CHECK_EQ(err, EBADF);
    do_dup2(style, &r, bad, target);
    expect_fail(&r, EVAIO_OP_DUP2, err);
    CHECK_EQ(fcntl(target, F_GETFD), -1);
    do_dup2(style, &r, -1, target);
    expect_fail(&r, EVAIO_OP_DUP2, EBADF);

    /* A negative target, or one above the descriptor limit: EBADF. */
    err = SYNC_ERRNO(dup2(fd, -1));
    CHECK_EQ(err, EBADF);
    do_dup2(style, &r, fd, -1);
    expect_fail(&r, EVAIO_OP_DUP2, err);
    err = SYNC_ERRNO(dup2(fd, INT_MAX));
    CHECK_EQ(err, EBADF);
    do_dup2(style, &r, fd, INT_MAX);
    expect_fail(&r, EVAIO_OP_DUP2, err);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- dup3 ---- */

static void test_dup3(int style)
{
    struct rec r = { 0 };
    begin("dup3", style);
    int fd = make_file(name_for("dup3", style), "xyz", 3, O_RDWR);

    /* Flags 0 and O_CLOEXEC: both close-on-exec. */
    int target = closed_fd();
    do_dup3(style, &r, fd, target, 0);
    expect_same(&r, EVAIO_OP_DUP3, target, 0);
    CHECK(is_cloexec(target));
    same_open_file(fd, target);
    CHECK_EQ(close(target), 0);
    do_dup3(style, &r, fd, target, O_CLOEXEC);
    expect_same(&r, EVAIO_OP_DUP3, target, 0);
    CHECK(is_cloexec(target));
    same_open_file(fd, target);

    /* Onto an open descriptor: replaced. */
    int other = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(other >= 0);
    do_dup3(style, &r, target, other, 0);
    expect_same(&r, EVAIO_OP_DUP3, other, 0);
    same_open_file(fd, other);
    CHECK_EQ(close(other), 0);
    CHECK_EQ(close(target), 0);

    /* Another flag: EINVAL, nothing made. */
    target = closed_fd();
    int err = SYNC_ERRNO(dup3(fd, target, O_NONBLOCK));
    CHECK_EQ(err, EINVAL);
    do_dup3(style, &r, fd, target, O_NONBLOCK);
    expect_fail(&r, EVAIO_OP_DUP3, err);
    CHECK_EQ(fcntl(target, F_GETFD), -1);

    /* Onto itself: EINVAL (unlike dup2). */
    err = SYNC_ERRNO(dup3(fd, fd, 0));
    CHECK_EQ(err, EINVAL);
    do_dup3(style, &r, fd, fd, 0);
    expect_fail(&r, EVAIO_OP_DUP3, err);

    /* Bad descriptors: EBADF. */
    int bad = closed_fd_besides(target);
    err = SYNC_ERRNO(dup3(bad, target, 0));
    CHECK_EQ(err, EBADF);
    do_dup3(style, &r, bad, target, 0);
    expect_fail(&r, EVAIO_OP_DUP3, err);
    err = SYNC_ERRNO(dup3(fd, -1, O_CLOEXEC)); /* EINVAL on Linux (it checks -1 first) */
    do_dup3(style, &r, fd, -1, O_CLOEXEC);
    expect_fail(&r, EVAIO_OP_DUP3, err);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- seek ---- */

static void test_seek(int style)
{
    struct rec r = { 0 };
    begin("seek", style);
    int fd = make_file(name_for("seek", style), NULL, 10000, O_RDWR);

    do_seek(style, &r, fd, 100, SEEK_SET);
    expect_same(&r, EVAIO_OP_SEEK, 100, 0);
    CHECK_EQ(file_pos(fd), 100);
    do_seek(style, &r, fd, 50, SEEK_CUR);
    expect_same(&r, EVAIO_OP_SEEK, 150, 0);
    do_seek(style, &r, fd, -10, SEEK_END);
    expect_same(&r, EVAIO_OP_SEEK, 9990, 0);
    CHECK_EQ(file_pos(fd), 9990);
    do_seek(style, &r, fd, 100, SEEK_END); /* past the end is allowed */
    expect_same(&r, EVAIO_OP_SEEK, 10100, 0);
    /* A position beyond 32 bits comes back whole. */
    do_seek(style, &r, fd, INT64_C(5000000000), SEEK_SET);
    expect_same(&r, EVAIO_OP_SEEK, INT64_C(5000000000), 0);
    CHECK_EQ(file_pos(fd), INT64_C(5000000000));
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);

    /* A negative resulting position or an unknown whence: EINVAL, the
     * position unchanged. */
    CHECK_EQ(lseek(fd, 20, SEEK_SET), 20);
    int err = SYNC_ERRNO(lseek(fd, -1, SEEK_SET));
    CHECK_EQ(err, EINVAL);
    do_seek(style, &r, fd, -1, SEEK_SET);
    expect_fail(&r, EVAIO_OP_SEEK, err);
    do_seek(style, &r, fd, -100, SEEK_CUR);
    expect_fail(&r, EVAIO_OP_SEEK, EINVAL);
    err = SYNC_ERRNO(lseek(fd, 0, 12345));
    CHECK_EQ(err, EINVAL);
    do_seek(style, &r, fd, 0, 12345);
    expect_fail(&r, EVAIO_OP_SEEK, err);
    CHECK_EQ(file_pos(fd), 20);

    /* SEEK_DATA and SEEK_HOLE pass through: a file with one block of data
     * at 1 MiB after a hole. */
    int sparse = make_file(name_for("seek-sparse", style), NULL, 0, O_RDWR);
    CHECK_EQ(pwrite(sparse, "data", 4, 1 << 20), 4);
    off_t data_at = lseek(sparse, 0, SEEK_DATA);
    CHECK(data_at >= 0 && data_at <= (1 << 20));
    off_t hole_at = lseek(sparse, 0, SEEK_HOLE);
    CHECK(hole_at >= 0);
    CHECK_EQ(lseek(sparse, 0, SEEK_SET), 0);
    do_seek(style, &r, sparse, 0, SEEK_DATA);
    expect_same(&r, EVAIO_OP_SEEK, data_at, 0);
    CHECK_EQ(file_pos(sparse), data_at);
    do_seek(style, &r, sparse, 0, SEEK_HOLE);
    expect_same(&r, EVAIO_OP_SEEK, hole_at, 0);
    /* At the end: ENXIO. */
    err = SYNC_ERRNO(lseek(sparse, (1 << 20) + 4, SEEK_DATA));
    CHECK_EQ(err, ENXIO);
    do_seek(style, &r, sparse, (1 << 20) + 4, SEEK_DATA);
    expect_fail(&r, EVAIO_OP_SEEK, err);
    CHECK_EQ(close(sparse), 0);

    /* A pipe: ESPIPE. */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    err = SYNC_ERRNO(lseek(pfd[0], 0, SEEK_CUR));
    CHECK_EQ(err, ESPIPE);
    do_seek(style, &r, pfd[0], 0, SEEK_CUR);
    expect_fail(&r, EVAIO_OP_SEEK, err);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);

    /* Bad descriptors: EBADF. */
    int bad = closed_fd();
    err = SYNC_ERRNO(lseek(bad, 0, SEEK_SET));
    CHECK_EQ(err, EBADF);
    do_seek(style, &r, bad, 0, SEEK_SET);
    expect_fail(&r, EVAIO_OP_SEEK, err);
    do_seek(style, &r, -1, 0, SEEK_SET);
    expect_fail(&r, EVAIO_OP_SEEK, EBADF);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- readv ---- */

static void test_readv(int style)
{
    struct rec r = { 0 };
    begin("readv", style);
    int fd = make_file(name_for("readv", style), NULL, 10000, O_RDWR);
    unsigned char a[10], b[1], c[20], all[30];
    struct iovec iov[3] = { { a, sizeof a }, { b, 0 }, { c, sizeof c } };

    /* At an offset, over three buffers (one empty): like preadv, position
     * unchanged. */
    do_readv(style, &r, fd, 100, iov, 3, 0);
    expect_same(&r, EVAIO_OP_READV, 30, 0);
    memcpy(all, a, 10);
    memcpy(all + 10, c, 20);
    check_pattern(all, 100, 30);
    CHECK_EQ(file_pos(fd), 0);

    /* Offset -1: at the file position, which advances. */
    CHECK_EQ(lseek(fd, 1000, SEEK_SET), 1000);
    do_readv(style, &r, fd, -1, iov, 3, 0);
    expect_same(&r, EVAIO_OP_READV, 30, 0);
    memcpy(all, a, 10);
    memcpy(all + 10, c, 20);
    check_pattern(all, 1000, 30);
    CHECK_EQ(file_pos(fd), 1030);

    /* Another negative offset: EINVAL, position unchanged. */
    do_readv(style, &r, fd, -2, iov, 3, 0);
    expect_fail(&r, EVAIO_OP_READV, EINVAL);
    CHECK_EQ(file_pos(fd), 1030);

    /* Short at the end, 0 at and after it; no buffers: 0. */
    do_readv(style, &r, fd, 9985, iov, 3, 0);
    expect_same(&r, EVAIO_OP_READV, 15, 0);
    check_pattern(a, 9985, 10);
    check_pattern(c, 9995, 5);
    do_readv(style, &r, fd, 10000, iov, 3, 0);
    expect_same(&r, EVAIO_OP_READV, 0, 0);
    do_readv(style, &r, fd, 0, iov, 0, 0);
    expect_same(&r, EVAIO_OP_READV, 0, 0);

    /* A bad count: EINVAL, as preadv says. */
    volatile int minus_one = -1; /* hidden from the compiler's argument checks */
    int err = SYNC_ERRNO(preadv(fd, iov, minus_one, 0));
    CHECK_EQ(err, EINVAL);
    do_readv(style, &r, fd, 0, iov, -1, 0);
    expect_fail(&r, EVAIO_OP_READV, err);
    struct iovec *many = calloc(IOV_MAX + 1, sizeof *many);
    CHECK(many != NULL);
    for (int i = 0; i <= IOV_MAX; i++)
        many[i] = (struct iovec){ a, 1 };
    err = SYNC_ERRNO(preadv(fd, many, IOV_MAX + 1, 0));
    CHECK_EQ(err, EINVAL);
    do_readv(style, &r, fd, 0, many, IOV_MAX + 1, 0);
    expect_fail(&r, EVAIO_OP_READV, err);
    /* ... while IOV_MAX buffers are fine. */
    do_readv(style, &r, fd, 0, many, IOV_MAX, 0);
    expect_same(&r, EVAIO_OP_READV, IOV_MAX, 0);
    free(many);

    /* A NULL array: EFAULT from the kernel, no crash. */
    struct iovec *volatile null_iov = NULL;
    err = SYNC_ERRNO(preadv(fd, null_iov, 1, 0));
    CHECK_EQ(err, EFAULT);
    do_readv(style, &r, fd, 0, NULL, 1, 0);
    expect_fail(&r, EVAIO_OP_READV, err);

    /* RWF_* flags pass through: an unknown one is EOPNOTSUPP; RWF_HIPRI on
     * a buffered file does what preadv2 does; RWF_NOWAIT reads cached data
     * (or says it would block). */
    err = SYNC_ERRNO(preadv2(fd, iov, 3, 0, 0x40000000));
    CHECK_EQ(err, EOPNOTSUPP);
    do_readv(style, &r, fd, 0, iov, 3, 0x40000000);
    expect_fail(&r, EVAIO_OP_READV, err);
    ssize_t sync_n = preadv2(fd, iov, 3, 500, RWF_HIPRI);
    int sync_err = sync_n < 0 ? errno : 0;
    do_readv(style, &r, fd, 500, iov, 3, RWF_HIPRI);
    expect_same(&r, EVAIO_OP_READV, sync_n, sync_err);
    if (sync_n == 30)
        check_pattern(a, 500, 10);
    memset(a, 0, sizeof a);
    do_readv(style, &r, fd, 700, iov, 3, RWF_NOWAIT);
    CHECK(r.result == 30 || (r.result == -1 && r.errorno == EAGAIN));
    if (r.result == 30)
        check_pattern(a, 700, 10);

    /* A pipe at the file position works; at an offset it is ESPIPE. */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    CHECK_EQ(write(pfd[1], "0123456789abcdefghijXYZ", 23), 23);
    do_readv(style, &r, pfd[0], -1, iov, 3, 0);
    expect_same(&r, EVAIO_OP_READV, 23, 0);
    CHECK(memcmp(a, "0123456789", 10) == 0 && memcmp(c, "abcdefghijXYZ", 13) == 0);
    err = SYNC_ERRNO(preadv(pfd[0], iov, 3, 0));
    CHECK_EQ(err, ESPIPE);
    do_readv(style, &r, pfd[0], 0, iov, 3, 0);
    expect_fail(&r, EVAIO_OP_READV, err);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);

    /* Bad, write-only descriptors: EBADF; a directory: EISDIR. */
    int bad = closed_fd();
    err = SYNC_ERRNO(readv(bad, iov, 3));
    CHECK_EQ(err, EBADF);
    do_readv(style, &r, bad, -1, iov, 3, 0);
    expect_fail(&r, EVAIO_OP_READV, err);
    do_readv(style, &r, bad, 0, iov, 3, 0);
    expect_fail(&r, EVAIO_OP_READV, err);
    int wfd = open(check_path(name_for("readv", style)), O_WRONLY | O_CLOEXEC);
    CHECK(wfd >= 0);
    do_readv(style, &r, wfd, 0, iov, 3, 0);
    expect_fail(&r, EVAIO_OP_READV, EBADF);
    CHECK_EQ(close(wfd), 0);
    int dfd = open(check_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dfd >= 0);
    err = SYNC_ERRNO(readv(dfd, iov, 3));
    CHECK_EQ(err, EISDIR);
    do_readv(style, &r, dfd, -1, iov, 3, 0);
    expect_fail(&r, EVAIO_OP_READV, err);
    CHECK_EQ(close(dfd), 0);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* The wrapper copies the iovec array: the caller may change it at once. */
static void test_readv_array_copied(void)
{
    struct rec r = { 0 };
    begin("readv iovec copy", WRAP);
    int fd = make_file("readv-copy", NULL, 1000, O_RDONLY);
    unsigned char a[16], b[16], decoy[16];
    struct iovec iov[2] = { { a, sizeof a }, { b, sizeof b } };
    rec_reset(&r);
    r.expect_req = evaio_readv(fd, 200, iov, 2, 0, EVAIO_PRI_DEFAULT, rec_cb, &r);
    CHECK(r.expect_req != NULL);
    iov[0] = (struct iovec){ decoy, sizeof decoy };
    iov[1] = (struct iovec){ NULL, 1000 }; /* would fail with EFAULT if used */
    rec_wait(&r);
    expect_same(&r, EVAIO_OP_READV, 32, 0);
    check_pattern(a, 200, 16);
    check_pattern(b, 216, 16);
    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- writev ---- */

static void test_writev(int style)
{
    struct rec r = { 0 };
    begin("writev", style);
    int fd = make_file(name_for("writev", style), "0123456789", 10, O_RDWR);
    size_t len;
    unsigned char *got;
    struct iovec iov[3] = { { "ab", 2 }, { "", 0 }, { "cde", 3 } };

    /* At an offset, over three buffers: like pwritev, position unchanged. */
    do_writev(style, &r, fd, 2, iov, 3, 0);
    expect_same(&r, EVAIO_OP_WRITEV, 5, 0);
    CHECK_EQ(file_pos(fd), 0);
    got = file_bytes(fd, &len);
    CHECK_EQ(len, 10);
    CHECK(memcmp(got, "01abcde789", 10) == 0);
    free(got);

    /* Offset -1: at the file position, which advances; past the end it grows. */
    CHECK_EQ(lseek(fd, 8, SEEK_SET), 8);
    do_writev(style, &r, fd, -1, iov, 3, 0);
    expect_same(&r, EVAIO_OP_WRITEV, 5, 0);
    CHECK_EQ(file_pos(fd), 13);
    got = file_bytes(fd, &len);
    CHECK_EQ(len, 13);
    CHECK(memcmp(got, "01abcde7abcde", 13) == 0);
    free(got);

    /* Another negative offset: EINVAL, nothing written. */
    do_writev(style, &r, fd, -2, iov, 3, 0);
    expect_fail(&r, EVAIO_OP_WRITEV, EINVAL);
    CHECK_EQ(file_size(fd), 13);
    /* No buffers: 0. */
    do_writev(style, &r, fd, 0, iov, 0, 0);
    expect_same(&r, EVAIO_OP_WRITEV, 0, 0);

    /* RWF_APPEND: at the end whatever the offset. */
    struct iovec tail = { "TAIL", 4 };
    do_writev(style, &r, fd, 0, &tail, 1, RWF_APPEND);
    expect_same(&r, EVAIO_OP_WRITEV, 4, 0);
    got = file_bytes(fd, &len);
    CHECK_EQ(len, 17);
    CHECK(memcmp(got, "01abcde7abcdeTAIL", 17) == 0);
    free(got);
    /* An unknown flag: EOPNOTSUPP, nothing written. */
    int err = SYNC_ERRNO(pwritev2(fd, &tail, 1, 0, 0x40000000));
    CHECK_EQ(err, EOPNOTSUPP);
    do_writev(style, &r, fd, 0, &tail, 1, 0x40000000);
    expect_fail(&r, EVAIO_OP_WRITEV, err);
    CHECK_EQ(file_size(fd), 17);

    /* An O_APPEND descriptor at the file position: at the end. */
    int afd = open(check_path(name_for("writev", style)), O_WRONLY | O_APPEND | O_CLOEXEC);
    CHECK(afd >= 0);
    do_writev(style, &r, afd, -1, iov, 3, 0);
    expect_same(&r, EVAIO_OP_WRITEV, 5, 0);
    CHECK_EQ(close(afd), 0);
    got = file_bytes(fd, &len);
    CHECK_EQ(len, 22);
    CHECK(memcmp(got + 17, "abcde", 5) == 0);
    free(got);

    /* Bad counts: EINVAL. */
    volatile int minus_one = -1; /* hidden from the compiler's argument checks */
    err = SYNC_ERRNO(pwritev(fd, iov, minus_one, 0));
    CHECK_EQ(err, EINVAL);
    do_writev(style, &r, fd, 0, iov, -1, 0);
    expect_fail(&r, EVAIO_OP_WRITEV, err);
    do_writev(style, &r, fd, 0, iov, IOV_MAX + 1, 0);
    expect_fail(&r, EVAIO_OP_WRITEV, EINVAL);

    /* A pipe at the file position works; at an offset it is ESPIPE. */
    int pfd[2];
    char buf[16];
    CHECK_EQ(pipe(pfd), 0);
    do_writev(style, &r, pfd[1], -1, iov, 3, 0);
    expect_same(&r, EVAIO_OP_WRITEV, 5, 0);
    CHECK_EQ(read(pfd[0], buf, sizeof buf), 5);
    CHECK(memcmp(buf, "abcde", 5) == 0);
    err = SYNC_ERRNO(pwritev(pfd[1], iov, 3, 0));
    CHECK_EQ(err, ESPIPE);
    do_writev(style, &r, pfd[1], 0, iov, 3, 0);
    expect_fail(&r, EVAIO_OP_WRITEV, err);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);

    /* Bad and read-only descriptors: EBADF, the file untouched. */
    int bad = closed_fd();
    err = SYNC_ERRNO(writev(bad, iov, 3));
    CHECK_EQ(err, EBADF);
    do_writev(style, &r, bad, -1, iov, 3, 0);
    expect_fail(&r, EVAIO_OP_WRITEV, err);
    int rfd = open(check_path(name_for("writev", style)), O_RDONLY | O_CLOEXEC);
    CHECK(rfd >= 0);
    err = SYNC_ERRNO(pwritev(rfd, iov, 3, 0));
    CHECK_EQ(err, EBADF);
    do_writev(style, &r, rfd, 0, iov, 3, 0);
    expect_fail(&r, EVAIO_OP_WRITEV, err);
    CHECK_EQ(close(rfd), 0);
    CHECK_EQ(file_size(fd), 22);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- sendfile ---- */

#define SF_LEN 200000 /* more than the emulation's 64 KiB buffer */

static void check_out_pattern(int out, size_t out_off, size_t in_off, size_t len)
{
    size_t flen;
    unsigned char *got = file_bytes(out, &flen);
    CHECK(flen >= out_off + len);
    check_pattern(got + out_off, in_off, len);
    free(got);
}

static void test_sendfile(int style)
{
    struct rec r = { 0 };
    begin("sendfile", style);
    int in = make_file(name_for("sf-in", style), NULL, SF_LEN, O_RDWR);
    int out = make_file(name_for("sf-out", style), NULL, 0, O_RDWR);

    /* From an offset: in's position stays, out's advances. */
    do_sendfile(style, &r, out, in, 1000, 100000);
    expect_same(&r, EVAIO_OP_SENDFILE, 100000, 0);
    CHECK_EQ(file_pos(in), 0);
    CHECK_EQ(file_pos(out), 100000);
    check_out_pattern(out, 0, 1000, 100000);

    /* Offset -1: from in's position, which advances. */
    CHECK_EQ(lseek(in, 5000, SEEK_SET), 5000);
    do_sendfile(style, &r, out, in, -1, 3000);
    expect_same(&r, EVAIO_OP_SENDFILE, 3000, 0);
    CHECK_EQ(file_pos(in), 8000);
    CHECK_EQ(file_pos(out), 103000);
    check_out_pattern(out, 100000, 5000, 3000);

    /* Past the end: what there is, then 0; length 0: 0. */
    do_sendfile(style, &r, out, in, SF_LEN - 1000, 5000);
    expect_same(&r, EVAIO_OP_SENDFILE, 1000, 0);
    do_sendfile(style, &r, out, in, SF_LEN, 5000);
    expect_same(&r, EVAIO_OP_SENDFILE, 0, 0);
    CHECK_EQ(lseek(in, 0, SEEK_END), SF_LEN);
    do_sendfile(style, &r, out, in, -1, 5000);
    expect_same(&r, EVAIO_OP_SENDFILE, 0, 0);
    do_sendfile(style, &r, out, in, 0, 0);
    expect_same(&r, EVAIO_OP_SENDFILE, 0, 0);
    CHECK_EQ(file_size(out), 104000);

    /* An O_APPEND out_fd (which Linux's sendfile refuses): emulated, to the
     * end, both ways. */
    int app = make_file(name_for("sf-append", style), "HEAD", 4, O_WRONLY | O_APPEND);
    CHECK_EQ(lseek(in, 7, SEEK_SET), 7);
    do_sendfile(style, &r, app, in, 10, 150000);
    expect_same(&r, EVAIO_OP_SENDFILE, 150000, 0);
    CHECK_EQ(file_pos(in), 7);
    do_sendfile(style, &r, app, in, -1, 70000);
    expect_same(&r, EVAIO_OP_SENDFILE, 70000, 0);
    CHECK_EQ(file_pos(in), 70007);
    do_sendfile(style, &r, app, in, SF_LEN - 5, 70000);
    expect_same(&r, EVAIO_OP_SENDFILE, 5, 0);
    do_sendfile(style, &r, app, in, 0, 0);
    expect_same(&r, EVAIO_OP_SENDFILE, 0, 0);
    {
        int rd = open(check_path(name_for("sf-append", style)), O_RDONLY | O_CLOEXEC);
        CHECK(rd >= 0);
        size_t flen;
        unsigned char *got = file_bytes(rd, &flen);
        CHECK_EQ(flen, 4 + 150000 + 70000 + 5);
        CHECK(memcmp(got, "HEAD", 4) == 0);
        check_pattern(got + 4, 10, 150000);
        check_pattern(got + 150004, 7, 70000);
        check_pattern(got + 220004, SF_LEN - 5, 5);
        free(got);
        CHECK_EQ(close(rd), 0);
    }
    /* Errors with an O_APPEND out_fd: a bad in_fd, or a bad offset (which
     * the emulation meets), as the native call reports them. */
    do_sendfile(style, &r, app, closed_fd(), 0, 10);
    expect_fail(&r, EVAIO_OP_SENDFILE, EBADF);
    do_sendfile(style, &r, app, in, -2, 10);
    expect_fail(&r, EVAIO_OP_SENDFILE, EINVAL);
    CHECK_EQ(close(app), 0);

    /* A pipe as in_fd (emulated on Linux): at its position; an offset is ESPIPE. */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    CHECK_EQ(write(pfd[1], "piped", 5), 5);
    CHECK_EQ(close(pfd[1]), 0);
    off_t before = file_size(out);
    CHECK_EQ(lseek(out, 0, SEEK_END), before);
    do_sendfile(style, &r, out, pfd[0], -1, 100);
    expect_same(&r, EVAIO_OP_SENDFILE, 5, 0);
    CHECK_EQ(file_size(out), before + 5);
    char five[5];
    CHECK_EQ(pread(out, five, 5, before), 5);
    CHECK(memcmp(five, "piped", 5) == 0);
    int err = SYNC_ERRNO(sendfile(out, pfd[0], &(off_t){ 0 }, 10));
    CHECK_EQ(err, ESPIPE);
    do_sendfile(style, &r, out, pfd[0], 0, 10);
    expect_fail(&r, EVAIO_OP_SENDFILE, err);
    CHECK_EQ(close(pfd[0]), 0);

    /* Bad descriptors: EBADF, whichever side. */
    int bad = closed_fd();
    err = SYNC_ERRNO(sendfile(out, bad, NULL, 10));
    CHECK_EQ(err, EBADF);
    do_sendfile(style, &r, out, bad, -1, 10);
    expect_fail(&r, EVAIO_OP_SENDFILE, err);
    do_sendfile(style, &r, out, bad, 0, 0);
    expect_fail(&r, EVAIO_OP_SENDFILE, err);
    err = SYNC_ERRNO(sendfile(bad, in, NULL, 10));
    CHECK_EQ(err, EBADF);
    do_sendfile(style, &r, bad, in, 0, 10);
    expect_fail(&r, EVAIO_OP_SENDFILE, err);
    int rd_only = open(check_path(name_for("sf-out", style)), O_RDONLY | O_CLOEXEC);
    CHECK(rd_only >= 0);
    err = SYNC_ERRNO(sendfile(rd_only, in, &(off_t){ 0 }, 10));
    CHECK_EQ(err, EBADF);
    do_sendfile(style, &r, rd_only, in, 0, 10);
    expect_fail(&r, EVAIO_OP_SENDFILE, err);
    CHECK_EQ(close(rd_only), 0);
    /* A negative offset other than -1: EINVAL. */
    err = SYNC_ERRNO(sendfile(out, in, &(off_t){ -2 }, 10));
    CHECK_EQ(err, EINVAL);
    do_sendfile(style, &r, out, in, -2, 10);
    expect_fail(&r, EVAIO_OP_SENDFILE, err);

    CHECK_EQ(close(in), 0);
    CHECK_EQ(close(out), 0);
    rec_reset(&r);
}

/* A transfer cut short by the file size limit reports the bytes copied, and
 * only the next one the error: natively and in the emulation, which gives
 * back to in_fd's position what it read and could not write. */
static void test_sendfile_partial(int style)
{
    struct rec r = { 0 };
    begin("sendfile stopped by RLIMIT_FSIZE", style);
    int in = make_file(name_for("sfp-in", style), NULL, SF_LEN, O_RDONLY);
    int out = make_file(name_for("sfp-out", style), NULL, 0, O_WRONLY);
    int app = make_file(name_for("sfp-append", style), NULL, 0, O_WRONLY | O_APPEND);

    struct rlimit saved, lim;
    CHECK_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
    CHECK(saved.rlim_cur == RLIM_INFINITY || saved.rlim_cur > 1000000);
    void (*old)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK(old != SIG_ERR);
    lim = saved;
    lim.rlim_cur = 100000;
    CHECK_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);

    do_sendfile(style, &r, out, in, 0, 150000);
    expect_same(&r, EVAIO_OP_SENDFILE, 100000, 0);
    CHECK_EQ(file_pos(in), 0);
    int err = SYNC_ERRNO(sendfile(out, in, &(off_t){ 100000 }, 10));
    CHECK_EQ(err, EFBIG);
    do_sendfile(style, &r, out, in, 100000, 50000);
    expect_fail(&r, EVAIO_OP_SENDFILE, err);

    do_sendfile(style, &r, app, in, -1, 150000);
    expect_same(&r, EVAIO_OP_SENDFILE, 100000, 0);
    CHECK_EQ(file_pos(in), 100000); /* read 131072, gave back 31072 */
    do_sendfile(style, &r, app, in, -1, 50000);
    expect_fail(&r, EVAIO_OP_SENDFILE, EFBIG);
    CHECK_EQ(file_pos(in), 100000);

    CHECK_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
    CHECK(signal(SIGXFSZ, old) != SIG_ERR);
    static const char *const outs[] = { "sfp-out", "sfp-append" };
    for (int i = 0; i < 2; i++) {
        int rd = open(check_path(name_for(outs[i], style)), O_RDONLY | O_CLOEXEC);
        CHECK(rd >= 0);
        CHECK_EQ(file_size(rd), 100000);
        check_out_pattern(rd, 0, 0, 100000);
        CHECK_EQ(close(rd), 0);
    }
    CHECK_EQ(close(in), 0);
    CHECK_EQ(close(out), 0);
    CHECK_EQ(close(app), 0);
    rec_reset(&r);
}

/* ---- copy_file_range ---- */

static void test_copy_file_range(int style)
{
    struct rec r = { 0 };
    begin("copy_file_range", style);
    int in = make_file(name_for("cfr-in", style), NULL, 50000, O_RDWR);
    int out = make_file(name_for("cfr-out", style), NULL, 0, O_RDWR);

    /* Explicit offsets: positions unchanged.  The call may copy less than
     * asked; copy the rest with more requests. */
    size_t done = 0;
    while (done < 20000) {
        do_copy_file_range(style, &r, in, 100 + (int64_t)done, out, 10 + (int64_t)done, 20000 - done, 0);
        CHECK(r.result > 0);
        CHECK_EQ(r.errorno, 0);
        done += (size_t)r.result;
    }
    CHECK_EQ(done, 20000);
    CHECK_EQ(file_pos(in), 0);
    CHECK_EQ(file_pos(out), 0);
    CHECK_EQ(file_size(out), 20010);
    check_out_pattern(out, 10, 100, 20000);

    /* Offsets -1: both file positions, which advance. */
    CHECK_EQ(lseek(in, 1000, SEEK_SET), 1000);
    CHECK_EQ(lseek(out, 30000, SEEK_SET), 30000);
    do_copy_file_range(style, &r, in, -1, out, -1, 500, 0);
    CHECK(r.result > 0 && r.result <= 500);
    CHECK_EQ(r.errorno, 0);
    CHECK_EQ(file_pos(in), 1000 + r.result);
    CHECK_EQ(file_pos(out), 30000 + r.result);
    check_out_pattern(out, 30000, 1000, (size_t)r.result);
    off_t out_size = file_size(out);

    /* At the end of the input: 0. */
    do_copy_file_range(style, &r, in, 50000, out, 0, 100, 0);
    expect_same(&r, EVAIO_OP_COPY_FILE_RANGE, 0, 0);

    /* Flags other than 0, an overlapping range in one file: EINVAL; a
     * negative offset: refused as the call refuses it (EOVERFLOW here). */
    int err = SYNC_ERRNO(copy_file_range(in, NULL, out, NULL, 10, 1));
    CHECK_EQ(err, EINVAL);
    do_copy_file_range(style, &r, in, 0, out, 0, 10, 1);
    expect_fail(&r, EVAIO_OP_COPY_FILE_RANGE, err);
    err = SYNC_ERRNO(copy_file_range(in, &(loff_t){ -2 }, out, NULL, 10, 0));
    CHECK(err == EINVAL || err == EOVERFLOW);
    do_copy_file_range(style, &r, in, -2, out, 0, 10, 0);
    expect_fail(&r, EVAIO_OP_COPY_FILE_RANGE, err);
    err = SYNC_ERRNO(copy_file_range(in, &(loff_t){ 0 }, in, &(loff_t){ 10 }, 100, 0));
    CHECK_EQ(err, EINVAL);
    do_copy_file_range(style, &r, in, 0, in, 10, 100, 0);
    expect_fail(&r, EVAIO_OP_COPY_FILE_RANGE, err);

    /* A pipe: EINVAL (not a regular file). */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    err = SYNC_ERRNO(copy_file_range(in, &(loff_t){ 0 }, pfd[1], NULL, 10, 0));
    do_copy_file_range(style, &r, in, 0, pfd[1], -1, 10, 0);
    expect_fail(&r, EVAIO_OP_COPY_FILE_RANGE, err);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);

    /* An O_APPEND output, a closed or read-only descriptor: EBADF. */
    int app = open(check_path(name_for("cfr-out", style)), O_WRONLY | O_APPEND | O_CLOEXEC);
    CHECK(app >= 0);
    err = SYNC_ERRNO(copy_file_range(in, &(loff_t){ 0 }, app, NULL, 10, 0));
    CHECK_EQ(err, EBADF);
    do_copy_file_range(style, &r, in, 0, app, -1, 10, 0);
    expect_fail(&r, EVAIO_OP_COPY_FILE_RANGE, err);
    CHECK_EQ(close(app), 0);
    int bad = closed_fd();
    err = SYNC_ERRNO(copy_file_range(bad, NULL, out, NULL, 10, 0));
    CHECK_EQ(err, EBADF);
    do_copy_file_range(style, &r, bad, -1, out, -1, 10, 0);
    expect_fail(&r, EVAIO_OP_COPY_FILE_RANGE, err);
    do_copy_file_range(style, &r, in, 0, bad, 0, 10, 0);
    expect_fail(&r, EVAIO_OP_COPY_FILE_RANGE, EBADF);
    int rd_only = open(check_path(name_for("cfr-out", style)), O_RDONLY | O_CLOEXEC);
    CHECK(rd_only >= 0);
    do_copy_file_range(style, &r, in, 0, rd_only, 0, 10, 0);
    expect_fail(&r, EVAIO_OP_COPY_FILE_RANGE, EBADF);
    CHECK_EQ(close(rd_only), 0);
    CHECK_EQ(file_size(out), out_size); /* the failures wrote nothing */

    CHECK_EQ(close(in), 0);
    CHECK_EQ(close(out), 0);
    rec_reset(&r);
}

/* ---- fcntl ---- */

static void test_fcntl(int style)
{
    struct rec r = { 0 };
    begin("fcntl", style);
    int fd = make_file(name_for("fcntl", style), "locked", 6, O_RDWR | O_APPEND);

    /* F_GETFL: what fcntl reports. */
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl >= 0 && (fl & O_APPEND));
    do_fcntl(style, &r, fd, F_GETFL, 0);
    expect_same(&r, EVAIO_OP_FCNTL, fl, 0);

    /* F_SETFL: O_NONBLOCK on a pipe, seen by fcntl afterwards. */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    CHECK(!(fcntl(pfd[0], F_GETFL) & O_NONBLOCK));
    do_fcntl(style, &r, pfd[0], F_SETFL, O_NONBLOCK);
    expect_same(&r, EVAIO_OP_FCNTL, 0, 0);
    CHECK(fcntl(pfd[0], F_GETFL) & O_NONBLOCK);
    char c;
    CHECK_EQ(read(pfd[0], &c, 1), -1);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);

    /* F_GETFD / F_SETFD. */
    do_fcntl(style, &r, fd, F_GETFD, 0);
    expect_same(&r, EVAIO_OP_FCNTL, FD_CLOEXEC, 0);

    /* F_DUPFD: the lowest free number at or above arg, close-on-exec. */
    int floor_fd = closed_fd();
    do_fcntl(style, &r, fd, F_DUPFD, floor_fd);
    CHECK(r.result >= floor_fd);
    CHECK_EQ(r.errorno, 0);
    int dupfd = (int)r.result;
    CHECK(is_cloexec(dupfd));
    same_open_file(fd, dupfd);
    CHECK_EQ(close(dupfd), 0);
    do_fcntl(style, &r, fd, F_DUPFD_CLOEXEC, floor_fd);
    CHECK(r.result >= floor_fd);
    CHECK(is_cloexec((int)r.result));
    CHECK_EQ(close((int)r.result), 0);
    int err = SYNC_ERRNO(fcntl(fd, F_DUPFD, -1));
    CHECK_EQ(err, EINVAL);
    do_fcntl(style, &r, fd, F_DUPFD, -1);
    expect_fail(&r, EVAIO_OP_FCNTL, err);

    /* A struct flock through a pointer: another open file description holds
     * an OFD write lock; F_GETLK and F_OFD_GETLK report it, F_OFD_SETLK
     * conflicts with EAGAIN. */
    int other = open(check_path(name_for("fcntl", style)), O_RDWR | O_CLOEXEC);
    CHECK(other >= 0);
    struct flock held = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    CHECK_EQ(fcntl(other, F_OFD_SETLK, &held), 0);
    struct flock probe = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 2, .l_len = 1 };
    do_fcntl(style, &r, fd, F_GETLK, (intptr_t)&probe);
    expect_same(&r, EVAIO_OP_FCNTL, 0, 0);
    CHECK_EQ(probe.l_type, F_WRLCK);
    CHECK_EQ(probe.l_start, 0);
    CHECK_EQ(probe.l_len, 0);
    CHECK_EQ(probe.l_pid, -1); /* an OFD lock has no owning process */
    probe = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET };
    do_fcntl(style, &r, fd, F_OFD_GETLK, (intptr_t)&probe);
    expect_same(&r, EVAIO_OP_FCNTL, 0, 0);
    CHECK_EQ(probe.l_type, F_WRLCK);
    struct flock want = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    err = SYNC_ERRNO(fcntl(fd, F_OFD_SETLK, &want));
    CHECK_EQ(err, EAGAIN);
    do_fcntl(style, &r, fd, F_OFD_SETLK, (intptr_t)&want);
    expect_fail(&r, EVAIO_OP_FCNTL, err);
    /* Released: F_GETLK reports F_UNLCK and the lock can be taken. */
    held.l_type = F_UNLCK;
    CHECK_EQ(fcntl(other, F_OFD_SETLK, &held), 0);
    probe = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
    do_fcntl(style, &r, fd, F_GETLK, (intptr_t)&probe);
    expect_same(&r, EVAIO_OP_FCNTL, 0, 0);
    CHECK_EQ(probe.l_type, F_UNLCK);
    do_fcntl(style, &r, fd, F_OFD_SETLK, (intptr_t)&want);
    expect_same(&r, EVAIO_OP_FCNTL, 0, 0);
    held.l_type = F_RDLCK;
    err = SYNC_ERRNO(fcntl(other, F_OFD_SETLK, &held));
    CHECK_EQ(err, EAGAIN); /* really held now */
    CHECK_EQ(close(other), 0);

    /* An unknown command: EINVAL; bad descriptors: EBADF. */
    err = SYNC_ERRNO(fcntl(fd, 99999, 0));
    CHECK_EQ(err, EINVAL);
    do_fcntl(style, &r, fd, 99999, 0);
    expect_fail(&r, EVAIO_OP_FCNTL, err);
    int bad = closed_fd();
    err = SYNC_ERRNO(fcntl(bad, F_GETFL));
    CHECK_EQ(err, EBADF);
    do_fcntl(style, &r, bad, F_GETFL, 0);
    expect_fail(&r, EVAIO_OP_FCNTL, err);
    do_fcntl(style, &r, -1, F_DUPFD, 0);
    expect_fail(&r, EVAIO_OP_FCNTL, EBADF);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- ioctl ---- */

static void test_ioctl(int style)
{
    struct rec r = { 0 };
    begin("ioctl", style);

    /* FIONREAD on a pipe: the bytes waiting, through a pointer. */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    CHECK_EQ(write(pfd[1], "seven!!", 7), 7);
    int avail = -1;
    do_ioctl(style, &r, pfd[0], FIONREAD, (intptr_t)&avail);
    expect_same(&r, EVAIO_OP_IOCTL, 0, 0);
    CHECK_EQ(avail, 7);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);

    /* A terminal request on a regular file: ENOTTY. */
    int fd = make_file(name_for("ioctl", style), "x", 1, O_RDWR);
    struct termios tio;
    int err = SYNC_ERRNO(ioctl(fd, TCGETS, &tio));
    CHECK_EQ(err, ENOTTY);
    do_ioctl(style, &r, fd, TCGETS, (intptr_t)&tio);
    expect_fail(&r, EVAIO_OP_IOCTL, err);

    /* Bad descriptors: EBADF. */
    int bad = closed_fd();
    err = SYNC_ERRNO(ioctl(bad, FIONREAD, &avail));
    CHECK_EQ(err, EBADF);
    do_ioctl(style, &r, bad, FIONREAD, (intptr_t)&avail);
    expect_fail(&r, EVAIO_OP_IOCTL, err);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- flock ---- */

static void test_flock(int style)
{
    struct rec r = { 0 };
    begin("flock", style);
    const char *name = name_for("flock", style);
    int fd = make_file(name, "lock", 4, O_RDWR);
    int other = open(check_path(name), O_RDONLY | O_CLOEXEC); /* another open file description */
    CHECK(other >= 0);

    do_flock(style, &r, fd, LOCK_EX);
    expect_same(&r, EVAIO_OP_FLOCK, 0, 0);
    /* The other description conflicts: EWOULDBLOCK, shared or exclusive. */
    int err = SYNC_ERRNO(flock(other, LOCK_EX | LOCK_NB));
    CHECK_EQ(err, EWOULDBLOCK);
    do_flock(style, &r, other, LOCK_EX | LOCK_NB);
    expect_fail(&r, EVAIO_OP_FLOCK, EWOULDBLOCK);
    do_flock(style, &r, other, LOCK_SH | LOCK_NB);
    expect_fail(&r, EVAIO_OP_FLOCK, EWOULDBLOCK);
    /* A duplicate shares the lock. */
    int dupfd = dup(fd);
    CHECK(dupfd >= 0);
    do_flock(style, &r, dupfd, LOCK_EX | LOCK_NB);
    expect_same(&r, EVAIO_OP_FLOCK, 0, 0);
    CHECK_EQ(close(dupfd), 0);
    /* Unlocked: the other one gets it, and then the first one conflicts. */
    do_flock(style, &r, fd, LOCK_UN);
    expect_same(&r, EVAIO_OP_FLOCK, 0, 0);
    do_flock(style, &r, other, LOCK_SH | LOCK_NB);
    expect_same(&r, EVAIO_OP_FLOCK, 0, 0);
    err = SYNC_ERRNO(flock(fd, LOCK_EX | LOCK_NB));
    CHECK_EQ(err, EWOULDBLOCK);
    do_flock(style, &r, other, LOCK_UN);
    expect_same(&r, EVAIO_OP_FLOCK, 0, 0);
    CHECK_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
    CHECK_EQ(flock(fd, LOCK_UN), 0);

    /* An invalid operation: EINVAL; bad descriptors: EBADF. */
    err = SYNC_ERRNO(flock(fd, 0));
    CHECK_EQ(err, EINVAL);
    do_flock(style, &r, fd, 0);
    expect_fail(&r, EVAIO_OP_FLOCK, err);
    do_flock(style, &r, fd, LOCK_SH | LOCK_EX | LOCK_UN);
    expect_fail(&r, EVAIO_OP_FLOCK, EINVAL);
    int bad = closed_fd();
    err = SYNC_ERRNO(flock(bad, LOCK_SH));
    CHECK_EQ(err, EBADF);
    do_flock(style, &r, bad, LOCK_SH);
    expect_fail(&r, EVAIO_OP_FLOCK, err);

    CHECK_EQ(close(other), 0);
    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

int main(void)
{
    main_thread = pthread_self();
    umask(022);
    CHECK(evaio_default_ctx() != NULL); /* its eventfd is opened before any test fd */
    check_tmpdir();
    int fds_at_start = count_open_fds();

    for (int style = WRAP; style <= INIT; style++) {
        test_dup2(style);
        test_dup3(style);
        test_seek(style);
        test_readv(style);
        test_writev(style);
        test_sendfile(style);
        test_sendfile_partial(style);
        test_copy_file_range(style);
        test_fcntl(style);
        test_ioctl(style);
        test_flock(style);
    }
    test_readv_array_copied();

    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    CHECK_EQ(count_open_fds(), fds_at_start);
    fprintf(stderr, "test_ops_fd2: all passed\n");
    return 0;
}
