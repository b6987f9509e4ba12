/* Per-operation tests for the path operations that open or inspect a file or
 * change its metadata: openat2, statx, statvfs, truncate, chmod, chown,
 * lchown, utime, lutime, mknod, access.  Every case runs through both API
 * styles (the wrapper evaio_OP / evaio_OP_at and the caller-owned
 * evaio_OP_init + evaio_req_set_wd + evaio_start), checks the real effect on
 * the filesystem, compares errors with the synchronous call, and runs again
 * against a working directory with the process's cwd elsewhere.  No
 * descriptor may leak. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#define REC_OUTPUTS                                                                     \
    const void *buf_seen;   /* req->args.statx.buf / req->args.statvfs.buf */           \
    struct statx stx;       /* statx: a copy of the buffer */                           \
    struct statvfs vfs;     /* statvfs: a copy of the buffer */
#include "op_harness.h"
#include "path_util.h"

static void rec_capture(struct rec *r, evaio_req *req)
{
    switch (req->type) {
    case EVAIO_OP_STATX:
        r->buf_seen = req->args.statx.buf;
        if (req->result == 0) {
            CHECK(req->args.statx.buf != NULL);
            r->stx = *req->args.statx.buf;
        }
        break;
    case EVAIO_OP_STATVFS:
        r->buf_seen = req->args.statvfs.buf;
        if (req->result == 0) {
            CHECK(req->args.statvfs.buf != NULL);
            r->vfs = *req->args.statvfs.buf;
        }
        break;
    default:
        break;
    }
}

static void rec_reset_outputs(struct rec *r)
{
    r->buf_seen = NULL;
    memset(&r->stx, 0, sizeof r->stx);
    memset(&r->vfs, 0, sizeof r->vfs);
}

/* ---- per-operation submitters: both styles, with or without a wd ---- */

static void do_openat2(int style, struct rec *r, evaio_wd *wd, const char *path, int flags, mode_t mode,
                       unsigned long resolve)
{
    SUBMIT_WD(style, r, wd, evaio_openat2_at(wd, path, flags, mode, resolve, 0, rec_cb, r),
              evaio_openat2(path, flags, mode, resolve, 0, rec_cb, r),
              evaio_openat2_init(&r->own, path, flags, mode, resolve, rec_cb, r));
}

static void do_statx(int style, struct rec *r, evaio_wd *wd, const char *path, int flags, unsigned mask,
                     struct statx *buf)
{
    SUBMIT_WD(style, r, wd, evaio_statx_at(wd, path, flags, mask, buf, 0, rec_cb, r),
              evaio_statx(path, flags, mask, buf, 0, rec_cb, r),
              evaio_statx_init(&r->own, path, flags, mask, buf, rec_cb, r));
}

static void do_statvfs(int style, struct rec *r, evaio_wd *wd, const char *path, struct statvfs *buf)
{
    SUBMIT_WD(style, r, wd, evaio_statvfs_at(wd, path, buf, 0, rec_cb, r),
              evaio_statvfs(path, buf, 0, rec_cb, r), evaio_statvfs_init(&r->own, path, buf, rec_cb, r));
}

static void do_truncate(int style, struct rec *r, evaio_wd *wd, const char *path, int64_t length)
{
    SUBMIT_WD(style, r, wd, evaio_truncate_at(wd, path, length, 0, rec_cb, r),
              evaio_truncate(path, length, 0, rec_cb, r),
              evaio_truncate_init(&r->own, path, length, rec_cb, r));
}

static void do_chmod(int style, struct rec *r, evaio_wd *wd, const char *path, mode_t mode)
{
    SUBMIT_WD(style, r, wd, evaio_chmod_at(wd, path, mode, 0, rec_cb, r), evaio_chmod(path, mode, 0, rec_cb, r),
              evaio_chmod_init(&r->own, path, mode, rec_cb, r));
}

static void do_chown(int style, struct rec *r, evaio_wd *wd, const char *path, uid_t uid, gid_t gid)
{
    SUBMIT_WD(style, r, wd, evaio_chown_at(wd, path, uid, gid, 0, rec_cb, r),
              evaio_chown(path, uid, gid, 0, rec_cb, r), evaio_chown_init(&r->own, path, uid, gid, rec_cb, r));
}

static void do_lchown(int style, struct rec *r, evaio_wd *wd, const char *path, uid_t uid, gid_t gid)
{
    SUBMIT_WD(style, r, wd, evaio_lchown_at(wd, path, uid, gid, 0, rec_cb, r),
              evaio_lchown(path, uid, gid, 0, rec_cb, r), evaio_lchown_init(&r->own, path, uid, gid, rec_cb, r));
}

static void do_utime(int style, struct rec *r, evaio_wd *wd, const char *path, struct timespec atime,
                     struct timespec mtime)
{
    SUBMIT_WD(style, r, wd, evaio_utime_at(wd, path, atime, mtime, 0, rec_cb, r),
              evaio_utime(path, atime, mtime, 0, rec_cb, r),
              evaio_utime_init(&r->own, path, atime, mtime, rec_cb, r));
}

static void do_lutime(int style, struct rec *r, evaio_wd *wd, const char *path, struct timespec atime,
                      struct timespec mtime)
{
    SUBMIT_WD(style, r, wd, evaio_lutime_at(wd, path, atime, mtime, 0, rec_cb, r),
              evaio_lutime(path, atime, mtime, 0, rec_cb, r),
              evaio_lutime_init(&r->own, path, atime, mtime, rec_cb, r));
}

static void do_mknod(int style, struct rec *r, evaio_wd *wd, const char *path, mode_t mode, dev_t dev)
{
    SUBMIT_WD(style, r, wd, evaio_mknod_at(wd, path, mode, dev, 0, rec_cb, r),
              evaio_mknod(path, mode, dev, 0, rec_cb, r), evaio_mknod_init(&r->own, path, mode, dev, rec_cb, r));
}

static void do_access(int style, struct rec *r, evaio_wd *wd, const char *path, int mode, int flags)
{
    SUBMIT_WD(style, r, wd, evaio_access_at(wd, path, mode, flags, 0, rec_cb, r),
              evaio_access(path, mode, flags, 0, rec_cb, r),
              evaio_access_init(&r->own, path, mode, flags, rec_cb, r));
}

static void same_inode(const struct stat *a, const struct stat *b)
{
    CHECK_EQ(a->st_dev, b->st_dev);
    CHECK_EQ(a->st_ino, b->st_ino);
}

/* ---- openat2 ---- */

