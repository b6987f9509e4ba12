/* Per-operation tests for the descriptor operations on a file's space,
 * cache, metadata and durability: readahead, fadvise, fallocate, ftruncate,
 * fstatvfs, fchmod, fchown, futime, fdatasync, syncfs, sync_file_range,
 * fiemap.  Every case runs through both API styles (the library-allocated
 * wrapper evaio_OP and the caller-owned evaio_OP_init + evaio_start),
 * counts callbacks (exactly one each), checks the real effect on the file,
 * and compares errors with what the equivalent synchronous call gives. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#define REC_OUTPUTS                                                                     \
    const void *buf_seen;            /* fstatvfs: req->args.fstatvfs.buf */             \
    struct statvfs vfs;              /* fstatvfs: a copy of it */                       \
    const void *extents_seen;        /* fiemap: req->args.fiemap.extents */             \
    struct fiemap_extent *extents;   /* fiemap: a copy of them */
#include "op_harness.h"
#include "test_ops_fd_util.h"

static void rec_capture(struct rec *r, evaio_req *req)
{
    switch (req->type) {
    case EVAIO_OP_FSTATVFS:
        r->buf_seen = req->args.fstatvfs.buf;
        CHECK(req->args.fstatvfs.buf != NULL); /* the caller's or one the library supplies */
        if (req->result == 0)
            r->vfs = *req->args.fstatvfs.buf;
        break;
    case EVAIO_OP_FIEMAP:
        r->extents_seen = req->args.fiemap.extents;
        if (req->result > 0) {
            CHECK(req->args.fiemap.extents != NULL);
            size_t size = (size_t)req->result * sizeof *r->extents;
            free(r->extents);
            r->extents = malloc(size);
            CHECK(r->extents != NULL);
            memcpy(r->extents, req->args.fiemap.extents, size);
        } else {
            CHECK(req->args.fiemap.extents == NULL);
        }
        break;
    default:
        break;
    }
}

static void rec_reset_outputs(struct rec *r)
{
    r->buf_seen = NULL;
    memset(&r->vfs, 0, sizeof r->vfs);
    r->extents_seen = (const void *)1; /* the callback must set it */
    free(r->extents);
    r->extents = NULL;
}

/* ---- per-operation submitters, both styles ---- */

