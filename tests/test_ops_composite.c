/* Per-operation tests for the composite operations: copy, move, pathsync,
 * mkpath.  Every case runs through both API styles (the library-allocated
 * wrapper and evaio_OP_init + evaio_start), the _at forms and
 * evaio_req_set_wd resolve against a working directory, and the effects are
 * checked on the filesystem: contents, mode, owner, times to the
 * nanosecond, what is left behind after a failure (never a temporary, never
 * a half-made destination).  Cancellation is tested before a request starts
 * (queued behind a blocked single worker) and while a copy runs. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#ifdef __linux__
#include <linux/fs.h>
#endif

#define REC_OUTPUTS int unused;
#include "op_harness.h"

static void rec_capture(struct rec *r, evaio_req *req)
{
    (void)r;
    (void)req;
}

static void rec_reset_outputs(struct rec *r)
{
    r->unused = 0;
}

/* ---- helpers ---- */

__attribute__((format(printf, 3, 4))) static void pathf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    CHECK(n >= 0 && (size_t)n < cap);
}

/* A path under the test directory for this style: "NAME-wrap" / "NAME-init". */
static const char *spath(int style, const char *name)
{
    char tmp[512];
    pathf(tmp, sizeof tmp, "%s-%s", name, style == WRAP ? "wrap" : "init");
    return check_path(tmp);
}

static int exists(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return 1;
    CHECK_EQ(errno, ENOENT);
    return 0;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void make_file(const char *path, const char *content)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    size_t len = strlen(content);
    CHECK_EQ(write(fd, content, len), (ssize_t)len);
    CHECK_EQ(close(fd), 0);
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* `size` bytes of a pattern that differs at every offset, in 1 MiB writes. */
static void make_pattern_file(const char *path, size_t size, uint64_t seed)
{
    enum { BUF = 1 << 20 };
    static uint64_t buf[BUF / 8];
    uint64_t s = seed | 1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    for (size_t done = 0; done < size;) {
        for (size_t i = 0; i < BUF / 8; i++)
            buf[i] = next_rand(&s);
        size_t n = size - done < BUF ? size - done : BUF;
        CHECK_EQ(write(fd, buf, n), (ssize_t)n);
        done += n;
    }
    CHECK_EQ(close(fd), 0);
}

/* The file holds exactly what make_pattern_file(path, size, seed) wrote. */
static int matches_pattern(const char *path, size_t size, uint64_t seed)
{
    enum { BUF = 1 << 20 };
    static uint64_t want[BUF / 8];
    static char got[BUF];
    uint64_t s = seed | 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    int same = 1;
    for (size_t done = 0; same && done < size;) {
        for (size_t i = 0; i < BUF / 8; i++)
            want[i] = next_rand(&s);
        size_t n = size - done < BUF ? size - done : BUF;
        size_t have = 0;
        while (have < n) {
            ssize_t k = read(fd, got + have, n - have);
            CHECK(k >= 0);
            if (k == 0)
                break;
            have += (size_t)k;
        }
        same = have == n && memcmp(got, want, n) == 0;
        done += n;
    }
    char extra;
    if (same && read(fd, &extra, 1) != 0)
        same = 0;
    close(fd);
    return same;
}

/* Contents of two files are the same. */
static int same_contents(const char *a, const char *b)
{
    enum { BUF = 1 << 20 };
    static char ba[BUF], bb[BUF];
    int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
    CHECK(fa >= 0 && fb >= 0);
    int same = 1;
    for (;;) {
        ssize_t na = read(fa, ba, BUF), nb = read(fb, bb, BUF);
        CHECK(na >= 0 && nb >= 0);
        if (na != nb || memcmp(ba, bb, (size_t)na) != 0) {
            same = 0;
            break;
        }
        if (na == 0)
            break;
    }
    close(fa);
    close(fb);
    return same;
}

static int has_contents(const char *path, const char *content)
{
    char buf[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    return n == (ssize_t)strlen(content) && memcmp(buf, content, (size_t)n) == 0;
}

/* Names in `dir` that look like a copy's temporary (".NAME.evaio-XXXXXX"). */
static int count_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] == '.' && strstr(e->d_name, ".evaio-"))
            n++;
    closedir(d);
    return n;
}