static long sync_openat2(int dirfd, const char *path, int flags, mode_t mode, unsigned long resolve)
{
    struct { uint64_t flags, mode, resolve; } how = { (unsigned)(flags | O_CLOEXEC), mode, resolve };
    return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* The descriptor openat2 gave: close-on-exec, refers to `path`, then closed. */
static void check_opened(const struct rec *r, const char *path)
{
    CHECK(r->result >= 0);
    int fd = (int)r->result;
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    struct stat by_fd, by_name;
    CHECK_EQ(fstat(fd, &by_fd), 0);
    CHECK_EQ(stat(path, &by_name), 0);
    same_inode(&by_fd, &by_name);
    CHECK_EQ(close(fd), 0);
}

static void test_openat2(int style)
{
    struct rec r = { 0 };
    begin("openat2", style);
    if (!EVAIO_HAVE_OPENAT2) {
        do_openat2(style, &r, NULL, check_tmpdir(), O_RDONLY, 0, 0);
        expect_fail(&r, EVAIO_OP_OPENAT2, ENOSYS);
        return;
    }
    char file[4096], created[4096], link[4096];
    pathf(file, sizeof file, "%s", spath(style, "openat2-file"));
    pathf(created, sizeof created, "%s", spath(style, "openat2-created"));
    pathf(link, sizeof link, "%s", spath(style, "openat2-link"));
    make_file(file, "openat2 data");
    CHECK_EQ(symlink(file, link), 0);

    /* A file, no restrictions: readable, close-on-exec. */
    do_openat2(style, &r, NULL, file, O_RDONLY, 0, 0);
    if (r.result == -1 && r.errorno == ENOSYS) {
        /* A kernel before 5.6 (or a filter): the system call itself says so. */
        CHECK(sync_openat2(AT_FDCWD, file, O_RDONLY, 0, 0) == -1 && errno == ENOSYS);
        SKIP("the kernel has no openat2");
    }
    CHECK(r.result >= 0);
    char buf[32];
    CHECK_EQ(pread((int)r.result, buf, sizeof buf, 0), 12);
    CHECK(memcmp(buf, "openat2 data", 12) == 0);
    check_opened(&r, file);

    /* O_CREAT with a mode (less the umask). */
    do_openat2(style, &r, NULL, created, O_WRONLY | O_CREAT | O_EXCL, 0640, 0);
    check_opened(&r, created);
    struct stat st;
    CHECK_EQ(stat(created, &st), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 0640 & ~022);
    /* Again with O_EXCL: EEXIST. */
    do_openat2(style, &r, NULL, created, O_WRONLY | O_CREAT | O_EXCL, 0640, 0);
    expect_fail(&r, EVAIO_OP_OPENAT2, EEXIST);

    /* Symlinks: followed without restrictions, refused with NO_SYMLINKS. */
    do_openat2(style, &r, NULL, link, O_RDONLY, 0, 0);
    check_opened(&r, file);
    CHECK(sync_openat2(AT_FDCWD, link, O_RDONLY, 0, EVAIO_RESOLVE_NO_SYMLINKS) == -1);
    CHECK_EQ(errno, ELOOP);
    do_openat2(style, &r, NULL, link, O_RDONLY, 0, EVAIO_RESOLVE_NO_SYMLINKS);
    expect_fail(&r, EVAIO_OP_OPENAT2, ELOOP);

    /* EINVAL: a mode without O_CREAT, unknown resolve bits, unknown flags. */
    int err = SYNC_ERRNO(sync_openat2(AT_FDCWD, file, O_RDONLY, 0600, 0));
    CHECK_EQ(err, EINVAL);
    do_openat2(style, &r, NULL, file, O_RDONLY, 0600, 0);
    expect_fail(&r, EVAIO_OP_OPENAT2, EINVAL);
    do_openat2(style, &r, NULL, file, O_RDONLY, 0, 1UL << 40);
    expect_fail(&r, EVAIO_OP_OPENAT2, EINVAL);
    err = SYNC_ERRNO(sync_openat2(AT_FDCWD, file, O_RDONLY | (1 << 30), 0, 0));
    CHECK_EQ(err, EINVAL);
    do_openat2(style, &r, NULL, file, O_RDONLY | (1 << 30), 0, 0);
    expect_fail(&r, EVAIO_OP_OPENAT2, EINVAL);

    /* Missing: ENOENT; through a file: ENOTDIR. */
    do_openat2(style, &r, NULL, check_path("openat2-missing"), O_RDONLY, 0, 0);
    expect_fail(&r, EVAIO_OP_OPENAT2, ENOENT);
    char sub[4096];
    pathf(sub, sizeof sub, "%s/below", file);
    do_openat2(style, &r, NULL, sub, O_RDONLY, 0, 0);
    expect_fail(&r, EVAIO_OP_OPENAT2, ENOTDIR);

    /* In a wd: relative names resolve there; BENEATH refuses "..", absolute
     * paths and symlinks leading out (EXDEV); IN_ROOT makes "/" the wd. */
    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "openat2-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/inside", wdabs);
    make_file(p, "in");
    pathf(p, sizeof p, "%s/out-link", wdabs);
    CHECK_EQ(symlink(file, p), 0);
    pathf(p, sizeof p, "%s/in-link", wdabs);
    CHECK_EQ(symlink("inside", p), 0);
    pathf(p, sizeof p, "%s/inside", wdabs);
    do_openat2(style, &r, wd, "inside", O_RDONLY, 0, EVAIO_RESOLVE_BENEATH);
    check_opened(&r, p);
    do_openat2(style, &r, wd, "in-link", O_RDONLY, 0, EVAIO_RESOLVE_BENEATH);
    check_opened(&r, p);
    do_openat2(style, &r, wd, "in-link", O_RDONLY, 0, EVAIO_RESOLVE_NO_SYMLINKS);
    expect_fail(&r, EVAIO_OP_OPENAT2, ELOOP);
    do_openat2(style, &r, wd, "/inside", O_RDONLY, 0, EVAIO_RESOLVE_IN_ROOT);
    check_opened(&r, p);
    int dfd = open(wdabs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    CHECK(dfd >= 0);
    char up[4096];
    pathf(up, sizeof up, "../%s", strrchr(file, '/') + 1); /* the file next to the wd: exists */
    CHECK(sync_openat2(dfd, up, O_RDONLY, 0, EVAIO_RESOLVE_BENEATH) == -1);
    CHECK_EQ(errno, EXDEV);
    CHECK_EQ(close(dfd), 0);
    do_openat2(style, &r, wd, up, O_RDONLY, 0, EVAIO_RESOLVE_BENEATH);
    expect_fail(&r, EVAIO_OP_OPENAT2, EXDEV);
    do_openat2(style, &r, wd, up, O_RDONLY, 0, 0); /* without: it is there */
    check_opened(&r, file);
    do_openat2(style, &r, wd, "../x", O_RDONLY, 0, EVAIO_RESOLVE_BENEATH);
    expect_fail(&r, EVAIO_OP_OPENAT2, EXDEV);
    do_openat2(style, &r, wd, file, O_RDONLY, 0, EVAIO_RESOLVE_BENEATH);
    expect_fail(&r, EVAIO_OP_OPENAT2, EXDEV);
    do_openat2(style, &r, wd, "out-link", O_RDONLY, 0, EVAIO_RESOLVE_BENEATH);
    expect_fail(&r, EVAIO_OP_OPENAT2, EXDEV);
    do_openat2(style, &r, wd, "created", O_RDWR | O_CREAT, 0600, EVAIO_RESOLVE_BENEATH);
    pathf(p, sizeof p, "%s/created", wdabs);
    check_opened(&r, p);
    not_in_cwd("created");
    not_in_cwd("inside");
    do_openat2(style, &r, wd, "missing", O_RDONLY, 0, 0);
    expect_fail(&r, EVAIO_OP_OPENAT2, ENOENT);
    do_openat2(style, &r, wd, NULL, O_RDONLY, 0, 0);
    expect_null_path(&r, style, EVAIO_OP_OPENAT2);
    close_wd(wd);

    do_openat2(style, &r, NULL, NULL, O_RDONLY, 0, 0);
    expect_null_path(&r, style, EVAIO_OP_OPENAT2);
    rec_reset(&r);
}

/* ---- statx ---- */

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0
#endif
#define WANT_MASK (STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID)

/* Whether a mount with this id is in /proc/self/mountinfo (first field). */
static int mount_id_listed(uint64_t id)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -1;
    char line[8192];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strtoull(line, NULL, 10) == id;
    fclose(f);
    return found;
}