static void do_readahead(int style, struct rec *r, int fd, int64_t offset, size_t length)
{
    SUBMIT(style, r, evaio_readahead(fd, offset, length, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_readahead_init(&r->own, fd, offset, length, rec_cb, r));
}

static void do_fadvise(int style, struct rec *r, int fd, int64_t offset, size_t length, int advice)
{
    SUBMIT(style, r, evaio_fadvise(fd, offset, length, advice, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_fadvise_init(&r->own, fd, offset, length, advice, rec_cb, r));
}

static void do_fallocate(int style, struct rec *r, int fd, int mode, int64_t offset, size_t length)
{
    SUBMIT(style, r, evaio_fallocate(fd, mode, offset, length, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_fallocate_init(&r->own, fd, mode, offset, length, rec_cb, r));
}

static void do_ftruncate(int style, struct rec *r, int fd, int64_t length)
{
    SUBMIT(style, r, evaio_ftruncate(fd, length, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_ftruncate_init(&r->own, fd, length, rec_cb, r));
}

static void do_fstatvfs(int style, struct rec *r, int fd, struct statvfs *buf)
{
    SUBMIT(style, r, evaio_fstatvfs(fd, buf, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_fstatvfs_init(&r->own, fd, buf, rec_cb, r));
}

static void do_fchmod(int style, struct rec *r, int fd, mode_t mode)
{
    SUBMIT(style, r, evaio_fchmod(fd, mode, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_fchmod_init(&r->own, fd, mode, rec_cb, r));
}

static void do_fchown(int style, struct rec *r, int fd, uid_t uid, gid_t gid)
{
    SUBMIT(style, r, evaio_fchown(fd, uid, gid, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_fchown_init(&r->own, fd, uid, gid, rec_cb, r));
}

static void do_futime(int style, struct rec *r, int fd, struct timespec atime, struct timespec mtime)
{
    SUBMIT(style, r, evaio_futime(fd, atime, mtime, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_futime_init(&r->own, fd, atime, mtime, rec_cb, r));
}

static void do_fdatasync(int style, struct rec *r, int fd)
{
    SUBMIT(style, r, evaio_fdatasync(fd, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_fdatasync_init(&r->own, fd, rec_cb, r));
}

static void do_syncfs(int style, struct rec *r, int fd)
{
    SUBMIT(style, r, evaio_syncfs(fd, EVAIO_PRI_DEFAULT, rec_cb, r), evaio_syncfs_init(&r->own, fd, rec_cb, r));
}

static void do_sync_file_range(int style, struct rec *r, int fd, int64_t offset, size_t length, int flags)
{
    SUBMIT(style, r, evaio_sync_file_range(fd, offset, length, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_sync_file_range_init(&r->own, fd, offset, length, flags, rec_cb, r));
}

static void do_fiemap(int style, struct rec *r, int fd, int64_t offset, size_t length, int flags)
{
    SUBMIT(style, r, evaio_fiemap(fd, offset, length, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_fiemap_init(&r->own, fd, offset, length, flags, rec_cb, r));
}

static const char *name_for(const char *base, int style)
{
    static char bufs[4][64];
    static int next;
    char *buf = bufs[next++ % 4];
    snprintf(buf, sizeof bufs[0], "%s-%s", base, style == WRAP ? "wrap" : "init");
    return buf;
}

static struct stat fd_stat(int fd)
{
    struct stat st;
    CHECK_EQ(fstat(fd, &st), 0);
    return st;
}

/* ---- readahead ---- */

static void test_readahead(int style)
{
    struct rec r = { 0 };
    begin("readahead", style);
    int fd = make_file(name_for("readahead", style), NULL, 100000, O_RDWR);

    do_readahead(style, &r, fd, 0, 100000);
    expect_same(&r, EVAIO_OP_READAHEAD, 0, 0);
    do_readahead(style, &r, fd, 4096, 0); /* 0: to the end */
    expect_same(&r, EVAIO_OP_READAHEAD, 0, 0);
    do_readahead(style, &r, fd, 1 << 30, 4096); /* past the end: nothing to do */
    expect_same(&r, EVAIO_OP_READAHEAD, 0, 0);
    CHECK_EQ(file_pos(fd), 0);

    /* Not a regular file: EINVAL. */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    int err = SYNC_ERRNO(readahead(pfd[0], 0, 100));
    CHECK_EQ(err, EINVAL);
    do_readahead(style, &r, pfd[0], 0, 100);
    expect_fail(&r, EVAIO_OP_READAHEAD, err);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);

    /* Not open for reading, or not open: EBADF. */
    int wfd = open(check_path(name_for("readahead", style)), O_WRONLY | O_CLOEXEC);
    CHECK(wfd >= 0);
    err = SYNC_ERRNO(readahead(wfd, 0, 100));
    CHECK_EQ(err, EBADF);
    do_readahead(style, &r, wfd, 0, 100);
    expect_fail(&r, EVAIO_OP_READAHEAD, err);
    CHECK_EQ(close(wfd), 0);
    int bad = closed_fd();
    err = SYNC_ERRNO(readahead(bad, 0, 100));
    CHECK_EQ(err, EBADF);
    do_readahead(style, &r, bad, 0, 100);
    expect_fail(&r, EVAIO_OP_READAHEAD, err);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- fadvise ---- */

static void test_fadvise(int style)
{
    struct rec r = { 0 };
    begin("fadvise", style);
    int fd = make_file(name_for("fadvise", style), NULL, 50000, O_RDWR);
    static const int advices[] = { POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                   POSIX_FADV_NOREUSE,  POSIX_FADV_WILLNEED,   POSIX_FADV_DONTNEED };
    for (size_t i = 0; i < sizeof advices / sizeof advices[0]; i++) {
        do_fadvise(style, &r, fd, 0, 0, advices[i]);
        expect_same(&r, EVAIO_OP_FADVISE, 0, 0);
        do_fadvise(style, &r, fd, 4096, 8192, advices[i]);
        expect_same(&r, EVAIO_OP_FADVISE, 0, 0);
    }
    /* The data is still there after DONTNEED. */
    unsigned char buf[100];
    CHECK_EQ(pread(fd, buf, sizeof buf, 1000), (ssize_t)sizeof buf);
    check_pattern(buf, 1000, sizeof buf);

    /* An unknown advice, a length above INT64_MAX: EINVAL (the returned
     * error number becomes errorno). */
    int rc = (posix_fadvise(fd, 0, 0, 999));
    CHECK_EQ(rc, EINVAL);
    do_fadvise(style, &r, fd, 0, 0, 999);
    expect_fail(&r, EVAIO_OP_FADVISE, rc);
    rc = (posix_fadvise(fd, 0, -1, POSIX_FADV_NORMAL));
    CHECK_EQ(rc, EINVAL);
    do_fadvise(style, &r, fd, 0, SIZE_MAX, POSIX_FADV_NORMAL);
    expect_fail(&r, EVAIO_OP_FADVISE, rc);

    /* A pipe: ESPIPE; bad descriptors: EBADF. */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    rc = (posix_fadvise(pfd[0], 0, 0, POSIX_FADV_NORMAL));
    CHECK_EQ(rc, ESPIPE);
    do_fadvise(style, &r, pfd[0], 0, 0, POSIX_FADV_NORMAL);
    expect_fail(&r, EVAIO_OP_FADVISE, rc);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);
    int bad = closed_fd();
    rc = (posix_fadvise(bad, 0, 0, POSIX_FADV_NORMAL));
    CHECK_EQ(rc, EBADF);
    do_fadvise(style, &r, bad, 0, 0, POSIX_FADV_WILLNEED);
    expect_fail(&r, EVAIO_OP_FADVISE, rc);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- fallocate ---- */

static void test_fallocate(int style)
{
    struct rec r = { 0 };
    begin("fallocate", style);
    const char *name = name_for("fallocate", style);
    int fd = make_file(name, NULL, 0, O_RDWR);

    /* Mode 0 grows the file and allocates the blocks, reading as zeros. */
    do_fallocate(style, &r, fd, 0, 0, 3 * 4096);
    expect_same(&r, EVAIO_OP_FALLOCATE, 0, 0);
    struct stat st = fd_stat(fd);
    CHECK_EQ(st.st_size, 3 * 4096);
    CHECK(st.st_blocks * 512 >= 3 * 4096);
    size_t len;
    unsigned char *got = file_bytes(fd, &len);
    CHECK_EQ(len, 3 * 4096);
    for (size_t i = 0; i < len; i++)
        CHECK_EQ(got[i], 0);
    free(got);

    /* KEEP_SIZE: blocks past the end, size unchanged. */
    blkcnt_t blocks = st.st_blocks;
    do_fallocate(style, &r, fd, FALLOC_FL_KEEP_SIZE, 3 * 4096, 5 * 4096);
    expect_same(&r, EVAIO_OP_FALLOCATE, 0, 0);
    st = fd_stat(fd);
    CHECK_EQ(st.st_size, 3 * 4096);
    CHECK(st.st_blocks > blocks);

    /* PUNCH_HOLE | KEEP_SIZE: a block of data turns into zeros. */
    CHECK_EQ(close(fd), 0);
    fd = make_file(name, NULL, 3 * 4096, O_RDWR);
    CHECK_EQ(fsync(fd), 0);
    do_fallocate(style, &r, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096);
    expect_same(&r, EVAIO_OP_FALLOCATE, 0, 0);
    got = file_bytes(fd, &len);
    CHECK_EQ(len, 3 * 4096);
    check_pattern(got, 0, 4096);
    for (size_t i = 4096; i < 8192; i++)
        CHECK_EQ(got[i], 0);
    check_pattern(got + 8192, 8192, 4096);
    free(got);

    /* Length 0, a negative offset, a length above INT64_MAX: EINVAL. */
    int err = SYNC_ERRNO(fallocate(fd, 0, 0, 0));
    CHECK_EQ(err, EINVAL);
    do_fallocate(style, &r, fd, 0, 0, 0);
    expect_fail(&r, EVAIO_OP_FALLOCATE, err);
    err = SYNC_ERRNO(fallocate(fd, 0, -1, 10));
    CHECK_EQ(err, EINVAL);
    do_fallocate(style, &r, fd, 0, -1, 10);
    expect_fail(&r, EVAIO_OP_FALLOCATE, err);
    err = SYNC_ERRNO(fallocate(fd, 0, 0, -1));
    CHECK_EQ(err, EINVAL);
    do_fallocate(style, &r, fd, 0, 0, SIZE_MAX);
    expect_fail(&r, EVAIO_OP_FALLOCATE, err);
    /* Modes the kernel refuses: PUNCH_HOLE without KEEP_SIZE, an unknown bit. */
    err = SYNC_ERRNO(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
    do_fallocate(style, &r, fd, FALLOC_FL_PUNCH_HOLE, 0, 4096);
    expect_fail(&r, EVAIO_OP_FALLOCATE, err);
    err = SYNC_ERRNO(fallocate(fd, 0x40000000, 0, 4096));
    do_fallocate(style, &r, fd, 0x40000000, 0, 4096);
    expect_fail(&r, EVAIO_OP_FALLOCATE, err);
    CHECK_EQ(fd_stat(fd).st_size, 3 * 4096);

    /* Read-only, closed descriptors: EBADF; a pipe: ESPIPE. */
    int rfd = open(check_path(name), O_RDONLY | O_CLOEXEC);
    CHECK(rfd >= 0);
    err = SYNC_ERRNO(fallocate(rfd, 0, 0, 4096 * 10));
    CHECK_EQ(err, EBADF);
    do_fallocate(style, &r, rfd, 0, 0, 4096 * 10);
    expect_fail(&r, EVAIO_OP_FALLOCATE, err);
    CHECK_EQ(close(rfd), 0);
    int bad = closed_fd();
    do_fallocate(style, &r, bad, 0, 0, 4096);
    expect_fail(&r, EVAIO_OP_FALLOCATE, EBADF);
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    err = SYNC_ERRNO(fallocate(pfd[1], 0, 0, 4096));
    CHECK_EQ(err, ESPIPE);
    do_fallocate(style, &r, pfd[1], 0, 0, 4096);
    expect_fail(&r, EVAIO_OP_FALLOCATE, err);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);
    CHECK_EQ(fd_stat(fd).st_size, 3 * 4096);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- ftruncate ---- */

static void test_ftruncate(int style)
{
    struct rec r = { 0 };
    begin("ftruncate", style);
    const char *name = name_for("ftruncate", style);
    int fd = make_file(name, NULL, 5000, O_RDWR);
    CHECK_EQ(lseek(fd, 123, SEEK_SET), 123);

    /* Shrinking keeps the start; growing adds zeros; the position stays. */
    do_ftruncate(style, &r, fd, 1000);
    expect_same(&r, EVAIO_OP_FTRUNCATE, 0, 0);
    CHECK_EQ(file_size(fd), 1000);
    do_ftruncate(style, &r, fd, 3000);
    expect_same(&r, EVAIO_OP_FTRUNCATE, 0, 0);
    CHECK_EQ(file_pos(fd), 123);
    size_t len;
    unsigned char *got = file_bytes(fd, &len);
    CHECK_EQ(len, 3000);
    check_pattern(got, 0, 1000);
    for (size_t i = 1000; i < len; i++)
        CHECK_EQ(got[i], 0);
    free(got);
    /* Beyond 32 bits (a hole), then to 0. */
    do_ftruncate(style, &r, fd, INT64_C(5000000000));
    expect_same(&r, EVAIO_OP_FTRUNCATE, 0, 0);
    CHECK_EQ(file_size(fd), INT64_C(5000000000));
    do_ftruncate(style, &r, fd, 0);
    expect_same(&r, EVAIO_OP_FTRUNCATE, 0, 0);
    CHECK_EQ(file_size(fd), 0);

    /* Negative: EINVAL; beyond the filesystem's limit: EFBIG. */
    int err = SYNC_ERRNO(ftruncate(fd, -1));
    CHECK_EQ(err, EINVAL);
    do_ftruncate(style, &r, fd, -1);
    expect_fail(&r, EVAIO_OP_FTRUNCATE, err);
    err = SYNC_ERRNO(ftruncate(fd, INT64_MAX));
    do_ftruncate(style, &r, fd, INT64_MAX);
    expect_fail(&r, EVAIO_OP_FTRUNCATE, err);
    CHECK_EQ(file_size(fd), 0);

    /* Not open for writing, a pipe, a closed descriptor. */
    int rfd = open(check_path(name), O_RDONLY | O_CLOEXEC);
    CHECK(rfd >= 0);
    err = SYNC_ERRNO(ftruncate(rfd, 10));
    do_ftruncate(style, &r, rfd, 10);
    expect_fail(&r, EVAIO_OP_FTRUNCATE, err);
    CHECK_EQ(close(rfd), 0);
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    err = SYNC_ERRNO(ftruncate(pfd[1], 10));
    do_ftruncate(style, &r, pfd[1], 10);
    expect_fail(&r, EVAIO_OP_FTRUNCATE, err);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);
    int bad = closed_fd();
    err = SYNC_ERRNO(ftruncate(bad, 10));
    CHECK_EQ(err, EBADF);
    do_ftruncate(style, &r, bad, 10);
    expect_fail(&r, EVAIO_OP_FTRUNCATE, err);
    CHECK_EQ(file_size(fd), 0);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- fstatvfs ---- */

static void same_fs(const struct statvfs *a, const struct statvfs *b)
{
    CHECK_EQ(a->f_bsize, b->f_bsize);
    CHECK_EQ(a->f_frsize, b->f_frsize);
    CHECK_EQ(a->f_blocks, b->f_blocks);
    CHECK_EQ(a->f_files, b->f_files);
    CHECK_EQ(a->f_fsid, b->f_fsid);
    CHECK_EQ(a->f_namemax, b->f_namemax);
    CHECK_EQ(a->f_flag, b->f_flag);
}

static void test_fstatvfs(int style)
{
    struct rec r = { 0 };
    begin("fstatvfs", style);
    int fd = make_file(name_for("fstatvfs", style), "x", 1, O_RDWR);
    struct statvfs sync_vfs, mine;
    CHECK_EQ(fstatvfs(fd, &sync_vfs), 0);

    /* Into the caller's struct. */
    memset(&mine, 0xa5, sizeof mine);
    do_fstatvfs(style, &r, fd, &mine);
    expect_same(&r, EVAIO_OP_FSTATVFS, 0, 0);
    CHECK(r.buf_seen == &mine);
    same_fs(&mine, &sync_vfs);
    /* NULL: one the library supplies, req->args.fstatvfs.buf in the callback. */
    do_fstatvfs(style, &r, fd, NULL);
    expect_same(&r, EVAIO_OP_FSTATVFS, 0, 0);
    CHECK(r.buf_seen != NULL);
    same_fs(&r.vfs, &sync_vfs);
    /* Another filesystem: a pipe's. */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    CHECK_EQ(fstatvfs(pfd[0], &sync_vfs), 0);
    do_fstatvfs(style, &r, pfd[0], NULL);
    expect_same(&r, EVAIO_OP_FSTATVFS, 0, 0);
    same_fs(&r.vfs, &sync_vfs);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);

    /* Bad descriptors: EBADF, with either kind of buffer. */
    int bad = closed_fd();
    int err = SYNC_ERRNO(fstatvfs(bad, &sync_vfs));
    CHECK_EQ(err, EBADF);
    do_fstatvfs(style, &r, bad, &mine);
    expect_fail(&r, EVAIO_OP_FSTATVFS, err);
    do_fstatvfs(style, &r, bad, NULL);
    expect_fail(&r, EVAIO_OP_FSTATVFS, err);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- fchmod ---- */

static void test_fchmod(int style)
{
    struct rec r = { 0 };
    begin("fchmod", style);
    const char *name = name_for("fchmod", style);
    int fd = make_file(name, "x", 1, O_RDWR);

    do_fchmod(style, &r, fd, 0640);
    expect_same(&r, EVAIO_OP_FCHMOD, 0, 0);
    struct stat st;
    CHECK_EQ(stat(check_path(name), &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0640);
    do_fchmod(style, &r, fd, 0);
    expect_same(&r, EVAIO_OP_FCHMOD, 0, 0);
    CHECK_EQ(fd_stat(fd).st_mode & 07777, 0);
    do_fchmod(style, &r, fd, 01755); /* the sticky bit is kept too */
    expect_same(&r, EVAIO_OP_FCHMOD, 0, 0);
    CHECK_EQ(fd_stat(fd).st_mode & 07777, 01755);
    CHECK(S_ISREG(fd_stat(fd).st_mode));

    /* An O_PATH descriptor, a closed one: EBADF, mode unchanged. */
    int pathfd = open(check_path(name), O_PATH | O_CLOEXEC);
    CHECK(pathfd >= 0);
    int err = SYNC_ERRNO(fchmod(pathfd, 0600));
    CHECK_EQ(err, EBADF);
    do_fchmod(style, &r, pathfd, 0600);
    expect_fail(&r, EVAIO_OP_FCHMOD, err);
    CHECK_EQ(close(pathfd), 0);
    int bad = closed_fd();
    err = SYNC_ERRNO(fchmod(bad, 0600));
    CHECK_EQ(err, EBADF);
    do_fchmod(style, &r, bad, 0600);
    expect_fail(&r, EVAIO_OP_FCHMOD, err);
    CHECK_EQ(fd_stat(fd).st_mode & 07777, 01755);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- fchown ---- */

static void test_fchown(int style)
{
    struct rec r = { 0 };
    begin("fchown", style);
    int fd = make_file(name_for("fchown", style), "x", 1, O_RDWR);
    struct stat st = fd_stat(fd);

    /* -1 for both: nothing changes. */
    do_fchown(style, &r, fd, (uid_t)-1, (gid_t)-1);
    expect_same(&r, EVAIO_OP_FCHOWN, 0, 0);
    CHECK_EQ(fd_stat(fd).st_uid, st.st_uid);
    CHECK_EQ(fd_stat(fd).st_gid, st.st_gid);
    /* To the owner's own ids: allowed for anyone. */
    do_fchown(style, &r, fd, getuid(), getgid());
    expect_same(&r, EVAIO_OP_FCHOWN, 0, 0);

    if (geteuid() == 0) {
        /* Root: to other ids, and one id at a time. */
        do_fchown(style, &r, fd, 12345, 23456);
        expect_same(&r, EVAIO_OP_FCHOWN, 0, 0);
        CHECK_EQ(fd_stat(fd).st_uid, 12345);
        CHECK_EQ(fd_stat(fd).st_gid, 23456);
        do_fchown(style, &r, fd, (uid_t)-1, 777);
        expect_same(&r, EVAIO_OP_FCHOWN, 0, 0);
        CHECK_EQ(fd_stat(fd).st_uid, 12345);
        CHECK_EQ(fd_stat(fd).st_gid, 777);
        do_fchown(style, &r, fd, 4242, (gid_t)-1);
        expect_same(&r, EVAIO_OP_FCHOWN, 0, 0);
        CHECK_EQ(fd_stat(fd).st_uid, 4242);
        CHECK_EQ(fd_stat(fd).st_gid, 777);
    } else {
        /* Anyone else: giving the file to root is refused with EPERM. */
        int err = SYNC_ERRNO(fchown(fd, 0, (gid_t)-1));
        CHECK_EQ(err, EPERM);
        do_fchown(style, &r, fd, 0, (gid_t)-1);
        expect_fail(&r, EVAIO_OP_FCHOWN, err);
        CHECK_EQ(fd_stat(fd).st_uid, st.st_uid);
    }

    int bad = closed_fd();
    int err = SYNC_ERRNO(fchown(bad, (uid_t)-1, (gid_t)-1));
    CHECK_EQ(err, EBADF);
    do_fchown(style, &r, bad, (uid_t)-1, (gid_t)-1);
    expect_fail(&r, EVAIO_OP_FCHOWN, err);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- futime ---- */

static struct timespec ts(time_t sec, long nsec)
{
    struct timespec t = { .tv_sec = sec, .tv_nsec = nsec };
    return t;
}

static void test_futime(int style)
{
    struct rec r = { 0 };
    begin("futime", style);
    int fd = make_file(name_for("futime", style), "x", 1, O_RDWR);

    /* Explicit times, to the nanosecond. */
    do_futime(style, &r, fd, ts(1000000000, 123456789), ts(1200000000, 987654321));
    expect_same(&r, EVAIO_OP_FUTIME, 0, 0);
    struct stat st = fd_stat(fd);
    CHECK_EQ(st.st_atim.tv_sec, 1000000000);
    CHECK_EQ(st.st_atim.tv_nsec, 123456789);
    CHECK_EQ(st.st_mtim.tv_sec, 1200000000);
    CHECK_EQ(st.st_mtim.tv_nsec, 987654321);

    /* UTIME_OMIT leaves one alone. */
    do_futime(style, &r, fd, ts(0, UTIME_OMIT), ts(1300000000, 1));
    expect_same(&r, EVAIO_OP_FUTIME, 0, 0);
    st = fd_stat(fd);
    CHECK_EQ(st.st_atim.tv_sec, 1000000000);
    CHECK_EQ(st.st_atim.tv_nsec, 123456789);
    CHECK_EQ(st.st_mtim.tv_sec, 1300000000);
    CHECK_EQ(st.st_mtim.tv_nsec, 1);

    /* UTIME_NOW: the current time (within a generous window of the clock). */
    struct timespec before;
    CHECK_EQ(clock_gettime(CLOCK_REALTIME, &before), 0);
    do_futime(style, &r, fd, ts(0, UTIME_OMIT), ts(0, UTIME_NOW));
    expect_same(&r, EVAIO_OP_FUTIME, 0, 0);
    struct timespec after;
    CHECK_EQ(clock_gettime(CLOCK_REALTIME, &after), 0);
    st = fd_stat(fd);
    CHECK(st.st_mtim.tv_sec >= before.tv_sec - 5 && st.st_mtim.tv_sec <= after.tv_sec + 5);
    CHECK_EQ(st.st_atim.tv_sec, 1000000000); /* omitted */
    CHECK_EQ(st.st_atim.tv_nsec, 123456789);
    do_futime(style, &r, fd, ts(0, UTIME_NOW), ts(0, UTIME_OMIT));
    expect_same(&r, EVAIO_OP_FUTIME, 0, 0);
    struct stat st2 = fd_stat(fd);
    CHECK(st2.st_atim.tv_sec >= before.tv_sec - 5);
    CHECK_EQ(st2.st_mtim.tv_sec, st.st_mtim.tv_sec);
    CHECK_EQ(st2.st_mtim.tv_nsec, st.st_mtim.tv_nsec);

    /* Both omitted: succeeds, nothing changes. */
    do_futime(style, &r, fd, ts(1, UTIME_OMIT), ts(2, UTIME_OMIT));
    expect_same(&r, EVAIO_OP_FUTIME, 0, 0);
    st = fd_stat(fd);
    CHECK_EQ(st.st_mtim.tv_sec, st2.st_mtim.tv_sec);
    CHECK_EQ(st.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);

    /* A nanosecond count out of range: EINVAL. */
    struct timespec bad_times[2] = { ts(5, 1000000000), ts(5, 0) };
    int err = SYNC_ERRNO(futimens(fd, bad_times));
    CHECK_EQ(err, EINVAL);
    do_futime(style, &r, fd, bad_times[0], bad_times[1]);
    expect_fail(&r, EVAIO_OP_FUTIME, err);
    do_futime(style, &r, fd, ts(5, 0), ts(5, -3));
    expect_fail(&r, EVAIO_OP_FUTIME, EINVAL);
    CHECK_EQ(fd_stat(fd).st_mtim.tv_sec, st2.st_mtim.tv_sec);

    /* A closed descriptor: EBADF. */
    int bad = closed_fd();
    err = SYNC_ERRNO(futimens(bad, NULL));
    CHECK_EQ(err, EBADF);
    do_futime(style, &r, bad, ts(0, UTIME_NOW), ts(0, UTIME_NOW));
    expect_fail(&r, EVAIO_OP_FUTIME, err);

    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- fdatasync, syncfs, sync_file_range ---- */

static void test_syncs(int style)
{
    struct rec r = { 0 };
    begin("fdatasync, syncfs, sync_file_range", style);
    int fd = make_file(name_for("sync", style), NULL, 20000, O_RDWR);
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    int bad = closed_fd();

    do_fdatasync(style, &r, fd);
    expect_same(&r, EVAIO_OP_FDATASYNC, 0, 0);
    int err = SYNC_ERRNO(fdatasync(pfd[1]));
    CHECK_EQ(err, EINVAL);
    do_fdatasync(style, &r, pfd[1]);
    expect_fail(&r, EVAIO_OP_FDATASYNC, err);
    err = SYNC_ERRNO(fdatasync(bad));
    CHECK_EQ(err, EBADF);
    do_fdatasync(style, &r, bad);
    expect_fail(&r, EVAIO_OP_FDATASYNC, err);

    CHECK_EQ(pwrite(fd, "dirty", 5, 0), 5);
    do_syncfs(style, &r, fd);
    expect_same(&r, EVAIO_OP_SYNCFS, 0, 0);
    err = SYNC_ERRNO(syncfs(bad));
    CHECK_EQ(err, EBADF);
    do_syncfs(style, &r, bad);
    expect_fail(&r, EVAIO_OP_SYNCFS, err);

    CHECK_EQ(pwrite(fd, "dirty", 5, 10000), 5);
    const int all = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
    do_sync_file_range(style, &r, fd, 0, 0, all);
    expect_same(&r, EVAIO_OP_SYNC_FILE_RANGE, 0, 0);
    do_sync_file_range(style, &r, fd, 4096, 8192, SYNC_FILE_RANGE_WRITE);
    expect_same(&r, EVAIO_OP_SYNC_FILE_RANGE, 0, 0);
    do_sync_file_range(style, &r, fd, 0, 0, 0);
    expect_same(&r, EVAIO_OP_SYNC_FILE_RANGE, 0, 0);
    /* Unknown flags, a negative offset, a length above INT64_MAX: EINVAL. */
    err = SYNC_ERRNO(sync_file_range(fd, 0, 0, 8));
    CHECK_EQ(err, EINVAL);
    do_sync_file_range(style, &r, fd, 0, 0, 8);
    expect_fail(&r, EVAIO_OP_SYNC_FILE_RANGE, err);
    err = SYNC_ERRNO(sync_file_range(fd, -1, 0, all));
    CHECK_EQ(err, EINVAL);
    do_sync_file_range(style, &r, fd, -1, 0, all);
    expect_fail(&r, EVAIO_OP_SYNC_FILE_RANGE, err);
    err = SYNC_ERRNO(sync_file_range(fd, 0, -1, all));
    CHECK_EQ(err, EINVAL);
    do_sync_file_range(style, &r, fd, 0, SIZE_MAX, all);
    expect_fail(&r, EVAIO_OP_SYNC_FILE_RANGE, err);
    /* A pipe: ESPIPE; a closed descriptor: EBADF. */
    err = SYNC_ERRNO(sync_file_range(pfd[1], 0, 0, all));
    CHECK_EQ(err, ESPIPE);
    do_sync_file_range(style, &r, pfd[1], 0, 0, all);
    expect_fail(&r, EVAIO_OP_SYNC_FILE_RANGE, err);
    err = SYNC_ERRNO(sync_file_range(bad, 0, 0, all));
    CHECK_EQ(err, EBADF);
    do_sync_file_range(style, &r, bad, 0, 0, all);
    expect_fail(&r, EVAIO_OP_SYNC_FILE_RANGE, err);

    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);
    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- fiemap ---- */

/* What FS_IOC_FIEMAP says directly: the number of extents of the range, or
 * -1 with errno. */
static int sync_fiemap_count(int fd, uint64_t start, uint64_t length, uint32_t flags)
{
    struct fiemap fm = { .fm_start = start, .fm_length = length, .fm_flags = flags, .fm_extent_count = 0 };
    if (ioctl(fd, FS_IOC_FIEMAP, &fm) < 0)
        return -1;
    return (int)fm.fm_mapped_extents;
}

/* The extents FS_IOC_FIEMAP gives directly for a range (malloc'd), with
 * their number in *n. */
static struct fiemap_extent *sync_fiemap(int fd, uint64_t start, uint64_t length, int *n)
{
    *n = sync_fiemap_count(fd, start, length, 0);
    CHECK(*n >= 0);
    struct fiemap *fm = calloc(1, sizeof *fm + ((size_t)*n + 1) * sizeof(struct fiemap_extent));
    CHECK(fm != NULL);
    fm->fm_start = start;
    fm->fm_length = length;
    fm->fm_extent_count = (uint32_t)*n + 1;
    CHECK_EQ(ioctl(fd, FS_IOC_FIEMAP, fm), 0);
    CHECK_EQ(fm->fm_mapped_extents, *n);
    struct fiemap_extent *e = malloc(((size_t)*n + 1) * sizeof *e);
    CHECK(e != NULL);
    memcpy(e, fm->fm_extents, (size_t)*n * sizeof *e);
    free(fm);
    return e;
}

static void same_extents(const struct fiemap_extent *a, const struct fiemap_extent *b, int n)
{
    for (int i = 0; i < n; i++) {
        CHECK_EQ(a[i].fe_logical, b[i].fe_logical);
        CHECK_EQ(a[i].fe_physical, b[i].fe_physical);
        CHECK_EQ(a[i].fe_length, b[i].fe_length);
        CHECK_EQ(a[i].fe_flags, b[i].fe_flags);
    }
}

/* The extents are in order, do not overlap, and cover [0, len) exactly as
 * the data lies: every byte of data in some extent. */
static void check_covers(const struct fiemap_extent *e, int64_t n, uint64_t len)
{
    CHECK(n >= 1);
    CHECK_EQ(e[0].fe_logical, 0);
    uint64_t end = 0;
    for (int64_t i = 0; i < n; i++) {
        CHECK_EQ(e[i].fe_logical, end); /* no hole in fully written data */
        CHECK(e[i].fe_length > 0);
        CHECK(!(e[i].fe_flags & FIEMAP_EXTENT_DELALLOC));
        end = e[i].fe_logical + e[i].fe_length;
    }
    CHECK(end >= len);
    CHECK(e[n - 1].fe_flags & FIEMAP_EXTENT_LAST);
}

#define SPARSE_BLOCKS 300

static int fiemap_unsupported; /* the scratch filesystem cannot map extents */

static void test_fiemap(int style)
{
    struct rec r = { 0 };
    begin("fiemap", style);

    /* Written and synced data: at least one extent covering it, the last
     * marked as such; the same count as the ioctl reports. */
    int fd = make_file(name_for("fiemap", style), NULL, 65536, O_RDWR);
    CHECK_EQ(fsync(fd), 0);
    int sync_n = sync_fiemap_count(fd, 0, FIEMAP_MAX_OFFSET, 0);
    if (sync_n < 0 && errno == EOPNOTSUPP) {
        /* tmpfs and a few others: the op reports the same, and the rest of
         * this test needs a filesystem that can (the scratch directory is
         * $TMPDIR or /tmp). */
        do_fiemap(style, &r, fd, 0, SIZE_MAX, 0);
        expect_fail(&r, EVAIO_OP_FIEMAP, EOPNOTSUPP);
        CHECK_EQ(close(fd), 0);
        fiemap_unsupported = 1;
        rec_reset(&r);
        return;
    }
    CHECK(sync_n >= 1);
    do_fiemap(style, &r, fd, 0, SIZE_MAX, 0);
    expect_same(&r, EVAIO_OP_FIEMAP, sync_n, 0);
    CHECK(r.extents_seen != NULL);
    check_covers(r.extents, r.result, 65536);
    do_fiemap(style, &r, fd, 0, 65536, 0);
    expect_same(&r, EVAIO_OP_FIEMAP, sync_n, 0);
    check_covers(r.extents, r.result, 65536);
    CHECK_EQ(close(fd), 0);

    /* Unsynced data with FIEMAP_FLAG_SYNC: written back first, so real
     * extents, not delayed allocation. */
    fd = make_file(name_for("fiemap-sync", style), NULL, 20000, O_RDWR);
    do_fiemap(style, &r, fd, 0, SIZE_MAX, FIEMAP_FLAG_SYNC);
    CHECK(r.result >= 1);
    CHECK_EQ(r.errorno, 0);
    check_covers(r.extents, r.result, 20000);
    CHECK_EQ(close(fd), 0);

    /* Many extents: one block of data every other block.  All of them come
     * back, in order; a sub-range gives what the ioctl says it holds. */
    fd = make_file(name_for("fiemap-sparse", style), NULL, 0, O_RDWR);
    size_t bs = (size_t)fd_stat(fd).st_blksize;
    unsigned char *block = malloc(bs);
    CHECK(block != NULL);
    memset(block, 0x5a, bs);
    for (int i = 0; i < SPARSE_BLOCKS; i++)
        CHECK_EQ(pwrite(fd, block, bs, (off_t)(i * 2 * bs)), (ssize_t)bs);
    free(block);
    CHECK_EQ(fsync(fd), 0);
    struct fiemap_extent *want = sync_fiemap(fd, 0, FIEMAP_MAX_OFFSET, &sync_n);
    CHECK(sync_n >= 2); /* the holes separate them (ext4: exactly one per block) */
    do_fiemap(style, &r, fd, 0, SIZE_MAX, 0);
    expect_same(&r, EVAIO_OP_FIEMAP, sync_n, 0);
    same_extents(r.extents, want, sync_n);
    free(want);
    CHECK_EQ(r.extents[0].fe_logical, 0);
    CHECK(r.extents[sync_n - 1].fe_logical + r.extents[sync_n - 1].fe_length >= (uint64_t)(SPARSE_BLOCKS * 2 - 1) * bs);
    CHECK(r.extents[sync_n - 1].fe_flags & FIEMAP_EXTENT_LAST);
    want = sync_fiemap(fd, 10 * 2 * bs, 5 * 2 * bs, &sync_n);
    CHECK(sync_n >= 1);
    do_fiemap(style, &r, fd, (int64_t)(10 * 2 * bs), 5 * 2 * bs, 0);
    expect_same(&r, EVAIO_OP_FIEMAP, sync_n, 0);
    same_extents(r.extents, want, sync_n);
    free(want);
    /* A range inside a hole: none, and a NULL array. */
    do_fiemap(style, &r, fd, (int64_t)bs, bs, 0);
    expect_same(&r, EVAIO_OP_FIEMAP, 0, 0);
    CHECK(r.extents_seen == NULL);
    CHECK_EQ(close(fd), 0);

    /* An empty file: 0 extents, NULL. */
    fd = make_file(name_for("fiemap-empty", style), NULL, 0, O_RDWR);
    do_fiemap(style, &r, fd, 0, SIZE_MAX, 0);
    expect_same(&r, EVAIO_OP_FIEMAP, 0, 0);
    CHECK(r.extents_seen == NULL);

    /* Length 0, a negative offset: EINVAL; an unknown flag: EBADR. */
    CHECK_EQ(sync_fiemap_count(fd, 0, 0, 0), -1);
    int err = errno;
    CHECK_EQ(err, EINVAL);
    do_fiemap(style, &r, fd, 0, 0, 0);
    expect_fail(&r, EVAIO_OP_FIEMAP, err);
    do_fiemap(style, &r, fd, -1, 4096, 0);
    expect_fail(&r, EVAIO_OP_FIEMAP, EINVAL);
    CHECK_EQ(sync_fiemap_count(fd, 0, 4096, 0x40000000), -1);
    err = errno;
    CHECK_EQ(err, EBADR);
    do_fiemap(style, &r, fd, 0, 4096, 0x40000000);
    expect_fail(&r, EVAIO_OP_FIEMAP, err);
    CHECK_EQ(close(fd), 0);

    /* A pipe (no filesystem mapping) and a closed descriptor. */
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    CHECK_EQ(sync_fiemap_count(pfd[0], 0, 4096, 0), -1);
    err = errno;
    do_fiemap(style, &r, pfd[0], 0, 4096, 0);
    expect_fail(&r, EVAIO_OP_FIEMAP, err);
    CHECK_EQ(close(pfd[0]), 0);
    CHECK_EQ(close(pfd[1]), 0);
    int bad = closed_fd();
    CHECK_EQ(sync_fiemap_count(bad, 0, 4096, 0), -1);
    CHECK_EQ(errno, EBADF);
    do_fiemap(style, &r, bad, 0, SIZE_MAX, 0);
    expect_fail(&r, EVAIO_OP_FIEMAP, EBADF);
    rec_reset(&r);
}

/* A caller-owned fiemap request started again: fresh library memory each
 * time (LSan would see the old one leak otherwise). */
static void test_fiemap_restart(void)
{
    if (fiemap_unsupported)
        return;
    struct rec r = { 0 };
    begin("fiemap restarted", INIT);
    int fd = make_file("fiemap-restart", NULL, 12288, O_RDWR);
    CHECK_EQ(fsync(fd), 0);
    rec_reset(&r);
    evaio_fiemap_init(&r.own, fd, 0, SIZE_MAX, 0, rec_cb, &r);
    r.expect_req = &r.own;
    for (int round = 0; round < 3; round++) {
        r.calls = 0;
        CHECK_EQ(evaio_start(&r.own), 0);
        CHECK_EQ(evaio_wait(), 0);
        CHECK_EQ(r.calls, 1);
        CHECK(r.result >= 1);
        check_covers(r.extents, r.result, 12288);
    }
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
        test_readahead(style);
        test_fadvise(style);
        test_fallocate(style);
        test_ftruncate(style);
        test_fstatvfs(style);
        test_fchmod(style);
        test_fchown(style);
        test_futime(style);
        test_syncs(style);
        test_fiemap(style);
    }
    test_fiemap_restart();

    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    CHECK_EQ(count_open_fds(), fds_at_start);
    if (fiemap_unsupported)
        SKIP("the scratch filesystem has no FIEMAP: fiemap's success paths untested (set TMPDIR to ext4, xfs, btrfs...)");
    fprintf(stderr, "test_ops_fd3: all passed\n");
    return 0;
}