static void set_times(const char *path, time_t asec, long ansec, time_t msec, long mnsec)
{
    struct timespec ts[2] = { { asec, ansec }, { msec, mnsec } };
    CHECK_EQ(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

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

/* ---- submitters: both styles; with a wd, the _at form or set_wd ---- */

static void do_copy_at(int style, struct rec *r, evaio_wd *wd, const char *from, const char *to, int flags)
{
    if (wd)
        SUBMIT(style, r, evaio_copy_at(wd, from, to, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
               (evaio_copy_init(&r->own, from, to, flags, rec_cb, r), evaio_req_set_wd(&r->own, wd)));
    else
        SUBMIT(style, r, evaio_copy(from, to, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
               evaio_copy_init(&r->own, from, to, flags, rec_cb, r));
}

static void do_move_at(int style, struct rec *r, evaio_wd *wd, const char *from, const char *to, int flags)
{
    if (wd)
        SUBMIT(style, r, evaio_move_at(wd, from, to, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
               (evaio_move_init(&r->own, from, to, flags, rec_cb, r), evaio_req_set_wd(&r->own, wd)));
    else
        SUBMIT(style, r, evaio_move(from, to, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
               evaio_move_init(&r->own, from, to, flags, rec_cb, r));
}

static void do_pathsync_at(int style, struct rec *r, evaio_wd *wd, const char *path)
{
    if (wd)
        SUBMIT(style, r, evaio_pathsync_at(wd, path, EVAIO_PRI_DEFAULT, rec_cb, r),
               (evaio_pathsync_init(&r->own, path, rec_cb, r), evaio_req_set_wd(&r->own, wd)));
    else
        SUBMIT(style, r, evaio_pathsync(path, EVAIO_PRI_DEFAULT, rec_cb, r),
               evaio_pathsync_init(&r->own, path, rec_cb, r));
}

static void do_mkpath_at(int style, struct rec *r, evaio_wd *wd, const char *path, mode_t mode)
{
    if (wd)
        SUBMIT(style, r, evaio_mkpath_at(wd, path, mode, EVAIO_PRI_DEFAULT, rec_cb, r),
               (evaio_mkpath_init(&r->own, path, mode, rec_cb, r), evaio_req_set_wd(&r->own, wd)));
    else
        SUBMIT(style, r, evaio_mkpath(path, mode, EVAIO_PRI_DEFAULT, rec_cb, r),
               evaio_mkpath_init(&r->own, path, mode, rec_cb, r));
}

#define do_copy(style, r, from, to, flags) do_copy_at(style, r, NULL, from, to, flags)
#define do_move(style, r, from, to, flags) do_move_at(style, r, NULL, from, to, flags)
#define do_pathsync(style, r, path) do_pathsync_at(style, r, NULL, path)
#define do_mkpath(style, r, path, mode) do_mkpath_at(style, r, NULL, path, mode)

/* A working directory through wd_open. */
static evaio_wd *opened_wd;
static int wd_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    opened_wd = req->args.wd_open.handle;
    return 0;
}

static evaio_wd *open_wd(const char *path)
{
    opened_wd = NULL;
    CHECK(evaio_wd_open(path, 0, wd_cb, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0);
    CHECK(opened_wd != NULL);
    return opened_wd;
}

static int close_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    return 0;
}

static void close_wd(evaio_wd *wd)
{
    CHECK(evaio_wd_close(wd, 0, close_cb, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0);
}

/* A directory on another filesystem than the test directory, for moves
 * across filesystems ("" when there is none). */
static char xdev_path[4096];

static void xdev_cleanup(void)
{
    if (xdev_path[0])
        nftw(xdev_path, check_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *xdev_dir(void)
{
    static int looked;
    if (looked)
        return xdev_path[0] ? xdev_path : NULL;
    looked = 1;
    struct stat here, there;
    CHECK_EQ(stat(check_tmpdir(), &here), 0);
    const char *cands[] = { "/dev/shm", "/run/shm", "/var/tmp", "/tmp", getenv("TMPDIR"), "." };
    for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
        if (!cands[i] || stat(cands[i], &there) < 0 || there.st_dev == here.st_dev)
            continue;
        char p[4096];
        pathf(p, sizeof p, "%s/evaio-xdev-XXXXXX", cands[i]);
        if (!mkdtemp(p))
            continue;
        CHECK(realpath(p, xdev_path) != NULL);
        atexit(xdev_cleanup);
        return xdev_path;
    }
    return NULL;
}

static const char *xpath(const char *name)
{
    static char bufs[4][4096];
    static int next;
    char *buf = bufs[next++ % 4];
    pathf(buf, sizeof bufs[0], "%s/%s", xdev_dir(), name);
    return buf;
}

static int skipped_xdev, skipped_undo;

/* ---- copy ---- */

static void check_copied_meta(const char *src_path, const char *dst_path, const struct stat *before)
{
    struct stat s, d;
    CHECK_EQ(stat(src_path, &s), 0);
    CHECK_EQ(lstat(dst_path, &d), 0);
    CHECK(S_ISREG(d.st_mode));
    CHECK(s.st_ino != d.st_ino || s.st_dev != d.st_dev);
    CHECK_EQ(d.st_mode, before->st_mode);
    CHECK_EQ(d.st_uid, before->st_uid);
    CHECK_EQ(d.st_gid, before->st_gid);
    CHECK_EQ(d.st_size, before->st_size);
    CHECK_EQ(d.st_mtim.tv_sec, before->st_mtim.tv_sec);
    CHECK_EQ(d.st_mtim.tv_nsec, before->st_mtim.tv_nsec);
    /* The times from before the copy read the source. */
    CHECK_EQ(d.st_atim.tv_sec, before->st_atim.tv_sec);
    CHECK_EQ(d.st_atim.tv_nsec, before->st_atim.tv_nsec);
    CHECK(same_contents(src_path, dst_path));
}

static void test_copy(int style)
{
    struct rec r = { 0 };
    struct stat before, st;
    begin("copy", style);
    const char *dir = check_tmpdir();
    char src[4096], dst[4096], other[4096];
    pathf(src, sizeof src, "%s", spath(style, "copy-src"));
    pathf(dst, sizeof dst, "%s", spath(style, "copy-dst"));
    pathf(other, sizeof other, "%s", spath(style, "copy-other"));

    /* A small file: contents, mode, times to the nanosecond. */
    make_file(src, "small file contents\n");
    CHECK_EQ(chmod(src, 0640), 0);
    set_times(src, 1100000000, 987654321, 1000000000, 123456789);
    CHECK_EQ(stat(src, &before), 0);
    do_copy(style, &r, src, dst, 0);
    expect_same(&r, EVAIO_OP_COPY, 0, 0);
    check_copied_meta(src, dst, &before);
    CHECK_EQ(count_temporaries(dir), 0);

    /* Empty. */
    make_file(src, "");
    CHECK_EQ(chmod(src, 0604), 0);
    set_times(src, 5, 1, 7, 999999999);
    CHECK_EQ(stat(src, &before), 0);
    CHECK_EQ(unlink(dst), 0);
    do_copy(style, &r, src, dst, 0);
    expect_same(&r, EVAIO_OP_COPY, 0, 0);
    check_copied_meta(src, dst, &before);

    /* 5 MiB and a bit (several chunks), replacing the existing destination
     * atomically (a new inode under the name). */
    make_pattern_file(src, (5u << 20) + 12345, 42 + (unsigned)style);
    CHECK_EQ(chmod(src, 0755), 0);
    set_times(src, 1234567890, 1, 1234567891, 500000001);
    CHECK_EQ(stat(src, &before), 0);
    struct stat old_dst;
    CHECK_EQ(stat(dst, &old_dst), 0);
    do_copy(style, &r, src, dst, 0);
    expect_same(&r, EVAIO_OP_COPY, 0, 0);
    check_copied_meta(src, dst, &before);
    CHECK_EQ(stat(dst, &st), 0);
    CHECK(st.st_ino != old_dst.st_ino);
    CHECK_EQ(count_temporaries(dir), 0);

    /* Set-id bits and the owner (changing the owner needs privilege: as
     * root a foreign owner, else the caller's own must be kept). */
    make_file(src, "setuid\n");
    if (geteuid() == 0)
        CHECK_EQ(chown(src, 12345, 23456), 0);
    CHECK_EQ(chmod(src, 04710), 0);
    set_times(src, 10, 20, 30, 40);
    CHECK_EQ(stat(src, &before), 0);
    CHECK_EQ(before.st_mode & 07777, 04710);
    do_copy(style, &r, src, dst, 0);
    expect_same(&r, EVAIO_OP_COPY, 0, 0);
    check_copied_meta(src, dst, &before);
    if (geteuid() == 0) {
        CHECK_EQ(stat(dst, &st), 0);
        CHECK_EQ(st.st_uid, 12345);
        CHECK_EQ(st.st_gid, 23456);
        CHECK_EQ(chown(src, 0, 0), 0);
    }

    /* EVAIO_COPY_NOREPLACE: an existing destination stays as it was. */
    make_file(src, "new contents");
    make_file(other, "the old one");
    CHECK_EQ(stat(other, &old_dst), 0);
    do_copy(style, &r, src, other, EVAIO_COPY_NOREPLACE);
    expect_fail(&r, EVAIO_OP_COPY, EEXIST);
    CHECK(has_contents(other, "the old one"));
    CHECK_EQ(stat(other, &st), 0);
    CHECK_EQ(st.st_ino, old_dst.st_ino);
    CHECK_EQ(count_temporaries(dir), 0);
    /* ... also a dangling symlink counts as existing. */
    CHECK_EQ(unlink(other), 0);
    CHECK_EQ(symlink("nowhere", other), 0);
    do_copy(style, &r, src, other, EVAIO_COPY_NOREPLACE);
    expect_fail(&r, EVAIO_OP_COPY, EEXIST);
    CHECK_EQ(lstat(other, &st), 0);
    CHECK(S_ISLNK(st.st_mode));
    /* ... and where nothing is, it copies; with EVAIO_COPY_SYNC too. */
    CHECK_EQ(unlink(other), 0);
    do_copy(style, &r, src, other, EVAIO_COPY_NOREPLACE | EVAIO_COPY_SYNC);
    expect_same(&r, EVAIO_OP_COPY, 0, 0);
    CHECK(has_contents(other, "new contents"));
    do_copy(style, &r, src, other, EVAIO_COPY_SYNC);
    expect_same(&r, EVAIO_OP_COPY, 0, 0);
    CHECK(has_contents(other, "new contents"));
    CHECK_EQ(unlink(other), 0);

    /* A symlink as destination is replaced, its target left alone; a
     * symlink as source is followed. */
    char target[4096], link[4096];
    pathf(target, sizeof target, "%s", spath(style, "copy-target"));
    pathf(link, sizeof link, "%s", spath(style, "copy-link"));
    make_file(target, "target");
    CHECK_EQ(symlink(target, link), 0);
    do_copy(style, &r, src, link, 0);
    expect_same(&r, EVAIO_OP_COPY, 0, 0);
    CHECK_EQ(lstat(link, &st), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK(has_contents(link, "new contents"));
    CHECK(has_contents(target, "target"));
    CHECK_EQ(unlink(link), 0);
    CHECK_EQ(symlink(target, link), 0);
    do_copy(style, &r, link, other, 0);
    expect_same(&r, EVAIO_OP_COPY, 0, 0);
    CHECK_EQ(lstat(other, &st), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK(has_contents(other, "target"));
    CHECK_EQ(unlink(other), 0);
    CHECK_EQ(unlink(link), 0);
    CHECK_EQ(unlink(target), 0);

    /* A file whose size says 0 but that has contents: the fast ways may
     * report the end at once, the read loop confirms it. */
    do_copy(style, &r, "/proc/version", dst, 0);
    expect_same(&r, EVAIO_OP_COPY, 0, 0);
    CHECK(same_contents("/proc/version", dst));
    CHECK_EQ(stat(dst, &st), 0);
    CHECK(st.st_size > 0);

    /* A long destination name: the temporary's name is shortened to fit. */
    char longname[512], longpath[4096];
    memset(longname, 'L', 250);
    longname[250] = 0;
    pathf(longpath, sizeof longpath, "%s/%s", dir, longname);
    do_copy(style, &r, src, longpath, 0);
    expect_same(&r, EVAIO_OP_COPY, 0, 0);
    CHECK(has_contents(longpath, "new contents"));
    CHECK_EQ(unlink(longpath), 0);

    /* Errors: nothing is created, nothing is left behind. */
    CHECK_EQ(unlink(dst), 0);
    const char *missing = check_path("copy-missing");
    do_copy(style, &r, missing, dst, 0);
    expect_fail(&r, EVAIO_OP_COPY, ENOENT);
    CHECK(!exists(dst));
    do_copy(style, &r, "", dst, 0);
    expect_fail(&r, EVAIO_OP_COPY, ENOENT);
    do_copy(style, &r, src, "", 0);
    expect_fail(&r, EVAIO_OP_COPY, ENOENT);
    char nodir[4096];
    pathf(nodir, sizeof nodir, "%s/no-such-dir/dst", dir);
    do_copy(style, &r, src, nodir, 0);
    expect_fail(&r, EVAIO_OP_COPY, ENOENT);
    /* A directory as source or destination. */
    do_copy(style, &r, dir, dst, 0);
    expect_fail(&r, EVAIO_OP_COPY, EISDIR);
    CHECK(!exists(dst));
    char subdir[4096];
    pathf(subdir, sizeof subdir, "%s", spath(style, "copy-subdir"));
    CHECK_EQ(mkdir(subdir, 0700), 0);
    do_copy(style, &r, src, subdir, 0);
    expect_fail(&r, EVAIO_OP_COPY, EISDIR);
    CHECK(is_dir(subdir));
    char dots[4096];
    pathf(dots, sizeof dots, "%s/.", subdir);
    do_copy(style, &r, src, dots, 0);
    expect_fail(&r, EVAIO_OP_COPY, EISDIR);
    pathf(dots, sizeof dots, "%s/", subdir);
    do_copy(style, &r, src, dots, 0);
    expect_fail(&r, EVAIO_OP_COPY, EISDIR);
    /* A trailing slash on a name that is not a directory. */
    pathf(dots, sizeof dots, "%s/", dst);
    do_copy(style, &r, src, dots, 0);
    expect_fail(&r, EVAIO_OP_COPY, ENOTDIR);
    CHECK(!exists(dst));
    /* Through a file: ENOTDIR. */
    pathf(dots, sizeof dots, "%s/x", src);
    do_copy(style, &r, src, dots, 0);
    expect_fail(&r, EVAIO_OP_COPY, ENOTDIR);
    CHECK_EQ(count_temporaries(subdir), 0);
    CHECK_EQ(rmdir(subdir), 0);
    /* A FIFO: EINVAL at once (it is never opened for reading, which
     * would block). */
    char fifo[4096];
    pathf(fifo, sizeof fifo, "%s", spath(style, "copy-fifo"));
    CHECK_EQ(mkfifo(fifo, 0600), 0);
    do_copy(style, &r, fifo, dst, 0);
    expect_fail(&r, EVAIO_OP_COPY, EINVAL);
    CHECK(!exists(dst));
    CHECK_EQ(unlink(fifo), 0);
    /* Unknown flags. */
    do_copy(style, &r, src, dst, 4);
    expect_fail(&r, EVAIO_OP_COPY, EINVAL);
    do_copy(style, &r, src, dst, -1);
    expect_fail(&r, EVAIO_OP_COPY, EINVAL);
    CHECK(!exists(dst));
    /* NULL paths. */
    do_copy(style, &r, NULL, dst, 0);
    expect_null_path(&r, style, EVAIO_OP_COPY);
    do_copy(style, &r, src, NULL, 0);
    expect_null_path(&r, style, EVAIO_OP_COPY);
    CHECK(!exists(dst));
    CHECK_EQ(count_temporaries(dir), 0);

    /* To another filesystem (copy_file_range may refuse: a fallback). */
    if (xdev_dir()) {
        make_pattern_file(src, (3u << 20) + 7, 7);
        set_times(src, 3, 4, 5, 6);
        CHECK_EQ(stat(src, &before), 0);
        const char *xdst = xpath(style == WRAP ? "copy-x-wrap" : "copy-x-init");
        do_copy(style, &r, src, xdst, EVAIO_COPY_NOREPLACE);
        expect_same(&r, EVAIO_OP_COPY, 0, 0);
        check_copied_meta(src, xdst, &before);
        CHECK_EQ(unlink(xdst), 0);
        CHECK_EQ(count_temporaries(xdev_dir()), 0);
    }
    CHECK_EQ(unlink(src), 0);
    rec_reset(&r);
}

/* ---- move ---- */

static void test_move(int style)
{
    struct rec r = { 0 };
    struct stat st, before;
    begin("move", style);
    const char *dir = check_tmpdir();
    char src[4096], dst[4096], d1[4096], d2[4096];
    pathf(src, sizeof src, "%s", spath(style, "move-src"));
    pathf(dst, sizeof dst, "%s", spath(style, "move-dst"));
    pathf(d1, sizeof d1, "%s", spath(style, "move-d1"));
    pathf(d2, sizeof d2, "%s", spath(style, "move-d2"));

    /* On one filesystem: a rename, the same inode. */
    make_file(src, "moving");
    CHECK_EQ(stat(src, &before), 0);
    do_move(style, &r, src, dst, 0);
    expect_same(&r, EVAIO_OP_MOVE, 0, 0);
    CHECK(!exists(src));
    CHECK_EQ(stat(dst, &st), 0);
    CHECK_EQ(st.st_ino, before.st_ino);
    CHECK(has_contents(dst, "moving"));

    /* Over an existing file: replaced. */
    make_file(src, "second");
    do_move(style, &r, src, dst, 0);
    expect_same(&r, EVAIO_OP_MOVE, 0, 0);
    CHECK(!exists(src));
    CHECK(has_contents(dst, "second"));

    /* EVAIO_MOVE_NOREPLACE: refused over an existing file, both kept. */
    make_file(src, "third");
    do_move(style, &r, src, dst, EVAIO_MOVE_NOREPLACE);
    expect_fail(&r, EVAIO_OP_MOVE, EEXIST);
    CHECK(has_contents(src, "third"));
    CHECK(has_contents(dst, "second"));
    CHECK_EQ(unlink(dst), 0);
    do_move(style, &r, src, dst, EVAIO_MOVE_NOREPLACE);
    expect_same(&r, EVAIO_OP_MOVE, 0, 0);
    CHECK(!exists(src));
    CHECK(has_contents(dst, "third"));

    /* A directory, with its contents; NOREPLACE onto an existing one. */
    CHECK_EQ(mkdir(d1, 0700), 0);
    char inner[4096];
    pathf(inner, sizeof inner, "%s/inner", d1);
    make_file(inner, "in");
    do_move(style, &r, d1, d2, 0);
    expect_same(&r, EVAIO_OP_MOVE, 0, 0);
    CHECK(!exists(d1));
    pathf(inner, sizeof inner, "%s/inner", d2);
    CHECK(has_contents(inner, "in"));
    CHECK_EQ(mkdir(d1, 0700), 0);
    do_move(style, &r, d1, d2, EVAIO_MOVE_NOREPLACE);
    expect_fail(&r, EVAIO_OP_MOVE, EEXIST);
    do_move(style, &r, d1, d2, 0); /* onto a non-empty directory */
    expect_fail(&r, EVAIO_OP_MOVE, ENOTEMPTY);
    /* A directory into itself. */
    pathf(inner, sizeof inner, "%s/sub", d1);
    do_move(style, &r, d1, inner, 0);
    expect_fail(&r, EVAIO_OP_MOVE, EINVAL);
    do_move(style, &r, d1, inner, EVAIO_MOVE_NOREPLACE);
    expect_fail(&r, EVAIO_OP_MOVE, EINVAL);
    CHECK_EQ(rmdir(d1), 0);
    /* A file onto a directory. */
    do_move(style, &r, dst, d2, 0);
    expect_fail(&r, EVAIO_OP_MOVE, EISDIR);
    CHECK(has_contents(dst, "third"));

    /* Errors. */
    const char *missing = check_path("move-missing");
    do_move(style, &r, missing, src, 0);
    expect_fail(&r, EVAIO_OP_MOVE, ENOENT);
    do_move(style, &r, missing, src, EVAIO_MOVE_NOREPLACE);
    expect_fail(&r, EVAIO_OP_MOVE, ENOENT);
    CHECK(!exists(src));
    char nodir[4096];
    pathf(nodir, sizeof nodir, "%s/no-such-dir/x", dir);
    do_move(style, &r, dst, nodir, 0);
    expect_fail(&r, EVAIO_OP_MOVE, ENOENT);
    do_move(style, &r, dst, src, 2);
    expect_fail(&r, EVAIO_OP_MOVE, EINVAL);
    do_move(style, &r, dst, src, -1);
    expect_fail(&r, EVAIO_OP_MOVE, EINVAL);
    CHECK(has_contents(dst, "third"));
    CHECK(!exists(src));
    do_move(style, &r, NULL, src, 0);
    expect_null_path(&r, style, EVAIO_OP_MOVE);
    do_move(style, &r, dst, NULL, 0);
    expect_null_path(&r, style, EVAIO_OP_MOVE);
    CHECK(has_contents(dst, "third"));
    CHECK_EQ(unlink(dst), 0);
    pathf(inner, sizeof inner, "%s/inner", d2);
    CHECK_EQ(unlink(inner), 0);
    CHECK_EQ(rmdir(d2), 0);
    rec_reset(&r);
}

/* Sets or clears the append-only flag of a directory, so that nothing in
 * it can be removed, even by root.  0 if the filesystem or the caller
 * cannot. */
static int set_append_only(const char *path, int on)
{
#if defined(FS_IOC_GETFLAGS) && defined(FS_APPEND_FL)
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(fd >= 0);
    int flags = 0, ok = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
        flags = on ? flags | FS_APPEND_FL : flags & ~FS_APPEND_FL;
        ok = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    }
    close(fd);
    return ok;
#else
    (void)path;
    (void)on;
    return 0;
#endif
}

/* Makes removing names in `dir` fail; returns how to undo it (0: cannot). */
static int forbid_removal(const char *dir)
{
    if (geteuid() != 0) {
        CHECK_EQ(chmod(dir, 0555), 0);
        return 1;
    }
    return set_append_only(dir, 1) ? 2 : 0;
}

static void allow_removal(const char *dir, int how)
{
    if (how == 1)
        CHECK_EQ(chmod(dir, 0755), 0);
    else if (how == 2)
        CHECK(set_append_only(dir, 0));
}

static void test_move_across(int style)
{
    struct rec r = { 0 };
    struct stat st, before, old_dst;
    begin("move across filesystems", style);
    if (!xdev_dir()) {
        fprintf(stderr, "no second filesystem found: not tested\n");
        skipped_xdev = 1;
        return;
    }
    const char *dir = check_tmpdir();
    const char *xd = xdev_dir();
    char src[4096], dst[4096], xsub[4096];
    pathf(src, sizeof src, "%s", xpath(style == WRAP ? "mx-src-wrap" : "mx-src-init"));
    pathf(dst, sizeof dst, "%s", spath(style, "mx-dst"));
    pathf(xsub, sizeof xsub, "%s", xpath(style == WRAP ? "mx-sub-wrap" : "mx-sub-init"));

    /* A regular file: copied with its metadata, then the source removed. */
    make_pattern_file(src, (2u << 20) + 3, 99);
    CHECK_EQ(chmod(src, 0741), 0);
    set_times(src, 111, 222, 333, 444555666);
    CHECK_EQ(stat(src, &before), 0);
    do_move(style, &r, src, dst, 0);
    expect_same(&r, EVAIO_OP_MOVE, 0, 0);
    CHECK(!exists(src));
    CHECK_EQ(stat(dst, &st), 0);
    CHECK_EQ(st.st_mode, before.st_mode);
    CHECK_EQ(st.st_size, before.st_size);
    CHECK_EQ(st.st_uid, before.st_uid);
    CHECK_EQ(st.st_mtim.tv_sec, 333);
    CHECK_EQ(st.st_mtim.tv_nsec, 444555666);
    CHECK_EQ(st.st_atim.tv_sec, 111);
    CHECK_EQ(st.st_atim.tv_nsec, 222);
    CHECK(matches_pattern(dst, (2u << 20) + 3, 99));

    /* Over an existing file: replaced. */
    make_file(src, "replacing");
    do_move(style, &r, src, dst, 0);
    expect_same(&r, EVAIO_OP_MOVE, 0, 0);
    CHECK(!exists(src));
    CHECK(has_contents(dst, "replacing"));

    /* NOREPLACE: refused, both kept; then to a free name. */
    make_file(src, "again");
    do_move(style, &r, src, dst, EVAIO_MOVE_NOREPLACE);
    expect_fail(&r, EVAIO_OP_MOVE, EEXIST);
    CHECK(has_contents(src, "again"));
    CHECK(has_contents(dst, "replacing"));
    CHECK_EQ(unlink(dst), 0);
    do_move(style, &r, src, dst, EVAIO_MOVE_NOREPLACE);
    expect_same(&r, EVAIO_OP_MOVE, 0, 0);
    CHECK(!exists(src));
    CHECK(has_contents(dst, "again"));
    CHECK_EQ(unlink(dst), 0);

    /* A symlink is recreated (same target, same times), not followed. */
    CHECK_EQ(symlink("some/relative target", src), 0);
    set_times(src, 12, 34, 56, 78);
    do_move(style, &r, src, dst, 0);
    expect_same(&r, EVAIO_OP_MOVE, 0, 0);
    CHECK(!exists(src));
    CHECK_EQ(lstat(dst, &st), 0);
    CHECK(S_ISLNK(st.st_mode));
    char target[256];
    ssize_t n = readlink(dst, target, sizeof target);
    CHECK_EQ(n, (ssize_t)strlen("some/relative target"));
    CHECK(memcmp(target, "some/relative target", (size_t)n) == 0);
    CHECK_EQ(st.st_mtim.tv_sec, 56);
    CHECK_EQ(st.st_mtim.tv_nsec, 78);
    CHECK_EQ(unlink(dst), 0);

    /* A directory cannot cross: EXDEV, nothing changed. */
    CHECK_EQ(mkdir(src, 0700), 0);
    do_move(style, &r, src, dst, 0);
    expect_fail(&r, EVAIO_OP_MOVE, EXDEV);
    CHECK(is_dir(src));
    CHECK(!exists(dst));
    CHECK_EQ(rmdir(src), 0);
    /* Nor a FIFO. */
    CHECK_EQ(mkfifo(src, 0600), 0);
    do_move(style, &r, src, dst, 0);
    expect_fail(&r, EVAIO_OP_MOVE, EXDEV);
    CHECK(exists(src));
    CHECK(!exists(dst));
    CHECK_EQ(unlink(src), 0);
    /* A file onto a directory on the other side. */
    make_file(src, "f");
    CHECK_EQ(mkdir(dst, 0700), 0);
    do_move(style, &r, src, dst, 0);
    expect_fail(&r, EVAIO_OP_MOVE, EISDIR);
    CHECK(has_contents(src, "f"));
    CHECK(is_dir(dst));
    CHECK_EQ(rmdir(dst), 0);
    CHECK_EQ(count_temporaries(dir), 0);

    /* The source cannot be removed: the copy is taken back and the
     * error reported; a destination it replaced is back as it was. */
    CHECK_EQ(mkdir(xsub, 0755), 0);
    char lsrc[4096];
    pathf(lsrc, sizeof lsrc, "%s/locked", xsub);
    make_file(lsrc, "cannot leave");
    int how = forbid_removal(xsub);
    if (!how) {
        fprintf(stderr, "cannot make a directory whose entries cannot be removed: not tested\n");
        skipped_undo = 1;
    } else {
        do_move(style, &r, lsrc, dst, 0);
        CHECK(!r.rejected && r.result == -1);
        CHECK(r.errorno == EPERM || r.errorno == EACCES);
        CHECK(has_contents(lsrc, "cannot leave"));
        CHECK(!exists(dst));
        make_file(dst, "was here before");
        CHECK_EQ(stat(dst, &old_dst), 0);
        do_move(style, &r, lsrc, dst, 0);
        CHECK(!r.rejected && r.result == -1);
        CHECK(r.errorno == EPERM || r.errorno == EACCES);
        CHECK(has_contents(lsrc, "cannot leave"));
        CHECK(has_contents(dst, "was here before"));
        CHECK_EQ(stat(dst, &st), 0);
        CHECK_EQ(st.st_ino, old_dst.st_ino);
        CHECK_EQ(count_temporaries(dir), 0);
        allow_removal(xsub, how);
        CHECK_EQ(unlink(dst), 0);
    }
    CHECK_EQ(unlink(lsrc), 0);
    CHECK_EQ(rmdir(xsub), 0);
    CHECK_EQ(count_temporaries(dir), 0);
    CHECK_EQ(count_temporaries(xd), 0);
    rec_reset(&r);
}

/* ---- pathsync ---- */

static void test_pathsync(int style)
{
    struct rec r = { 0 };
    begin("pathsync", style);
    const char *dir = check_tmpdir();
    char file[4096], sub[4096], p[4096];
    pathf(file, sizeof file, "%s", spath(style, "ps-file"));
    pathf(sub, sizeof sub, "%s", spath(style, "ps-dir"));
    make_file(file, "durable");
    CHECK_EQ(mkdir(sub, 0700), 0);

    do_pathsync(style, &r, file);
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    do_pathsync(style, &r, sub); /* a directory: itself, then its parent */
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    pathf(p, sizeof p, "%s//", sub);
    do_pathsync(style, &r, p);
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    pathf(p, sizeof p, "%s/.", sub);
    do_pathsync(style, &r, p);
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    pathf(p, sizeof p, "%s/..", sub);
    do_pathsync(style, &r, p);
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    do_pathsync(style, &r, "/");
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    do_pathsync(style, &r, ".");
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    /* A symlink is followed; a FIFO has only its directory flushed (and
     * is never opened in a way that blocks). */
    pathf(p, sizeof p, "%s", spath(style, "ps-link"));
    CHECK_EQ(symlink(file, p), 0);
    do_pathsync(style, &r, p);
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    CHECK_EQ(unlink(p), 0);
    pathf(p, sizeof p, "%s", spath(style, "ps-fifo"));
    CHECK_EQ(mkfifo(p, 0600), 0);
    do_pathsync(style, &r, p);
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    CHECK_EQ(unlink(p), 0);
    /* A file that may only be written to (root may read anything). */
    CHECK_EQ(chmod(file, 0200), 0);
    do_pathsync(style, &r, file);
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    CHECK_EQ(chmod(file, 0600), 0);
    CHECK(has_contents(file, "durable"));

    /* Errors. */
    pathf(p, sizeof p, "%s/ps-missing", dir);
    do_pathsync(style, &r, p);
    expect_fail(&r, EVAIO_OP_PATHSYNC, ENOENT);
    do_pathsync(style, &r, "");
    expect_fail(&r, EVAIO_OP_PATHSYNC, ENOENT);
    pathf(p, sizeof p, "%s/x", file);
    do_pathsync(style, &r, p);
    expect_fail(&r, EVAIO_OP_PATHSYNC, ENOTDIR);
    pathf(p, sizeof p, "%s/", file);
    do_pathsync(style, &r, p);
    expect_fail(&r, EVAIO_OP_PATHSYNC, ENOTDIR);
    pathf(p, sizeof p, "%s", spath(style, "ps-dangling"));
    CHECK_EQ(symlink("nowhere", p), 0);
    do_pathsync(style, &r, p);
    expect_fail(&r, EVAIO_OP_PATHSYNC, ENOENT);
    CHECK_EQ(unlink(p), 0);
    do_pathsync(style, &r, NULL);
    expect_null_path(&r, style, EVAIO_OP_PATHSYNC);
    CHECK_EQ(unlink(file), 0);
    CHECK_EQ(rmdir(sub), 0);
    rec_reset(&r);
}

/* ---- mkpath ---- */

static mode_t dir_mode(const char *path)
{
    struct stat st;
    CHECK_EQ(lstat(path, &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    return st.st_mode & 07777;
}

static void test_mkpath(int style)
{
    struct rec r = { 0 };
    begin("mkpath", style);
    char base[4096], p[4096], q[4096];
    pathf(base, sizeof base, "%s", spath(style, "mk"));
    CHECK_EQ(mkdir(base, 0755), 0);

    /* Three levels, none there: the last gets the mode, parents u+wx more
     * (the umask is 022). */
    pathf(p, sizeof p, "%s/a/b/c", base);
    do_mkpath(style, &r, p, 0751);
    expect_same(&r, EVAIO_OP_MKPATH, 0, 0);
    CHECK_EQ(dir_mode(p), 0751);
    pathf(q, sizeof q, "%s/a/b", base);
    CHECK_EQ(dir_mode(q), 0751);
    pathf(q, sizeof q, "%s/a", base);
    CHECK_EQ(dir_mode(q), 0751);
    /* Already there: fine, nothing changes. */
    do_mkpath(style, &r, p, 0700);
    expect_same(&r, EVAIO_OP_MKPATH, 0, 0);
    CHECK_EQ(dir_mode(p), 0751);
    do_mkpath(style, &r, base, 0700);
    expect_same(&r, EVAIO_OP_MKPATH, 0, 0);
    do_mkpath(style, &r, "/", 0700);
    expect_same(&r, EVAIO_OP_MKPATH, 0, 0);
    do_mkpath(style, &r, ".", 0700);
    expect_same(&r, EVAIO_OP_MKPATH, 0, 0);
    /* Partly there. */
    pathf(p, sizeof p, "%s/a/b/c/d/e", base);
    do_mkpath(style, &r, p, 0700);
    expect_same(&r, EVAIO_OP_MKPATH, 0, 0);
    CHECK(is_dir(p));
    /* A mode without u+wx: the parents still get it, so it can go on. */
    pathf(p, sizeof p, "%s/ro/x/y", base);
    do_mkpath(style, &r, p, 0500);
    expect_same(&r, EVAIO_OP_MKPATH, 0, 0);
    CHECK_EQ(dir_mode(p), 0500);
    pathf(q, sizeof q, "%s/ro/x", base);
    CHECK_EQ(dir_mode(q), 0700);
    /* Repeated and trailing slashes, ".", ".." components. */
    pathf(p, sizeof p, "%s//s1///s2//", base);
    do_mkpath(style, &r, p, 0700);
    expect_same(&r, EVAIO_OP_MKPATH, 0, 0);
    pathf(q, sizeof q, "%s/s1/s2", base);
    CHECK(is_dir(q));
    pathf(p, sizeof p, "%s/./t1/./t2/../t3/.", base);
    do_mkpath(style, &r, p, 0700);
    expect_same(&r, EVAIO_OP_MKPATH, 0, 0);
    pathf(q, sizeof q, "%s/t1/t2", base);
    CHECK(is_dir(q));
    pathf(q, sizeof q, "%s/t1/t3", base);
    CHECK(is_dir(q));
    /* A symlink to a directory is a directory. */
    pathf(q, sizeof q, "%s/to-a", base);
    CHECK_EQ(symlink("a", q), 0);
    pathf(p, sizeof p, "%s/to-a/via-link/z", base);
    do_mkpath(style, &r, p, 0700);
    expect_same(&r, EVAIO_OP_MKPATH, 0, 0);
    pathf(q, sizeof q, "%s/a/via-link/z", base);
    CHECK(is_dir(q));

    /* A file in the way: ENOTDIR before the last component, EEXIST as the
     * last; nothing is created. */
    pathf(q, sizeof q, "%s/file", base);
    make_file(q, "x");
    pathf(p, sizeof p, "%s/file/x/y", base);
    do_mkpath(style, &r, p, 0700);
    expect_fail(&r, EVAIO_OP_MKPATH, ENOTDIR);
    do_mkpath(style, &r, q, 0700);
    expect_fail(&r, EVAIO_OP_MKPATH, EEXIST);
    pathf(p, sizeof p, "%s/file/", base);
    do_mkpath(style, &r, p, 0700);
    expect_fail(&r, EVAIO_OP_MKPATH, EEXIST);
    /* A dangling symlink: EEXIST as the last, ENOENT before it. */
    pathf(q, sizeof q, "%s/dangling", base);
    CHECK_EQ(symlink("nowhere", q), 0);
    do_mkpath(style, &r, q, 0700);
    expect_fail(&r, EVAIO_OP_MKPATH, EEXIST);
    pathf(p, sizeof p, "%s/dangling/x", base);
    do_mkpath(style, &r, p, 0700);
    expect_fail(&r, EVAIO_OP_MKPATH, ENOENT);
    pathf(p, sizeof p, "%s/nowhere", base);
    CHECK(!exists(p));
    /* A failure after some directories were made: they are removed. */
    pathf(p, sizeof p, "%s/u1/u2/../../file/z", base);
    do_mkpath(style, &r, p, 0700);
    expect_fail(&r, EVAIO_OP_MKPATH, ENOTDIR);
    pathf(q, sizeof q, "%s/u1", base);
    CHECK(!exists(q));
    do_mkpath(style, &r, "", 0700);
    expect_fail(&r, EVAIO_OP_MKPATH, ENOENT);
    do_mkpath(style, &r, NULL, 0700);
    expect_null_path(&r, style, EVAIO_OP_MKPATH);
    rec_reset(&r);
}

/* Many requests make overlapping trees at once, on a context of their own
 * with 8 workers: all succeed. */
static void test_mkpath_concurrent(void)
{
    enum { N = 16, ROUNDS = 20 };
    static struct rec recs[N];
    static char paths[N][4096];
    begin("mkpath: overlapping trees at once", WRAP);
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 8);
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < N; i++) {
            /* The same deep path, or one that shares all but its end. */
            pathf(paths[i], sizeof paths[i], "%s/conc-%d/a/b/c/d/e/f/g/%s", check_tmpdir(), round,
                  i % 2 ? "h" : (i % 4 ? "h/i" : "j"));
            rec_reset(&recs[i]);
            if (i % 3) {
                recs[i].expect_req = evaio_ctx_mkpath(ctx, paths[i], 0755, 0, rec_cb, &recs[i]);
                CHECK(recs[i].expect_req != NULL);
            } else {
                evaio_mkpath_init(&recs[i].own, paths[i], 0755, rec_cb, &recs[i]);
                recs[i].expect_req = &recs[i].own;
                CHECK_EQ(evaio_ctx_start(ctx, &recs[i].own), 0);
            }
        }
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        for (int i = 0; i < N; i++) {
            expect_same(&recs[i], EVAIO_OP_MKPATH, 0, 0);
            CHECK(recs[i].req_seen == recs[i].expect_req);
            CHECK(is_dir(paths[i]));
        }
    }
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* ---- working directories: every path resolves against the wd ---- */

static void test_at(int style)
{
    struct rec r = { 0 };
    begin("the _at forms and evaio_req_set_wd", style);
    char wdir[4096], cwd[4096], p[4096];
    pathf(wdir, sizeof wdir, "%s", spath(style, "at-wd"));
    pathf(cwd, sizeof cwd, "%s", spath(style, "at-cwd"));
    CHECK_EQ(mkdir(wdir, 0755), 0);
    CHECK_EQ(mkdir(cwd, 0755), 0);
    pathf(p, sizeof p, "%s/src", wdir);
    make_file(p, "in the wd");
    pathf(p, sizeof p, "%s/src", cwd);
    make_file(p, "in the cwd");
    evaio_wd *wd = open_wd(wdir);
    CHECK_EQ(chdir(cwd), 0);

    /* copy: both names in the wd. */
    do_copy_at(style, &r, wd, "src", "dst", EVAIO_COPY_NOREPLACE);
    expect_same(&r, EVAIO_OP_COPY, 0, 0);
    pathf(p, sizeof p, "%s/dst", wdir);
    CHECK(has_contents(p, "in the wd"));
    CHECK(!exists("dst"));
    /* move: both names in the wd. */
    do_move_at(style, &r, wd, "dst", "moved", 0);
    expect_same(&r, EVAIO_OP_MOVE, 0, 0);
    CHECK(!exists(p));
    pathf(p, sizeof p, "%s/moved", wdir);
    CHECK(has_contents(p, "in the wd"));
    CHECK(!exists("moved"));
    do_move_at(style, &r, wd, "moved", "src", EVAIO_MOVE_NOREPLACE);
    expect_fail(&r, EVAIO_OP_MOVE, EEXIST);
    /* mkpath. */
    do_mkpath_at(style, &r, wd, "m/n/o", 0700);
    expect_same(&r, EVAIO_OP_MKPATH, 0, 0);
    pathf(p, sizeof p, "%s/m/n/o", wdir);
    CHECK(is_dir(p));
    CHECK(!exists("m"));
    /* pathsync: "only-here" exists only in the cwd. */
    make_file("only-here", "x");
    do_pathsync_at(style, &r, wd, "only-here");
    expect_fail(&r, EVAIO_OP_PATHSYNC, ENOENT);
    do_pathsync_at(style, &r, wd, "m/n/o");
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    do_pathsync_at(style, &r, wd, "moved");
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    do_pathsync_at(style, &r, wd, "m/..");
    expect_same(&r, EVAIO_OP_PATHSYNC, 0, 0);
    /* Across filesystems, from the wd to an absolute path and back. */
    if (xdev_dir()) {
        const char *x = xpath(style == WRAP ? "at-x-wrap" : "at-x-init");
        do_move_at(style, &r, wd, "moved", x, 0);
        expect_same(&r, EVAIO_OP_MOVE, 0, 0);
        CHECK(has_contents(x, "in the wd"));
        do_move_at(style, &r, wd, x, "back", 0);
        expect_same(&r, EVAIO_OP_MOVE, 0, 0);
        pathf(p, sizeof p, "%s/back", wdir);
        CHECK(has_contents(p, "in the wd"));
        CHECK(!exists(x));
        CHECK(!exists("back"));
    }
    CHECK_EQ(chdir("/"), 0);
    close_wd(wd);
    rec_reset(&r);
}

/* ---- cancellation ---- */

static int gate_open, gate_entered;

static int64_t blocker(evaio_req *req)
{
    (void)req;
    __atomic_store_n(&gate_entered, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&gate_open, __ATOMIC_ACQUIRE))
        check_sleep(0.001);
    return 0;
}

static int blocker_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    return 0;
}

/* Queued behind a blocked single worker, then cancelled: never runs, the
 * callback says ECANCELED, and nothing happened on the filesystem. */
static void test_cancel_before_start(void)
{
    enum { N = 8 };
    static struct rec recs[N];
    begin("cancelled before they start", WRAP);
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);
    __atomic_store_n(&gate_open, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&gate_entered, 0, __ATOMIC_RELEASE);
    CHECK(evaio_ctx_custom(ctx, blocker, 0, blocker_cb, NULL) != NULL);
    CHECK_EVENTUALLY(__atomic_load_n(&gate_entered, __ATOMIC_ACQUIRE));

    char src[4096], dst[4096], moved[4096], tree[4096];
    pathf(src, sizeof src, "%s", check_path("cb-src"));
    pathf(dst, sizeof dst, "%s", check_path("cb-dst"));
    pathf(moved, sizeof moved, "%s", check_path("cb-moved"));
    pathf(tree, sizeof tree, "%s", check_path("cb-tree/a/b"));
    make_file(src, "stays");
    for (int i = 0; i < N; i++)
        rec_reset(&recs[i]);
    recs[0].expect_req = evaio_ctx_copy(ctx, src, dst, 0, 0, rec_cb, &recs[0]);
    evaio_copy_init(&recs[1].own, src, dst, 0, rec_cb, &recs[1]);
    recs[2].expect_req = evaio_ctx_move(ctx, src, moved, 0, 0, rec_cb, &recs[2]);
    evaio_move_init(&recs[3].own, src, moved, 0, rec_cb, &recs[3]);
    recs[4].expect_req = evaio_ctx_pathsync(ctx, src, 0, rec_cb, &recs[4]);
    evaio_pathsync_init(&recs[5].own, src, rec_cb, &recs[5]);
    recs[6].expect_req = evaio_ctx_mkpath(ctx, tree, 0700, 0, rec_cb, &recs[6]);
    evaio_mkpath_init(&recs[7].own, tree, 0700, rec_cb, &recs[7]);
    for (int i = 1; i < N; i += 2) {
        recs[i].expect_req = &recs[i].own;
        CHECK_EQ(evaio_ctx_start(ctx, &recs[i].own), 0);
    }
    CHECK_EQ(evaio_ctx_nready(ctx), N);
    for (int i = 0; i < N; i++) {
        CHECK(recs[i].expect_req != NULL);
        CHECK_EQ(evaio_cancel(recs[i].expect_req), 1);
    }
    __atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    static const int types[N] = { EVAIO_OP_COPY, EVAIO_OP_COPY, EVAIO_OP_MOVE, EVAIO_OP_MOVE,
                                  EVAIO_OP_PATHSYNC, EVAIO_OP_PATHSYNC, EVAIO_OP_MKPATH, EVAIO_OP_MKPATH };
    for (int i = 0; i < N; i++) {
        expect_fail(&recs[i], types[i], ECANCELED);
        CHECK(recs[i].req_seen == recs[i].expect_req);
    }
    CHECK(has_contents(src, "stays"));
    CHECK(!exists(dst));
    CHECK(!exists(moved));
    CHECK(!exists(check_path("cb-tree")));
    CHECK_EQ(count_temporaries(check_tmpdir()), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    CHECK_EQ(unlink(src), 0);
    for (int i = 0; i < N; i++)
        rec_reset(&recs[i]);
}

/* Whether the filesystem of `dir` can reflink: a copy there is then one
 * step, with no point in between to cancel at. */
static int can_reflink(const char *dir)
{
#ifdef FICLONE
    char a[4096], b[4096];
    pathf(a, sizeof a, "%s/reflink-a", dir);
    pathf(b, sizeof b, "%s/reflink-b", dir);
    make_file(a, "x");
    int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    CHECK(fa >= 0 && fb >= 0);
    int ok = ioctl(fb, FICLONE, fa) == 0;
    close(fa);
    close(fb);
    unlink(a);
    unlink(b);
    return ok;
#else
    (void)dir;
    return 0;
#endif
}

/* Cancelled while it copies: whether the cancel lands before the copy is
 * in place depends on timing, so each attempt accepts both outcomes, fully
 * checked (ECANCELED: no destination, no temporary, the source intact;
 * success: a complete destination); sizes grow until one attempt was
 * cancelled mid-way, with its temporary (held open by the test) only
 * partly written. */
static void test_cancel_running(int op, const char *srcdir, const char *dstdir)
{
    begin(op == EVAIO_OP_COPY ? "copy cancelled while it runs" : "move across filesystems cancelled while it runs",
          WRAP);
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    char src[4096], dst[4096], tmpprefix[64];
    pathf(src, sizeof src, "%s/big-src", srcdir);
    pathf(dst, sizeof dst, "%s/big-dst", dstdir);
    pathf(tmpprefix, sizeof tmpprefix, ".big-dst.evaio-");
    int cancelled = 0;
    struct rec r = { 0 };
    for (size_t mib = 64; mib <= 512 && !cancelled; mib *= 2) {
        make_pattern_file(src, mib << 20, mib);
        rec_reset(&r);
        r.expect_req = op == EVAIO_OP_COPY ? evaio_ctx_copy(ctx, src, dst, 0, 0, rec_cb, &r)
                                           : evaio_ctx_move(ctx, src, dst, 0, 0, rec_cb, &r);
        CHECK(r.expect_req != NULL);
        /* Until its temporary shows up (then kept open, to see how far
         * the copy went), or it is done. */
        int tmpfd = -1;
        while (tmpfd < 0 && evaio_ctx_npending(ctx) == 0) {
            DIR *d = opendir(dstdir);
            CHECK(d != NULL);
            struct dirent *e;
            while (tmpfd < 0 && (e = readdir(d)))
                if (strncmp(e->d_name, tmpprefix, strlen(tmpprefix)) == 0)
                    tmpfd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC); /* may be gone again */
            closedir(d);
        }
        CHECK_EQ(evaio_cancel(r.expect_req), 0); /* running or done: only marked */
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        CHECK_EQ(r.calls, 1);
        CHECK_EQ(count_temporaries(dstdir), 0);
        struct stat tst;
        if (r.result == -1) {
            CHECK_EQ(r.errorno, ECANCELED);
            CHECK(!exists(dst));
            CHECK(exists(src));
            /* Stopped between chunks, not only after the last one. */
            CHECK(tmpfd >= 0);
            CHECK_EQ(fstat(tmpfd, &tst), 0);
            CHECK_EQ(tst.st_nlink, 0); /* removed */
            if (tst.st_size < (off_t)(mib << 20))
                cancelled = 1;
            else
                fprintf(stderr, "%zu MiB: cancelled after the last chunk\n", mib);
        } else {
            CHECK_EQ(r.result, 0);
            fprintf(stderr, "%zu MiB: done before the cancel landed\n", mib);
        }
        /* Either way the source (or, moved, the destination) is whole. */
        CHECK(matches_pattern(exists(src) ? src : dst, mib << 20, mib));
        if (op == EVAIO_OP_COPY && r.result == 0)
            CHECK(matches_pattern(dst, mib << 20, mib));
        if (tmpfd >= 0)
            close(tmpfd);
        unlink(src);
        unlink(dst);
    }
    CHECK(cancelled);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    rec_reset(&r);
}

int main(void)
{
    main_thread = pthread_self();
    umask(022);
    CHECK(evaio_default_ctx() != NULL);
    check_tmpdir();
    xdev_dir();
    int fds = check_count_fds();

    for (int style = WRAP; style <= INIT; style++) {
        test_copy(style);
        test_move(style);
        test_move_across(style);
        test_pathsync(style);
        test_mkpath(style);
        test_at(style);
    }
    test_mkpath_concurrent();
    test_cancel_before_start();

    const char *dir = check_tmpdir();
    if (can_reflink(dir)) {
        fprintf(stderr, "%s can reflink: the running cancel is tested elsewhere\n", dir);
        dir = xdev_dir() && !can_reflink(xdev_dir()) ? xdev_dir() : NULL;
    }
    if (dir)
        test_cancel_running(EVAIO_OP_COPY, dir, dir);
    if (xdev_dir() && !can_reflink(xdev_dir()))
        test_cancel_running(EVAIO_OP_MOVE, xdev_dir(), check_tmpdir());

    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    CHECK_EQ(check_count_fds(), fds);
    if (skipped_xdev || skipped_undo || !dir)
        SKIP("part of the cases need a second filesystem or a way to forbid removal");
    fprintf(stderr, "test_ops_composite: all passed\n");
    return 0;
}