static void same_statx(const struct statx *x, const struct stat *st)
{
    CHECK((x->stx_mask & (STATX_TYPE | STATX_MODE | STATX_INO | STATX_NLINK | STATX_SIZE)) ==
          (STATX_TYPE | STATX_MODE | STATX_INO | STATX_NLINK | STATX_SIZE));
    CHECK_EQ(x->stx_ino, st->st_ino);
    CHECK_EQ(x->stx_mode, st->st_mode);
    CHECK_EQ(x->stx_nlink, st->st_nlink);
    CHECK_EQ(x->stx_size, st->st_size);
    CHECK_EQ(x->stx_uid, st->st_uid);
    CHECK_EQ(x->stx_gid, st->st_gid);
    CHECK_EQ(makedev(x->stx_dev_major, x->stx_dev_minor), st->st_dev);
    CHECK_EQ(x->stx_mtime.tv_sec, st->st_mtim.tv_sec);
    CHECK_EQ(x->stx_mtime.tv_nsec, st->st_mtim.tv_nsec);
}

/* Birth time and mount id, when the kernel reports them: plausible and the
 * same as a synchronous statx says. */
static void check_btime_mnt(const struct statx *x, const char *path, time_t created_after)
{
    struct statx sync_x;
    CHECK_EQ(statx(AT_FDCWD, path, 0, WANT_MASK, &sync_x), 0);
    CHECK_EQ(x->stx_mask & (STATX_BTIME | STATX_MNT_ID), sync_x.stx_mask & (STATX_BTIME | STATX_MNT_ID));
    if (x->stx_mask & STATX_BTIME) {
        CHECK(x->stx_btime.tv_nsec < 1000000000);
        CHECK(x->stx_btime.tv_sec >= created_after - 2); /* coarse file-system clocks */
        CHECK(x->stx_btime.tv_sec <= time(NULL) + 2);
        /* Born no later than last changed. */
        CHECK(x->stx_btime.tv_sec < x->stx_ctime.tv_sec ||
              (x->stx_btime.tv_sec == x->stx_ctime.tv_sec && x->stx_btime.tv_nsec <= x->stx_ctime.tv_nsec));
        CHECK_EQ(x->stx_btime.tv_sec, sync_x.stx_btime.tv_sec);
        CHECK_EQ(x->stx_btime.tv_nsec, sync_x.stx_btime.tv_nsec);
    } else {
        fprintf(stderr, "   (no birth time on this filesystem)\n");
    }
    if (STATX_MNT_ID && (x->stx_mask & STATX_MNT_ID)) {
        CHECK(x->stx_mnt_id != 0);
        CHECK_EQ(x->stx_mnt_id, sync_x.stx_mnt_id);
        int listed = mount_id_listed(x->stx_mnt_id);
        CHECK(listed != 0); /* -1: no /proc to compare with */
    } else {
        fprintf(stderr, "   (no mount id from statx here)\n");
    }
}

static void test_statx(int style)
{
    struct rec r = { 0 };
    struct statx mine;
    struct stat st;
    begin("statx", style);
    if (!EVAIO_HAVE_STATX) {
        do_statx(style, &r, NULL, check_tmpdir(), 0, STATX_BASIC_STATS, &mine);
        expect_fail(&r, EVAIO_OP_STATX, ENOSYS);
        return;
    }
    char file[4096], link[4096], sub[4096];
    pathf(file, sizeof file, "%s", spath(style, "statx-file"));
    pathf(link, sizeof link, "%s", spath(style, "statx-link"));
    pathf(sub, sizeof sub, "%s/below", file);
    time_t created_after = time(NULL);
    make_file(file, "seventeen bytes!!");
    CHECK_EQ(symlink(file, link), 0);

    /* Into the caller's struct. */
    CHECK_EQ(stat(file, &st), 0);
    memset(&mine, 0x5a, sizeof mine);
    do_statx(style, &r, NULL, file, 0, WANT_MASK, &mine);
    expect_same(&r, EVAIO_OP_STATX, 0, 0);
    CHECK(r.buf_seen == &mine);
    same_statx(&mine, &st);
    CHECK_EQ(mine.stx_size, 17);
    check_btime_mnt(&mine, file, created_after);

    /* NULL: the library supplies it, req->args.statx.buf in the callback. */
    do_statx(style, &r, NULL, file, AT_STATX_SYNC_AS_STAT, WANT_MASK, NULL);
    expect_same(&r, EVAIO_OP_STATX, 0, 0);
    CHECK(r.buf_seen != NULL && r.buf_seen != &mine);
    same_statx(&r.stx, &st);
    check_btime_mnt(&r.stx, file, created_after);

    /* A symlink: followed, or itself with AT_SYMLINK_NOFOLLOW. */
    do_statx(style, &r, NULL, link, 0, STATX_BASIC_STATS, NULL);
    expect_same(&r, EVAIO_OP_STATX, 0, 0);
    same_statx(&r.stx, &st);
    struct stat lst;
    CHECK_EQ(lstat(link, &lst), 0);
    do_statx(style, &r, NULL, link, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, NULL);
    expect_same(&r, EVAIO_OP_STATX, 0, 0);
    CHECK(S_ISLNK(r.stx.stx_mode));
    same_statx(&r.stx, &lst);

    /* Errors, as the synchronous statx reports them. */
    int err = SYNC_ERRNO(statx(AT_FDCWD, check_path("statx-missing"), 0, STATX_BASIC_STATS, &mine));
    CHECK_EQ(err, ENOENT);
    do_statx(style, &r, NULL, check_path("statx-missing"), 0, STATX_BASIC_STATS, &mine);
    expect_fail(&r, EVAIO_OP_STATX, ENOENT);
    do_statx(style, &r, NULL, sub, 0, STATX_BASIC_STATS, NULL);
    expect_fail(&r, EVAIO_OP_STATX, ENOTDIR);
    do_statx(style, &r, NULL, "", 0, STATX_BASIC_STATS, NULL); /* empty, no AT_EMPTY_PATH */
    expect_fail(&r, EVAIO_OP_STATX, ENOENT);
    err = SYNC_ERRNO(statx(AT_FDCWD, file, 0x40000000, STATX_BASIC_STATS, &mine));
    CHECK_EQ(err, EINVAL);
    do_statx(style, &r, NULL, file, 0x40000000, STATX_BASIC_STATS, NULL);
    expect_fail(&r, EVAIO_OP_STATX, EINVAL);
    err = SYNC_ERRNO(statx(AT_FDCWD, file, 0, 0x80000000u, &mine)); /* STATX__RESERVED */
    CHECK_EQ(err, EINVAL);
    do_statx(style, &r, NULL, file, 0, 0x80000000u, &mine);
    expect_fail(&r, EVAIO_OP_STATX, EINVAL);

    /* In a wd: a relative name, and "" with AT_EMPTY_PATH for the wd itself. */
    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "statx-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/inside", wdabs);
    created_after = time(NULL);
    make_file(p, "abc");
    CHECK_EQ(stat(p, &st), 0);
    do_statx(style, &r, wd, "inside", 0, WANT_MASK, NULL);
    expect_same(&r, EVAIO_OP_STATX, 0, 0);
    same_statx(&r.stx, &st);
    check_btime_mnt(&r.stx, p, created_after);
    CHECK_EQ(stat(wdabs, &st), 0);
    do_statx(style, &r, wd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &mine);
    expect_same(&r, EVAIO_OP_STATX, 0, 0);
    CHECK(S_ISDIR(mine.stx_mode));
    same_statx(&mine, &st);
    do_statx(style, &r, wd, "missing", 0, STATX_BASIC_STATS, NULL);
    expect_fail(&r, EVAIO_OP_STATX, ENOENT);
    not_in_cwd("inside");
    do_statx(style, &r, wd, NULL, 0, STATX_BASIC_STATS, NULL);
    expect_null_path(&r, style, EVAIO_OP_STATX);
    close_wd(wd);

    do_statx(style, &r, NULL, NULL, 0, STATX_BASIC_STATS, &mine);
    expect_null_path(&r, style, EVAIO_OP_STATX);
    do_statx(style, &r, NULL, NULL, 0, STATX_BASIC_STATS, NULL);
    expect_null_path(&r, style, EVAIO_OP_STATX);
    rec_reset(&r);
}

/* ---- statvfs ---- */

static void same_vfs(const struct statvfs *a, const struct statvfs *b)
{
    CHECK_EQ(a->f_bsize, b->f_bsize);
    CHECK_EQ(a->f_frsize, b->f_frsize);
    CHECK_EQ(a->f_blocks, b->f_blocks);
    CHECK_EQ(a->f_files, b->f_files);
    CHECK_EQ(a->f_fsid, b->f_fsid);
    CHECK_EQ(a->f_flag, b->f_flag);
    CHECK_EQ(a->f_namemax, b->f_namemax);
}

static void test_statvfs(int style)
{
    struct rec r = { 0 };
    struct statvfs mine, sync_vfs;
    begin("statvfs", style);
    char file[4096], sub[4096];
    pathf(file, sizeof file, "%s", spath(style, "statvfs-file"));
    pathf(sub, sizeof sub, "%s/below", file);
    make_file(file, "x");

    CHECK_EQ(statvfs(file, &sync_vfs), 0);
    memset(&mine, 0x5a, sizeof mine);
    do_statvfs(style, &r, NULL, file, &mine);
    expect_same(&r, EVAIO_OP_STATVFS, 0, 0);
    CHECK(r.buf_seen == &mine);
    same_vfs(&mine, &sync_vfs);
    CHECK(mine.f_bsize > 0);
    do_statvfs(style, &r, NULL, check_tmpdir(), NULL);
    expect_same(&r, EVAIO_OP_STATVFS, 0, 0);
    CHECK(r.buf_seen != NULL);
    same_vfs(&r.vfs, &sync_vfs);
    /* Another filesystem: /proc. */
    struct statvfs proc_vfs;
    if (statvfs("/proc", &proc_vfs) == 0 && proc_vfs.f_fsid != sync_vfs.f_fsid) {
        do_statvfs(style, &r, NULL, "/proc", NULL);
        expect_same(&r, EVAIO_OP_STATVFS, 0, 0);
        CHECK_EQ(r.vfs.f_fsid, proc_vfs.f_fsid);
    }

    int err = SYNC_ERRNO(statvfs(check_path("statvfs-missing"), &sync_vfs));
    CHECK_EQ(err, ENOENT);
    do_statvfs(style, &r, NULL, check_path("statvfs-missing"), &mine);
    expect_fail(&r, EVAIO_OP_STATVFS, ENOENT);
    err = SYNC_ERRNO(statvfs(sub, &sync_vfs));
    CHECK_EQ(err, ENOTDIR);
    do_statvfs(style, &r, NULL, sub, NULL);
    expect_fail(&r, EVAIO_OP_STATVFS, ENOTDIR);
    err = SYNC_ERRNO(statvfs("", &sync_vfs));
    CHECK_EQ(err, ENOENT);
    do_statvfs(style, &r, NULL, "", NULL);
    expect_fail(&r, EVAIO_OP_STATVFS, ENOENT);

    /* In a wd: relative names, "." and an absolute path (the wd is ignored). */
    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "statvfs-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/inside", wdabs);
    make_file(p, "x");
    do_statvfs(style, &r, wd, "inside", NULL);
    expect_same(&r, EVAIO_OP_STATVFS, 0, 0);
    same_vfs(&r.vfs, &sync_vfs);
    do_statvfs(style, &r, wd, ".", &mine);
    expect_same(&r, EVAIO_OP_STATVFS, 0, 0);
    same_vfs(&mine, &sync_vfs);
    do_statvfs(style, &r, wd, "missing", NULL);
    expect_fail(&r, EVAIO_OP_STATVFS, ENOENT);
    do_statvfs(style, &r, wd, "", NULL); /* empty: ENOENT, as statvfs("") */
    expect_fail(&r, EVAIO_OP_STATVFS, ENOENT);
    do_statvfs(style, &r, wd, "inside/below", NULL);
    expect_fail(&r, EVAIO_OP_STATVFS, ENOTDIR);
    not_in_cwd("inside");
    do_statvfs(style, &r, wd, NULL, NULL);
    expect_null_path(&r, style, EVAIO_OP_STATVFS);
    close_wd(wd);

    do_statvfs(style, &r, NULL, NULL, &mine);
    expect_null_path(&r, style, EVAIO_OP_STATVFS);
    rec_reset(&r);
}

/* ---- truncate ---- */

static void test_truncate(int style)
{
    struct rec r = { 0 };
    struct stat st;
    begin("truncate", style);
    char file[4096], twin[4096], dir[4096];
    pathf(file, sizeof file, "%s", spath(style, "truncate-file"));
    pathf(twin, sizeof twin, "%s", spath(style, "truncate-twin"));
    pathf(dir, sizeof dir, "%s", spath(style, "truncate-dir"));
    make_file(file, "0123456789");
    make_file(twin, "0123456789");
    CHECK_EQ(mkdir(dir, 0700), 0);

    /* Shorter: the start of the content stays. */
    do_truncate(style, &r, NULL, file, 4);
    expect_same(&r, EVAIO_OP_TRUNCATE, 0, 0);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_size, 4);
    CHECK(strcmp(file_content(file), "0123") == 0);
    /* Longer: zero bytes after it. */
    do_truncate(style, &r, NULL, file, 100);
    expect_same(&r, EVAIO_OP_TRUNCATE, 0, 0);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_size, 100);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    char buf[100];
    CHECK_EQ(read(fd, buf, sizeof buf), 100);
    CHECK(memcmp(buf, "0123", 4) == 0);
    for (int i = 4; i < 100; i++)
        CHECK_EQ(buf[i], 0);
    CHECK_EQ(close(fd), 0);
    /* To 0. */
    do_truncate(style, &r, NULL, file, 0);
    expect_same(&r, EVAIO_OP_TRUNCATE, 0, 0);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_size, 0);

    /* Negative or huge lengths, a directory, missing: as truncate(2) says. */
    int err = SYNC_ERRNO(truncate(twin, -1));
    CHECK_EQ(err, EINVAL);
    do_truncate(style, &r, NULL, file, -1);
    expect_fail(&r, EVAIO_OP_TRUNCATE, EINVAL);
    err = SYNC_ERRNO(truncate(twin, INT64_MAX));
    do_truncate(style, &r, NULL, file, INT64_MAX);
    expect_fail(&r, EVAIO_OP_TRUNCATE, err);
    do_truncate(style, &r, NULL, file, INT64_MIN);
    expect_fail(&r, EVAIO_OP_TRUNCATE, EINVAL);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_size, 0);
    err = SYNC_ERRNO(truncate(dir, 0));
    CHECK_EQ(err, EISDIR);
    do_truncate(style, &r, NULL, dir, 0);
    expect_fail(&r, EVAIO_OP_TRUNCATE, EISDIR);
    err = SYNC_ERRNO(truncate("", 0));
    CHECK_EQ(err, ENOENT);
    do_truncate(style, &r, NULL, "", 0);
    expect_fail(&r, EVAIO_OP_TRUNCATE, ENOENT);
    do_truncate(style, &r, NULL, check_path("truncate-missing"), 0);
    expect_fail(&r, EVAIO_OP_TRUNCATE, ENOENT);
    CHECK(!exists(check_path("truncate-missing")));

    /* In a wd. */
    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "truncate-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/inside", wdabs);
    make_file(p, "abcdef");
    do_truncate(style, &r, wd, "inside", 2);
    expect_same(&r, EVAIO_OP_TRUNCATE, 0, 0);
    CHECK(strcmp(file_content(p), "ab") == 0);
    do_truncate(style, &r, wd, "missing", 2);
    expect_fail(&r, EVAIO_OP_TRUNCATE, ENOENT);
    do_truncate(style, &r, wd, "", 0); /* empty: ENOENT, not the wd itself */
    expect_fail(&r, EVAIO_OP_TRUNCATE, ENOENT);
    not_in_cwd("missing");
    do_truncate(style, &r, wd, NULL, 0);
    expect_null_path(&r, style, EVAIO_OP_TRUNCATE);
    close_wd(wd);

    do_truncate(style, &r, NULL, NULL, 0);
    expect_null_path(&r, style, EVAIO_OP_TRUNCATE);
    rec_reset(&r);
}

/* ---- chmod ---- */

static void test_chmod(int style)
{
    struct rec r = { 0 };
    struct stat st;
    begin("chmod", style);
    char file[4096], link[4096], sub[4096];
    pathf(file, sizeof file, "%s", spath(style, "chmod-file"));
    pathf(link, sizeof link, "%s", spath(style, "chmod-link"));
    pathf(sub, sizeof sub, "%s/below", file);
    make_file(file, "x");
    CHECK_EQ(symlink(file, link), 0);

    /* Exactly the bits given: no umask. */
    do_chmod(style, &r, NULL, file, 0741);
    expect_same(&r, EVAIO_OP_CHMOD, 0, 0);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0741);
    CHECK(S_ISREG(st.st_mode));
    do_chmod(style, &r, NULL, file, 0);
    expect_same(&r, EVAIO_OP_CHMOD, 0, 0);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0);
    /* Through a symlink: the target changes. */
    do_chmod(style, &r, NULL, link, 0604);
    expect_same(&r, EVAIO_OP_CHMOD, 0, 0);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0604);

    do_chmod(style, &r, NULL, check_path("chmod-missing"), 0600);
    expect_fail(&r, EVAIO_OP_CHMOD, ENOENT);
    do_chmod(style, &r, NULL, sub, 0600);
    expect_fail(&r, EVAIO_OP_CHMOD, ENOTDIR);

    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "chmod-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/inside", wdabs);
    make_file(p, "x");
    do_chmod(style, &r, wd, "inside", 0612);
    expect_same(&r, EVAIO_OP_CHMOD, 0, 0);
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0612);
    do_chmod(style, &r, wd, "missing", 0600);
    expect_fail(&r, EVAIO_OP_CHMOD, ENOENT);
    do_chmod(style, &r, wd, NULL, 0600);
    expect_null_path(&r, style, EVAIO_OP_CHMOD);
    close_wd(wd);

    do_chmod(style, &r, NULL, NULL, 0600);
    expect_null_path(&r, style, EVAIO_OP_CHMOD);
    rec_reset(&r);
}

/* ---- chown, lchown ---- */

/* Another user and group than ours: a privileged caller can give the file
 * to them, an unprivileged one gets EPERM, as from the synchronous call. */
#define OTHER_UID ((uid_t)54321)
#define OTHER_GID ((gid_t)54322)

static void test_chown(int style)
{
    struct rec r = { 0 };
    struct stat st, lst;
    begin("chown", style);
    char file[4096], twin[4096], link[4096], sub[4096];
    pathf(file, sizeof file, "%s", spath(style, "chown-file"));
    pathf(twin, sizeof twin, "%s", spath(style, "chown-twin"));
    pathf(link, sizeof link, "%s", spath(style, "chown-link"));
    pathf(sub, sizeof sub, "%s/below", file);
    make_file(file, "x");
    make_file(twin, "x");
    CHECK_EQ(symlink(file, link), 0);
    uid_t me = geteuid();
    gid_t my_group = getegid();

    /* To ourselves, and -1/-1 (nothing changes): allowed to anyone. */
    do_chown(style, &r, NULL, file, me, my_group);
    expect_same(&r, EVAIO_OP_CHOWN, 0, 0);
    do_chown(style, &r, NULL, file, (uid_t)-1, (gid_t)-1);
    expect_same(&r, EVAIO_OP_CHOWN, 0, 0);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_uid, me);
    CHECK_EQ(st.st_gid, my_group);

    /* To another user: what chown(2) does on the twin. */
    int sync_r = chown(twin, OTHER_UID, (gid_t)-1);
    int err = sync_r ? errno : 0;
    do_chown(style, &r, NULL, file, OTHER_UID, (gid_t)-1);
    expect_same(&r, EVAIO_OP_CHOWN, sync_r, err);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_uid, sync_r == 0 ? OTHER_UID : me);
    CHECK_EQ(st.st_gid, my_group);
    if (sync_r == 0) {
        /* Through the symlink: the target's group changes, not the link's. */
        CHECK_EQ(lstat(link, &lst), 0);
        do_chown(style, &r, NULL, link, (uid_t)-1, OTHER_GID);
        expect_same(&r, EVAIO_OP_CHOWN, 0, 0);
        CHECK_EQ(stat(file, &st), 0);
        CHECK_EQ(st.st_uid, OTHER_UID);
        CHECK_EQ(st.st_gid, OTHER_GID);
        struct stat lst2;
        CHECK_EQ(lstat(link, &lst2), 0);
        CHECK_EQ(lst2.st_gid, lst.st_gid);
        CHECK_EQ(chown(file, me, my_group), 0);
    } else {
        CHECK_EQ(err, EPERM);
    }

    do_chown(style, &r, NULL, check_path("chown-missing"), me, my_group);
    expect_fail(&r, EVAIO_OP_CHOWN, ENOENT);
    do_chown(style, &r, NULL, sub, me, my_group);
    expect_fail(&r, EVAIO_OP_CHOWN, ENOTDIR);

    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "chown-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/inside", wdabs);
    make_file(p, "x");
    do_chown(style, &r, wd, "inside", sync_r == 0 ? OTHER_UID : me, (gid_t)-1);
    expect_same(&r, EVAIO_OP_CHOWN, 0, 0);
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_uid, sync_r == 0 ? OTHER_UID : me);
    do_chown(style, &r, wd, "missing", me, my_group);
    expect_fail(&r, EVAIO_OP_CHOWN, ENOENT);
    do_chown(style, &r, wd, NULL, me, my_group);
    expect_null_path(&r, style, EVAIO_OP_CHOWN);
    close_wd(wd);

    do_chown(style, &r, NULL, NULL, me, my_group);
    expect_null_path(&r, style, EVAIO_OP_CHOWN);
    rec_reset(&r);
}

static void test_lchown(int style)
{
    struct rec r = { 0 };
    struct stat st, lst;
    begin("lchown", style);
    char file[4096], link[4096], twin_link[4096];
    pathf(file, sizeof file, "%s", spath(style, "lchown-file"));
    pathf(link, sizeof link, "%s", spath(style, "lchown-link"));
    pathf(twin_link, sizeof twin_link, "%s", spath(style, "lchown-twin-link"));
    make_file(file, "x");
    CHECK_EQ(symlink(file, link), 0);
    CHECK_EQ(symlink(file, twin_link), 0);
    uid_t me = geteuid();
    gid_t my_group = getegid();

    /* The link itself, to ourselves: allowed to anyone. */
    do_lchown(style, &r, NULL, link, me, my_group);
    expect_same(&r, EVAIO_OP_LCHOWN, 0, 0);
    /* To another user: the link changes, the target does not. */
    int sync_r = lchown(twin_link, OTHER_UID, OTHER_GID);
    int err = sync_r ? errno : 0;
    do_lchown(style, &r, NULL, link, OTHER_UID, OTHER_GID);
    expect_same(&r, EVAIO_OP_LCHOWN, sync_r, err);
    CHECK_EQ(lstat(link, &lst), 0);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_uid, me);
    CHECK_EQ(st.st_gid, my_group);
    if (sync_r == 0) {
        CHECK_EQ(lst.st_uid, OTHER_UID);
        CHECK_EQ(lst.st_gid, OTHER_GID);
    } else {
        CHECK_EQ(err, EPERM);
        CHECK_EQ(lst.st_uid, me);
    }
    /* A dangling link is fine: nothing is followed. */
    char dangling[4096];
    pathf(dangling, sizeof dangling, "%s", spath(style, "lchown-dangling"));
    CHECK_EQ(symlink(check_path("nowhere"), dangling), 0);
    do_lchown(style, &r, NULL, dangling, (uid_t)-1, (gid_t)-1);
    expect_same(&r, EVAIO_OP_LCHOWN, 0, 0);
    do_chown(style, &r, NULL, dangling, (uid_t)-1, (gid_t)-1);
    expect_fail(&r, EVAIO_OP_CHOWN, ENOENT);

    do_lchown(style, &r, NULL, check_path("lchown-missing"), me, my_group);
    expect_fail(&r, EVAIO_OP_LCHOWN, ENOENT);

    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "lchown-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/link", wdabs);
    CHECK_EQ(symlink("nowhere", p), 0);
    do_lchown(style, &r, wd, "link", me, my_group);
    expect_same(&r, EVAIO_OP_LCHOWN, 0, 0);
    do_lchown(style, &r, wd, "missing", me, my_group);
    expect_fail(&r, EVAIO_OP_LCHOWN, ENOENT);
    do_lchown(style, &r, wd, NULL, me, my_group);
    expect_null_path(&r, style, EVAIO_OP_LCHOWN);
    close_wd(wd);

    do_lchown(style, &r, NULL, NULL, me, my_group);
    expect_null_path(&r, style, EVAIO_OP_LCHOWN);
    rec_reset(&r);
}

/* ---- utime, lutime ---- */

static struct timespec ts(time_t sec, long nsec)
{
    struct timespec t = { sec, nsec };
    return t;
}

static void check_time(struct timespec got, struct timespec want)
{
    CHECK_EQ(got.tv_sec, want.tv_sec);
    CHECK_EQ(got.tv_nsec, want.tv_nsec);
}

/* A time the kernel took as "now": within a few seconds of the clock (file
 * times use a coarse clock, so allow slack both ways). */
static void check_now_ish(struct timespec got, time_t before, time_t after)
{
    CHECK(got.tv_sec >= before - 2);
    CHECK(got.tv_sec <= after + 2);
}

static void test_utime(int style)
{
    struct rec r = { 0 };
    struct stat st, lst;
    begin("utime", style);
    char file[4096], link[4096], sub[4096];
    pathf(file, sizeof file, "%s", spath(style, "utime-file"));
    pathf(link, sizeof link, "%s", spath(style, "utime-link"));
    pathf(sub, sizeof sub, "%s/below", file);
    make_file(file, "x");
    CHECK_EQ(symlink(file, link), 0);
    const struct timespec a1 = ts(1000000000, 123456789), m1 = ts(1200000000, 987654321);

    /* Both, to the nanosecond. */
    do_utime(style, &r, NULL, file, a1, m1);
    expect_same(&r, EVAIO_OP_UTIME, 0, 0);
    CHECK_EQ(stat(file, &st), 0);
    check_time(st.st_atim, a1);
    check_time(st.st_mtim, m1);
    /* UTIME_OMIT keeps one; UTIME_NOW takes the current time. */
    const struct timespec m2 = ts(1300000000, 1);
    do_utime(style, &r, NULL, file, ts(5, UTIME_OMIT), m2);
    expect_same(&r, EVAIO_OP_UTIME, 0, 0);
    CHECK_EQ(stat(file, &st), 0);
    check_time(st.st_atim, a1);
    check_time(st.st_mtim, m2);
    time_t before = time(NULL);
    do_utime(style, &r, NULL, file, ts(0, UTIME_OMIT), ts(0, UTIME_NOW));
    expect_same(&r, EVAIO_OP_UTIME, 0, 0);
    time_t after = time(NULL);
    CHECK_EQ(stat(file, &st), 0);
    check_time(st.st_atim, a1);
    check_now_ish(st.st_mtim, before, after);
    do_utime(style, &r, NULL, file, ts(0, UTIME_NOW), m1);
    expect_same(&r, EVAIO_OP_UTIME, 0, 0);
    CHECK_EQ(stat(file, &st), 0);
    check_now_ish(st.st_atim, before, time(NULL));
    check_time(st.st_mtim, m1);
    /* Through a symlink: the target's times, not the link's. */
    CHECK_EQ(lstat(link, &lst), 0);
    do_utime(style, &r, NULL, link, a1, m2);
    expect_same(&r, EVAIO_OP_UTIME, 0, 0);
    CHECK_EQ(stat(file, &st), 0);
    check_time(st.st_mtim, m2);
    struct stat lst2;
    CHECK_EQ(lstat(link, &lst2), 0);
    check_time(lst2.st_mtim, lst.st_mtim);

    /* Bad nanoseconds: EINVAL, nothing changed. */
    int err = SYNC_ERRNO(utimensat(AT_FDCWD, file, (struct timespec[2]){ a1, ts(0, 1000000000) }, 0));
    CHECK_EQ(err, EINVAL);
    do_utime(style, &r, NULL, file, a1, ts(0, 1000000000));
    expect_fail(&r, EVAIO_OP_UTIME, EINVAL);
    do_utime(style, &r, NULL, file, ts(0, -5), m1);
    expect_fail(&r, EVAIO_OP_UTIME, EINVAL);
    CHECK_EQ(stat(file, &st), 0);
    check_time(st.st_mtim, m2);
    do_utime(style, &r, NULL, check_path("utime-missing"), a1, m1);
    expect_fail(&r, EVAIO_OP_UTIME, ENOENT);
    do_utime(style, &r, NULL, sub, a1, m1);
    expect_fail(&r, EVAIO_OP_UTIME, ENOTDIR);

    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "utime-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/inside", wdabs);
    make_file(p, "x");
    do_utime(style, &r, wd, "inside", a1, m1);
    expect_same(&r, EVAIO_OP_UTIME, 0, 0);
    CHECK_EQ(stat(p, &st), 0);
    check_time(st.st_atim, a1);
    check_time(st.st_mtim, m1);
    do_utime(style, &r, wd, "missing", a1, m1);
    expect_fail(&r, EVAIO_OP_UTIME, ENOENT);
    do_utime(style, &r, wd, NULL, a1, m1);
    expect_null_path(&r, style, EVAIO_OP_UTIME);
    close_wd(wd);

    do_utime(style, &r, NULL, NULL, a1, m1);
    expect_null_path(&r, style, EVAIO_OP_UTIME);
    rec_reset(&r);
}

static void test_lutime(int style)
{
    struct rec r = { 0 };
    struct stat st, lst, target_before;
    begin("lutime", style);
    char file[4096], link[4096], dangling[4096];
    pathf(file, sizeof file, "%s", spath(style, "lutime-file"));
    pathf(link, sizeof link, "%s", spath(style, "lutime-link"));
    pathf(dangling, sizeof dangling, "%s", spath(style, "lutime-dangling"));
    make_file(file, "x");
    CHECK_EQ(symlink(file, link), 0);
    CHECK_EQ(symlink(check_path("nowhere"), dangling), 0);
    const struct timespec a1 = ts(1100000000, 5), m1 = ts(1150000000, 999999999);

    /* The link's own times; the target keeps its own. */
    CHECK_EQ(stat(file, &target_before), 0);
    do_lutime(style, &r, NULL, link, a1, m1);
    expect_same(&r, EVAIO_OP_LUTIME, 0, 0);
    CHECK_EQ(lstat(link, &lst), 0);
    check_time(lst.st_atim, a1);
    check_time(lst.st_mtim, m1);
    CHECK_EQ(stat(file, &st), 0);
    check_time(st.st_mtim, target_before.st_mtim);
    /* UTIME_OMIT on the link. */
    do_lutime(style, &r, NULL, link, ts(0, UTIME_OMIT), ts(1160000000, 0));
    expect_same(&r, EVAIO_OP_LUTIME, 0, 0);
    CHECK_EQ(lstat(link, &lst), 0);
    check_time(lst.st_atim, a1);
    check_time(lst.st_mtim, ts(1160000000, 0));
    /* A dangling link: fine for lutime, ENOENT for utime. */
    do_lutime(style, &r, NULL, dangling, a1, m1);
    expect_same(&r, EVAIO_OP_LUTIME, 0, 0);
    CHECK_EQ(lstat(dangling, &lst), 0);
    check_time(lst.st_mtim, m1);
    do_utime(style, &r, NULL, dangling, a1, m1);
    expect_fail(&r, EVAIO_OP_UTIME, ENOENT);
    /* A plain file: like utime. */
    do_lutime(style, &r, NULL, file, a1, m1);
    expect_same(&r, EVAIO_OP_LUTIME, 0, 0);
    CHECK_EQ(stat(file, &st), 0);
    check_time(st.st_mtim, m1);

    do_lutime(style, &r, NULL, link, a1, ts(0, 2000000000));
    expect_fail(&r, EVAIO_OP_LUTIME, EINVAL);
    do_lutime(style, &r, NULL, check_path("lutime-missing"), a1, m1);
    expect_fail(&r, EVAIO_OP_LUTIME, ENOENT);

    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "lutime-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/link", wdabs);
    CHECK_EQ(symlink("nowhere", p), 0);
    do_lutime(style, &r, wd, "link", a1, m1);
    expect_same(&r, EVAIO_OP_LUTIME, 0, 0);
    CHECK_EQ(lstat(p, &lst), 0);
    check_time(lst.st_atim, a1);
    check_time(lst.st_mtim, m1);
    do_lutime(style, &r, wd, "missing", a1, m1);
    expect_fail(&r, EVAIO_OP_LUTIME, ENOENT);
    do_lutime(style, &r, wd, NULL, a1, m1);
    expect_null_path(&r, style, EVAIO_OP_LUTIME);
    close_wd(wd);

    do_lutime(style, &r, NULL, NULL, a1, m1);
    expect_null_path(&r, style, EVAIO_OP_LUTIME);
    rec_reset(&r);
}

/* ---- mknod ---- */

static void test_mknod(int style)
{
    struct rec r = { 0 };
    struct stat st;
    begin("mknod", style);
    char fifo[4096], reg[4096], bad[4096], twin[4096], nested[4096];
    pathf(fifo, sizeof fifo, "%s", spath(style, "mknod-fifo"));
    pathf(reg, sizeof reg, "%s", spath(style, "mknod-reg"));
    pathf(bad, sizeof bad, "%s", spath(style, "mknod-bad"));
    pathf(twin, sizeof twin, "%s", spath(style, "mknod-twin"));
    pathf(nested, sizeof nested, "%s", spath(style, "mknod-no-parent/fifo"));

    /* A FIFO with its permissions (less the umask). */
    do_mknod(style, &r, NULL, fifo, S_IFIFO | 0660, 0);
    expect_same(&r, EVAIO_OP_MKNOD, 0, 0);
    CHECK_EQ(lstat(fifo, &st), 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 0660 & ~022);
    /* A regular file, by S_IFREG. */
    do_mknod(style, &r, NULL, reg, S_IFREG | 0600, 0);
    expect_same(&r, EVAIO_OP_MKNOD, 0, 0);
    CHECK_EQ(lstat(reg, &st), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_size, 0);

    /* Existing: EEXIST, the FIFO stays one. */
    do_mknod(style, &r, NULL, fifo, S_IFIFO | 0600, 0);
    expect_fail(&r, EVAIO_OP_MKNOD, EEXIST);
    do_mknod(style, &r, NULL, fifo, S_IFREG | 0600, 0);
    expect_fail(&r, EVAIO_OP_MKNOD, EEXIST);
    CHECK_EQ(lstat(fifo, &st), 0);
    CHECK(S_ISFIFO(st.st_mode));
    /* A file type mknod cannot make: what mknod(2) says on the twin. */
    int err = SYNC_ERRNO(mknod(twin, S_IFMT | 0600, 0));
    CHECK_EQ(err, EINVAL);
    do_mknod(style, &r, NULL, bad, S_IFMT | 0600, 0);
    expect_fail(&r, EVAIO_OP_MKNOD, EINVAL);
    err = SYNC_ERRNO(mknod(twin, S_IFDIR | 0700, 0));
    do_mknod(style, &r, NULL, bad, S_IFDIR | 0700, 0);
    expect_fail(&r, EVAIO_OP_MKNOD, err);
    CHECK(!exists(bad));
    /* A device: as mknod(2) on the twin (privileged: made; else EPERM). */
    int sync_r = mknod(twin, S_IFCHR | 0600, makedev(1, 3));
    err = sync_r ? errno : 0;
    do_mknod(style, &r, NULL, bad, S_IFCHR | 0600, makedev(1, 3));
    expect_same(&r, EVAIO_OP_MKNOD, sync_r, err);
    if (sync_r == 0) {
        CHECK_EQ(lstat(bad, &st), 0);
        CHECK(S_ISCHR(st.st_mode));
        CHECK_EQ(st.st_rdev, makedev(1, 3));
        CHECK_EQ(unlink(bad), 0);
        CHECK_EQ(unlink(twin), 0);
    }
    do_mknod(style, &r, NULL, nested, S_IFIFO | 0600, 0);
    expect_fail(&r, EVAIO_OP_MKNOD, ENOENT);

    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "mknod-wd", wdabs, sizeof wdabs);
    do_mknod(style, &r, wd, "fifo", S_IFIFO | 0600, 0);
    expect_same(&r, EVAIO_OP_MKNOD, 0, 0);
    pathf(p, sizeof p, "%s/fifo", wdabs);
    CHECK_EQ(lstat(p, &st), 0);
    CHECK(S_ISFIFO(st.st_mode));
    not_in_cwd("fifo");
    do_mknod(style, &r, wd, "fifo", S_IFIFO | 0600, 0);
    expect_fail(&r, EVAIO_OP_MKNOD, EEXIST);
    do_mknod(style, &r, wd, NULL, S_IFIFO | 0600, 0);
    expect_null_path(&r, style, EVAIO_OP_MKNOD);
    close_wd(wd);

    do_mknod(style, &r, NULL, NULL, S_IFIFO | 0600, 0);
    expect_null_path(&r, style, EVAIO_OP_MKNOD);
    rec_reset(&r);
}

/* ---- access ---- */

static void test_access(int style)
{
    struct rec r = { 0 };
    begin("access", style);
    char file[4096], link[4096], dangling[4096], sub[4096];
    pathf(file, sizeof file, "%s", spath(style, "access-file"));
    pathf(link, sizeof link, "%s", spath(style, "access-link"));
    pathf(dangling, sizeof dangling, "%s", spath(style, "access-dangling"));
    pathf(sub, sizeof sub, "%s/below", file);
    make_file(file, "x");
    CHECK_EQ(chmod(file, 0600), 0);
    CHECK_EQ(symlink(file, link), 0);
    CHECK_EQ(symlink(check_path("nowhere"), dangling), 0);

    do_access(style, &r, NULL, file, F_OK, 0);
    expect_same(&r, EVAIO_OP_ACCESS, 0, 0);
    do_access(style, &r, NULL, file, R_OK | W_OK, 0);
    expect_same(&r, EVAIO_OP_ACCESS, 0, 0);
    do_access(style, &r, NULL, file, R_OK | W_OK, AT_EACCESS);
    expect_same(&r, EVAIO_OP_ACCESS, 0, 0);
    /* No execute bit at all: refused even to a privileged caller. */
    int err = SYNC_ERRNO(access(file, X_OK));
    CHECK_EQ(err, EACCES);
    do_access(style, &r, NULL, file, X_OK, 0);
    expect_fail(&r, EVAIO_OP_ACCESS, EACCES);
    do_access(style, &r, NULL, file, R_OK | X_OK, AT_EACCESS);
    expect_fail(&r, EVAIO_OP_ACCESS, EACCES);
    /* Directories are searchable. */
    do_access(style, &r, NULL, check_tmpdir(), X_OK, 0);
    expect_same(&r, EVAIO_OP_ACCESS, 0, 0);

    /* Symlinks: followed, or the link itself with AT_SYMLINK_NOFOLLOW. */
    do_access(style, &r, NULL, link, R_OK, 0);
    expect_same(&r, EVAIO_OP_ACCESS, 0, 0);
    do_access(style, &r, NULL, dangling, F_OK, 0);
    expect_fail(&r, EVAIO_OP_ACCESS, ENOENT);
    CHECK_EQ(faccessat(AT_FDCWD, dangling, F_OK, AT_SYMLINK_NOFOLLOW), 0);
    do_access(style, &r, NULL, dangling, F_OK, AT_SYMLINK_NOFOLLOW);
    expect_same(&r, EVAIO_OP_ACCESS, 0, 0);

    /* Missing, through a file, bad mode, bad flags. */
    do_access(style, &r, NULL, check_path("access-missing"), F_OK, 0);
    expect_fail(&r, EVAIO_OP_ACCESS, ENOENT);
    do_access(style, &r, NULL, sub, F_OK, 0);
    expect_fail(&r, EVAIO_OP_ACCESS, ENOTDIR);
    err = SYNC_ERRNO(faccessat(AT_FDCWD, file, 0x100, 0));
    CHECK_EQ(err, EINVAL);
    do_access(style, &r, NULL, file, 0x100, 0);
    expect_fail(&r, EVAIO_OP_ACCESS, EINVAL);
    err = SYNC_ERRNO(faccessat(AT_FDCWD, file, F_OK, 0x1));
    CHECK_EQ(err, EINVAL);
    do_access(style, &r, NULL, file, F_OK, 0x1);
    expect_fail(&r, EVAIO_OP_ACCESS, EINVAL);

    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "access-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/inside", wdabs);
    make_file(p, "x");
    do_access(style, &r, wd, "inside", R_OK | W_OK, 0);
    expect_same(&r, EVAIO_OP_ACCESS, 0, 0);
    do_access(style, &r, wd, "inside", X_OK, 0);
    expect_fail(&r, EVAIO_OP_ACCESS, EACCES);
    do_access(style, &r, wd, ".", X_OK, AT_EACCESS);
    expect_same(&r, EVAIO_OP_ACCESS, 0, 0);
    do_access(style, &r, wd, "missing", F_OK, 0);
    expect_fail(&r, EVAIO_OP_ACCESS, ENOENT);
    not_in_cwd("inside");
    do_access(style, &r, wd, NULL, F_OK, 0);
    expect_null_path(&r, style, EVAIO_OP_ACCESS);
    close_wd(wd);

    do_access(style, &r, NULL, NULL, F_OK, 0);
    expect_null_path(&r, style, EVAIO_OP_ACCESS);
    rec_reset(&r);
}

/* A NULL path fails a caller-owned request in evaio_start, into its
 * callback, without a worker: on a fresh context no thread starts. */
static void test_null_path_no_worker(void)
{
    enum { N = 11 };
    static struct rec recs[N];
    static const int types[N] = { EVAIO_OP_OPENAT2, EVAIO_OP_STATX, EVAIO_OP_STATVFS, EVAIO_OP_TRUNCATE,
                                  EVAIO_OP_CHMOD,   EVAIO_OP_CHOWN, EVAIO_OP_LCHOWN,  EVAIO_OP_UTIME,
                                  EVAIO_OP_LUTIME,  EVAIO_OP_MKNOD, EVAIO_OP_ACCESS };
    begin("NULL paths fail without reaching a worker (fresh context)", INIT);
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    for (int i = 0; i < N; i++)
        rec_reset(&recs[i]);
    evaio_openat2_init(&recs[0].own, NULL, O_RDONLY, 0, 0, rec_cb, &recs[0]);
    evaio_statx_init(&recs[1].own, NULL, 0, STATX_BASIC_STATS, NULL, rec_cb, &recs[1]);
    evaio_statvfs_init(&recs[2].own, NULL, NULL, rec_cb, &recs[2]);
    evaio_truncate_init(&recs[3].own, NULL, 0, rec_cb, &recs[3]);
    evaio_chmod_init(&recs[4].own, NULL, 0600, rec_cb, &recs[4]);
    evaio_chown_init(&recs[5].own, NULL, 0, 0, rec_cb, &recs[5]);
    evaio_lchown_init(&recs[6].own, NULL, 0, 0, rec_cb, &recs[6]);
    evaio_utime_init(&recs[7].own, NULL, ts(0, UTIME_NOW), ts(0, UTIME_NOW), rec_cb, &recs[7]);
    evaio_lutime_init(&recs[8].own, NULL, ts(0, UTIME_NOW), ts(0, UTIME_NOW), rec_cb, &recs[8]);
    evaio_mknod_init(&recs[9].own, NULL, S_IFIFO | 0600, 0, rec_cb, &recs[9]);
    evaio_access_init(&recs[10].own, NULL, F_OK, 0, rec_cb, &recs[10]);
    for (int i = 0; i < N; i++) {
        recs[i].expect_req = &recs[i].own;
        CHECK_EQ(evaio_ctx_start(ctx, &recs[i].own), 0);
    }
    CHECK_EQ(evaio_ctx_nreqs(ctx), N);
    CHECK_EQ(evaio_ctx_npending(ctx), N);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    for (int i = 0; i < N; i++)
        expect_fail(&recs[i], types[i], EFAULT);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    for (int i = 0; i < N; i++)
        rec_reset(&recs[i]);
}

int main(void)
{
    main_thread = pthread_self();
    umask(022);
    CHECK(evaio_default_ctx() != NULL);
    check_tmpdir();
    enter_elsewhere();
    int fds = check_count_fds();

    for (int style = WRAP; style <= INIT; style++) {
        test_openat2(style);
        test_statx(style);
        test_statvfs(style);
        test_truncate(style);
        test_chmod(style);
        test_chown(style);
        test_lchown(style);
        test_utime(style);
        test_lutime(style);
        test_mknod(style);
        test_access(style);
    }
    test_null_path_no_worker();

    check_no_leaks(fds);
    fprintf(stderr, "test_ops_path2: all passed\n");
    return 0;
}
