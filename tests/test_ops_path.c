/* Per-operation tests for the path operations: stat, lstat, unlink, mkdir,
 * rmdir, rename, readdir.  Every case runs through both API styles (the
 * library-allocated wrapper evaio_OP and the caller-owned evaio_OP_init +
 * evaio_start), counts callbacks (exactly one each), and compares the result
 * and errno with what the equivalent synchronous syscall gives: for
 * operations that change the filesystem, on a twin of the same situation. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#define REC_OUTPUTS                                                                     \
    const void *buf_seen;  /* req->args.stat.buf / req->args.lstat.buf */               \
    struct stat st;                                                                     \
    char **names;          /* readdir: a copy of each name */                           \
    size_t nnames;
#include "op_harness.h"

static void free_names(struct rec *r)
{
    for (size_t i = 0; i < r->nnames; i++)
        free(r->names[i]);
    free(r->names);
    r->names = NULL;
    r->nnames = 0;
}

static void rec_capture(struct rec *r, evaio_req *req)
{
    switch (req->type) {
    case EVAIO_OP_STAT:
    case EVAIO_OP_LSTAT: {
        struct stat *buf = req->type == EVAIO_OP_STAT ? req->args.stat.buf : req->args.lstat.buf;
        r->buf_seen = buf;
        if (req->result == 0) {
            CHECK(buf != NULL); /* the caller's or one the library supplies */
            r->st = *buf;
        }
        break;
    }
    case EVAIO_OP_READDIR:
        free_names(r);
        if (req->result > 0) {
            const char *p = req->args.readdir.names;
            CHECK(p != NULL);
            r->names = calloc((size_t)req->result, sizeof *r->names);
            CHECK(r->names != NULL);
            for (int64_t i = 0; i < req->result; i++) {
                size_t len = strlen(p);
                CHECK(len > 0);
                r->names[i] = strdup(p);
                CHECK(r->names[i] != NULL);
                r->nnames++;
                p += len + 1;
            }
        }
        break;
    default:
        break;
    }
}

static void rec_reset_outputs(struct rec *r)
{
    free_names(r);
    r->buf_seen = NULL;
    memset(&r->st, 0, sizeof r->st);
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

/* ---- per-operation submitters, both styles ---- */

static void do_stat(int style, struct rec *r, const char *path, struct stat *buf)
{
    SUBMIT(style, r, evaio_stat(path, buf, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_stat_init(&r->own, path, buf, rec_cb, r));
}

static void do_lstat(int style, struct rec *r, const char *path, struct stat *buf)
{
    SUBMIT(style, r, evaio_lstat(path, buf, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_lstat_init(&r->own, path, buf, rec_cb, r));
}

static void do_unlink(int style, struct rec *r, const char *path)
{
    SUBMIT(style, r, evaio_unlink(path, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_unlink_init(&r->own, path, rec_cb, r));
}

static void do_mkdir(int style, struct rec *r, const char *path, mode_t mode)
{
    SUBMIT(style, r, evaio_mkdir(path, mode, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_mkdir_init(&r->own, path, mode, rec_cb, r));
}

static void do_rmdir(int style, struct rec *r, const char *path)
{
    SUBMIT(style, r, evaio_rmdir(path, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_rmdir_init(&r->own, path, rec_cb, r));
}

static void do_rename(int style, struct rec *r, const char *from, const char *to)
{
    SUBMIT(style, r, evaio_rename(from, to, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_rename_init(&r->own, from, to, rec_cb, r));
}

static void do_readdir(int style, struct rec *r, const char *path, int flags)
{
    SUBMIT(style, r, evaio_readdir(path, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_readdir_init(&r->own, path, flags, rec_cb, r));
}

/* ---- helpers ---- */

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

/* ---- stat / lstat ---- */

static void test_stat(int style)
{
    struct rec r = { 0 };
    struct stat mine, sync_st;
    begin("stat", style);
    char file[4096], link[4096], dangling[4096], sub[4096];
    pathf(file, sizeof file, "%s", spath(style, "stat-file"));
    pathf(link, sizeof link, "%s", spath(style, "stat-link"));
    pathf(dangling, sizeof dangling, "%s", spath(style, "stat-dangling"));
    pathf(sub, sizeof sub, "%s/below", file);
    make_file(file, "twelve bytes");
    CHECK_EQ(symlink(file, link), 0);
    CHECK_EQ(symlink(check_path("no-such-target"), dangling), 0);

    /* A file, into the caller's struct. */
    CHECK_EQ(stat(file, &sync_st), 0);
    memset(&mine, 0x5a, sizeof mine);
    do_stat(style, &r, file, &mine);
    expect_same(&r, EVAIO_OP_STAT, 0, 0);
    CHECK(r.buf_seen == &mine);
    check_same_file(&mine, &sync_st);
    CHECK(S_ISREG(mine.st_mode));
    CHECK_EQ(mine.st_size, 12);

    /* NULL: the library supplies one, req->args.stat.buf in the callback. */
    do_stat(style, &r, file, NULL);
    expect_same(&r, EVAIO_OP_STAT, 0, 0);
    CHECK(r.buf_seen != NULL);
    check_same_file(&r.st, &sync_st);

    /* A symlink is followed. */
    do_stat(style, &r, link, NULL);
    expect_same(&r, EVAIO_OP_STAT, 0, 0);
    check_same_file(&r.st, &sync_st);

    /* A directory. */
    CHECK_EQ(stat(check_tmpdir(), &sync_st), 0);
    do_stat(style, &r, check_tmpdir(), &mine);
    expect_same(&r, EVAIO_OP_STAT, 0, 0);
    CHECK(S_ISDIR(mine.st_mode));
    check_same_file(&mine, &sync_st);

    /* Missing: ENOENT; a dangling symlink: ENOENT; through a file: ENOTDIR;
     * the empty path: ENOENT. */
    const char *missing = check_path("stat-missing");
    int err = SYNC_ERRNO(stat(missing, &sync_st));
    CHECK_EQ(err, ENOENT);
    do_stat(style, &r, missing, &mine);
    expect_fail(&r, EVAIO_OP_STAT, err);
    do_stat(style, &r, missing, NULL);
    expect_fail(&r, EVAIO_OP_STAT, err);
    err = SYNC_ERRNO(stat(dangling, &sync_st));
    CHECK_EQ(err, ENOENT);
    do_stat(style, &r, dangling, NULL);
    expect_fail(&r, EVAIO_OP_STAT, err);
    err = SYNC_ERRNO(stat(sub, &sync_st));
    CHECK_EQ(err, ENOTDIR);
    do_stat(style, &r, sub, &mine);
    expect_fail(&r, EVAIO_OP_STAT, err);
    err = SYNC_ERRNO(stat("", &sync_st));
    do_stat(style, &r, "", NULL);
    expect_fail(&r, EVAIO_OP_STAT, err);
    /* A path longer than PATH_MAX (the wrapper still copies all of it). */
    size_t longlen = 3 * 4096;
    char *longpath = malloc(longlen + 1);
    CHECK(longpath != NULL);
    for (size_t i = 0; i < longlen; i++)
        longpath[i] = i % 8 == 0 ? '/' : 'n';
    longpath[longlen] = 0;
    err = SYNC_ERRNO(stat(longpath, &sync_st));
    CHECK_EQ(err, ENAMETOOLONG);
    do_stat(style, &r, longpath, NULL);
    expect_fail(&r, EVAIO_OP_STAT, err);
    free(longpath);

    /* NULL path, with either kind of buffer. */
    do_stat(style, &r, NULL, &mine);
    expect_null_path(&r, style, EVAIO_OP_STAT);
    do_stat(style, &r, NULL, NULL);
    expect_null_path(&r, style, EVAIO_OP_STAT);
    rec_reset(&r);
}

static void test_lstat(int style)
{
    struct rec r = { 0 };
    struct stat mine, sync_st, target_st;
    begin("lstat", style);
    char file[4096], link[4096], dangling[4096];
    pathf(file, sizeof file, "%s", spath(style, "lstat-file"));
    pathf(link, sizeof link, "%s", spath(style, "lstat-link"));
    pathf(dangling, sizeof dangling, "%s", spath(style, "lstat-dangling"));
    make_file(file, "data");
    CHECK_EQ(symlink(file, link), 0);
    const char *nowhere = check_path("no-such-target");
    CHECK_EQ(symlink(nowhere, dangling), 0);

    /* The symlink itself, not its target. */
    CHECK_EQ(lstat(link, &sync_st), 0);
    CHECK_EQ(stat(link, &target_st), 0);
    memset(&mine, 0x5a, sizeof mine);
    do_lstat(style, &r, link, &mine);
    expect_same(&r, EVAIO_OP_LSTAT, 0, 0);
    CHECK(r.buf_seen == &mine);
    check_same_file(&mine, &sync_st);
    CHECK(S_ISLNK(mine.st_mode));
    CHECK_EQ(mine.st_size, (off_t)strlen(file));
    CHECK(mine.st_ino != target_st.st_ino);

    /* NULL buffer; a dangling symlink is fine for lstat. */
    CHECK_EQ(lstat(dangling, &sync_st), 0);
    do_lstat(style, &r, dangling, NULL);
    expect_same(&r, EVAIO_OP_LSTAT, 0, 0);
    CHECK(r.buf_seen != NULL);
    check_same_file(&r.st, &sync_st);
    CHECK_EQ(r.st.st_size, (off_t)strlen(nowhere));

    /* A plain file: same as stat. */
    CHECK_EQ(lstat(file, &sync_st), 0);
    do_lstat(style, &r, file, NULL);
    expect_same(&r, EVAIO_OP_LSTAT, 0, 0);
    check_same_file(&r.st, &sync_st);
    CHECK(S_ISREG(r.st.st_mode));

    /* Missing: ENOENT. */
    const char *missing = check_path("lstat-missing");
    int err = SYNC_ERRNO(lstat(missing, &sync_st));
    CHECK_EQ(err, ENOENT);
    do_lstat(style, &r, missing, &mine);
    expect_fail(&r, EVAIO_OP_LSTAT, err);
    do_lstat(style, &r, missing, NULL);
    expect_fail(&r, EVAIO_OP_LSTAT, err);

    /* NULL path. */
    do_lstat(style, &r, NULL, &mine);
    expect_null_path(&r, style, EVAIO_OP_LSTAT);
    do_lstat(style, &r, NULL, NULL);
    expect_null_path(&r, style, EVAIO_OP_LSTAT);
    rec_reset(&r);
}

/* The wrapper copies the path: the caller's buffer may change right after. */
static void test_stat_path_copied(void)
{
    struct rec r = { 0 };
    struct stat sync_st;
    begin("stat path copy", WRAP);
    const char *file = check_path("copied-path");
    make_file(file, "x");
    CHECK_EQ(stat(file, &sync_st), 0);
    char buf[4096];
    pathf(buf, sizeof buf, "%s", file);
    rec_reset(&r);
    r.expect_req = evaio_stat(buf, NULL, EVAIO_PRI_DEFAULT, rec_cb, &r);
    CHECK(r.expect_req != NULL);
    memset(buf, 'y', sizeof buf - 1); /* no longer a valid path */
    buf[sizeof buf - 1] = 0;
    rec_wait(&r);
    expect_same(&r, EVAIO_OP_STAT, 0, 0);
    check_same_file(&r.st, &sync_st);

    pathf(buf, sizeof buf, "%s", file);
    char to[4096];
    pathf(to, sizeof to, "%s", check_path("copied-path-2"));
    rec_reset(&r);
    r.expect_req = evaio_rename(buf, to, EVAIO_PRI_DEFAULT, rec_cb, &r);
    CHECK(r.expect_req != NULL);
    memset(buf, 0, sizeof buf);
    memset(to, 0, sizeof to);
    rec_wait(&r);
    expect_same(&r, EVAIO_OP_RENAME, 0, 0);
    CHECK(!exists(file));
    CHECK(exists(check_path("copied-path-2")));
    rec_reset(&r);
}

/* ---- unlink ---- */

static void test_unlink(int style)
{
    struct rec r = { 0 };
    begin("unlink", style);
    char file[4096], twin[4096], link[4096], dir[4096];
    pathf(file, sizeof file, "%s", spath(style, "unlink-file"));
    pathf(twin, sizeof twin, "%s", spath(style, "unlink-twin"));
    pathf(link, sizeof link, "%s", spath(style, "unlink-link"));
    pathf(dir, sizeof dir, "%s", spath(style, "unlink-dir"));

    /* A file: gone afterwards, as with unlink(2) on its twin. */
    make_file(file, "x");
    make_file(twin, "x");
    int sync_r = unlink(twin);
    CHECK_EQ(sync_r, 0);
    do_unlink(style, &r, file);
    expect_same(&r, EVAIO_OP_UNLINK, sync_r, 0);
    CHECK(!exists(file));

    /* A symlink: the link goes, the target stays. */
    make_file(file, "x");
    CHECK_EQ(symlink(file, link), 0);
    do_unlink(style, &r, link);
    expect_same(&r, EVAIO_OP_UNLINK, 0, 0);
    CHECK(!exists(link));
    CHECK(exists(file));
    CHECK_EQ(unlink(file), 0);

    /* Missing (now): ENOENT. */
    int err = SYNC_ERRNO(unlink(file));
    CHECK_EQ(err, ENOENT);
    do_unlink(style, &r, file);
    expect_fail(&r, EVAIO_OP_UNLINK, err);

    /* A directory: refused (EISDIR on Linux), the directory stays. */
    CHECK_EQ(mkdir(dir, 0700), 0);
    err = SYNC_ERRNO(unlink(dir));
    do_unlink(style, &r, dir);
    expect_fail(&r, EVAIO_OP_UNLINK, err);
    CHECK(exists(dir));
    CHECK_EQ(rmdir(dir), 0);

    /* NULL path. */
    do_unlink(style, &r, NULL);
    expect_null_path(&r, style, EVAIO_OP_UNLINK);
    rec_reset(&r);
}

/* ---- mkdir ---- */

static void test_mkdir(int style)
{
    struct rec r = { 0 };
    struct stat a, b;
    begin("mkdir", style);
    char dir[4096], twin[4096], nested[4096];
    pathf(dir, sizeof dir, "%s", spath(style, "mkdir-dir"));
    pathf(twin, sizeof twin, "%s", spath(style, "mkdir-twin"));
    pathf(nested, sizeof nested, "%s", spath(style, "mkdir-no-parent/child"));

    /* Created with the mode (less the umask), as mkdir(2) does for its twin. */
    int sync_r = mkdir(twin, 0751);
    CHECK_EQ(sync_r, 0);
    do_mkdir(style, &r, dir, 0751);
    expect_same(&r, EVAIO_OP_MKDIR, sync_r, 0);
    CHECK_EQ(stat(dir, &a), 0);
    CHECK_EQ(stat(twin, &b), 0);
    CHECK(S_ISDIR(a.st_mode));
    CHECK_EQ(a.st_mode, b.st_mode);
    CHECK_EQ(a.st_mode & 07777, 0751 & ~022);

    /* Existing: EEXIST. */
    int err = SYNC_ERRNO(mkdir(twin, 0700));
    CHECK_EQ(err, EEXIST);
    do_mkdir(style, &r, dir, 0700);
    expect_fail(&r, EVAIO_OP_MKDIR, err);
    CHECK_EQ(stat(dir, &b), 0);
    CHECK_EQ(a.st_ino, b.st_ino);
    /* An existing file: EEXIST too. */
    const char *file = spath(style, "mkdir-file");
    make_file(file, "x");
    do_mkdir(style, &r, file, 0700);
    expect_fail(&r, EVAIO_OP_MKDIR, EEXIST);

    /* A missing parent: ENOENT. */
    err = SYNC_ERRNO(mkdir(nested, 0700));
    CHECK_EQ(err, ENOENT);
    do_mkdir(style, &r, nested, 0700);
    expect_fail(&r, EVAIO_OP_MKDIR, err);

    /* NULL path. */
    do_mkdir(style, &r, NULL, 0700);
    expect_null_path(&r, style, EVAIO_OP_MKDIR);

    CHECK_EQ(rmdir(dir), 0);
    CHECK_EQ(rmdir(twin), 0);
    rec_reset(&r);
}

/* ---- rmdir ---- */

static void test_rmdir(int style)
{
    struct rec r = { 0 };
    begin("rmdir", style);
    char dir[4096], twin[4096], full[4096], inside[4096], file[4096];
    pathf(dir, sizeof dir, "%s", spath(style, "rmdir-dir"));
    pathf(twin, sizeof twin, "%s", spath(style, "rmdir-twin"));
    pathf(full, sizeof full, "%s", spath(style, "rmdir-full"));
    pathf(inside, sizeof inside, "%s/entry", full);
    pathf(file, sizeof file, "%s", spath(style, "rmdir-file"));

    /* An empty directory: removed. */
    CHECK_EQ(mkdir(dir, 0700), 0);
    CHECK_EQ(mkdir(twin, 0700), 0);
    int sync_r = rmdir(twin);
    CHECK_EQ(sync_r, 0);
    do_rmdir(style, &r, dir);
    expect_same(&r, EVAIO_OP_RMDIR, sync_r, 0);
    CHECK(!exists(dir));

    /* Missing (now): ENOENT. */
    int err = SYNC_ERRNO(rmdir(dir));
    CHECK_EQ(err, ENOENT);
    do_rmdir(style, &r, dir);
    expect_fail(&r, EVAIO_OP_RMDIR, err);

    /* Not empty: ENOTEMPTY, nothing removed. */
    CHECK_EQ(mkdir(full, 0700), 0);
    make_file(inside, "x");
    err = SYNC_ERRNO(rmdir(full));
    CHECK_EQ(err, ENOTEMPTY);
    do_rmdir(style, &r, full);
    expect_fail(&r, EVAIO_OP_RMDIR, err);
    CHECK(exists(full));
    CHECK(exists(inside));
    CHECK_EQ(unlink(inside), 0);
    CHECK_EQ(rmdir(full), 0);

    /* A file: ENOTDIR. */
    make_file(file, "x");
    err = SYNC_ERRNO(rmdir(file));
    CHECK_EQ(err, ENOTDIR);
    do_rmdir(style, &r, file);
    expect_fail(&r, EVAIO_OP_RMDIR, err);
    CHECK(exists(file));

    /* NULL path. */
    do_rmdir(style, &r, NULL);
    expect_null_path(&r, style, EVAIO_OP_RMDIR);
    rec_reset(&r);
}

/* ---- rename ---- */

static void test_rename(int style)
{
    struct rec r = { 0 };
    struct stat before, after;
    begin("rename", style);
    char from[4096], to[4096], tfrom[4096], tto[4096], dfrom[4096], dto[4096], full[4096],
        inside[4096];
    pathf(from, sizeof from, "%s", spath(style, "rename-from"));
    pathf(to, sizeof to, "%s", spath(style, "rename-to"));
    pathf(tfrom, sizeof tfrom, "%s", spath(style, "rename-twin-from"));
    pathf(tto, sizeof tto, "%s", spath(style, "rename-twin-to"));
    pathf(dfrom, sizeof dfrom, "%s", spath(style, "rename-dir-from"));
    pathf(dto, sizeof dto, "%s", spath(style, "rename-dir-to"));
    pathf(full, sizeof full, "%s", spath(style, "rename-full"));
    pathf(inside, sizeof inside, "%s/entry", full);

    /* A file: the same inode under the new name, the old name gone. */
    make_file(from, "content");
    make_file(tfrom, "content");
    int sync_r = rename(tfrom, tto);
    CHECK_EQ(sync_r, 0);
    CHECK_EQ(stat(from, &before), 0);
    do_rename(style, &r, from, to);
    expect_same(&r, EVAIO_OP_RENAME, sync_r, 0);
    CHECK(!exists(from));
    CHECK_EQ(stat(to, &after), 0);
    CHECK_EQ(before.st_ino, after.st_ino);

    /* Over an existing file: replaced. */
    make_file(from, "newer");
    CHECK_EQ(stat(from, &before), 0);
    do_rename(style, &r, from, to);
    expect_same(&r, EVAIO_OP_RENAME, 0, 0);
    CHECK(!exists(from));
    CHECK_EQ(stat(to, &after), 0);
    CHECK_EQ(before.st_ino, after.st_ino);
    CHECK_EQ(after.st_size, 5);

    /* A directory. */
    CHECK_EQ(mkdir(dfrom, 0700), 0);
    do_rename(style, &r, dfrom, dto);
    expect_same(&r, EVAIO_OP_RENAME, 0, 0);
    CHECK(!exists(dfrom));
    CHECK_EQ(stat(dto, &after), 0);
    CHECK(S_ISDIR(after.st_mode));

    /* A missing source: ENOENT, the target untouched. */
    int err = SYNC_ERRNO(rename(from, tto));
    CHECK_EQ(err, ENOENT);
    do_rename(style, &r, from, to);
    expect_fail(&r, EVAIO_OP_RENAME, err);
    CHECK(exists(to));

    /* A directory over a non-empty directory: ENOTEMPTY (or EEXIST). */
    CHECK_EQ(mkdir(full, 0700), 0);
    make_file(inside, "x");
    err = SYNC_ERRNO(rename(dto, full));
    CHECK(err == ENOTEMPTY || err == EEXIST);
    do_rename(style, &r, dto, full);
    expect_fail(&r, EVAIO_OP_RENAME, err);
    CHECK(exists(dto));
    CHECK(exists(inside));
    /* A file over a directory: EISDIR. */
    err = SYNC_ERRNO(rename(to, full));
    CHECK_EQ(err, EISDIR);
    do_rename(style, &r, to, full);
    expect_fail(&r, EVAIO_OP_RENAME, err);

    /* NULL for either path. */
    do_rename(style, &r, NULL, to);
    expect_null_path(&r, style, EVAIO_OP_RENAME);
    do_rename(style, &r, to, NULL);
    expect_null_path(&r, style, EVAIO_OP_RENAME);
    CHECK(exists(to));
    do_rename(style, &r, NULL, NULL);
    expect_null_path(&r, style, EVAIO_OP_RENAME);
    rec_reset(&r);
}

/* ---- readdir ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names readdir(3) lists, without . and .., sorted. */
static char **sync_listing(const char *path, size_t *n)
{
    DIR *d = opendir(path);
    CHECK(d != NULL);
    size_t cap = 16, count = 0;
    char **names = malloc(cap * sizeof *names);
    CHECK(names != NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (count == cap) {
            cap *= 2;
            names = realloc(names, cap * sizeof *names);
            CHECK(names != NULL);
        }
        names[count] = strdup(e->d_name);
        CHECK(names[count] != NULL);
        count++;
    }
    CHECK_EQ(closedir(d), 0);
    qsort(names, count, sizeof *names, cmp_str);
    *n = count;
    return names;
}

/* The callback's names equal the synchronous listing, with no . or .. and
 * no duplicates. */
static void check_listing(struct rec *r, const char *path, size_t expect_count)
{
    size_t n;
    char **want = sync_listing(path, &n);
    CHECK_EQ(n, expect_count);
    CHECK_EQ(r->result, (int64_t)n);
    CHECK_EQ(r->nnames, n);
    for (size_t i = 0; i < r->nnames; i++) {
        CHECK(strcmp(r->names[i], ".") != 0);
        CHECK(strcmp(r->names[i], "..") != 0);
        CHECK(strchr(r->names[i], '/') == NULL);
    }
    if (r->nnames)
        qsort(r->names, r->nnames, sizeof *r->names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(r->names[i], want[i]) != 0) {
            fprintf(stderr, "readdir name %zu: got '%s', want '%s'\n", i, r->names[i], want[i]);
            CHECK(strcmp(r->names[i], want[i]) == 0);
        }
        if (i)
            CHECK(strcmp(r->names[i - 1], r->names[i]) != 0);
    }
    for (size_t i = 0; i < n; i++)
        free(want[i]);
    free(want);
}

static void test_readdir(int style)
{
    struct rec r = { 0 };
    begin("readdir", style);
    char dir[4096], empty[4096], big[4096], file[4096], p[4096];
    pathf(dir, sizeof dir, "%s", spath(style, "readdir-dir"));
    pathf(empty, sizeof empty, "%s", spath(style, "readdir-empty"));
    pathf(big, sizeof big, "%s", spath(style, "readdir-big"));
    pathf(file, sizeof file, "%s", spath(style, "readdir-file"));

    /* A few entries of each kind, including names that start with dots. */
    static const char *const entries[] = { "a", "bb", "name with spaces", ".hidden", "..dots",
                                           "...", "sub", "link" };
    CHECK_EQ(mkdir(dir, 0700), 0);
    for (size_t i = 0; i < 6; i++) {
        pathf(p, sizeof p, "%s/%s", dir, entries[i]);
        make_file(p, "x");
    }
    pathf(p, sizeof p, "%s/sub", dir);
    CHECK_EQ(mkdir(p, 0700), 0);
    pathf(p, sizeof p, "%s/link", dir);
    CHECK_EQ(symlink("a", p), 0);
    do_readdir(style, &r, dir, 0);
    expect_same(&r, EVAIO_OP_READDIR, 8, 0);
    check_listing(&r, dir, 8);
    for (size_t i = 0; i < 8; i++) /* sorted: ... ..dots .hidden a bb link name sub */
        CHECK(bsearch(&entries[i], r.names, r.nnames, sizeof *r.names, cmp_str) != NULL);

    /* Empty: 0 names (never . or ..). */
    CHECK_EQ(mkdir(empty, 0700), 0);
    do_readdir(style, &r, empty, 0);
    expect_same(&r, EVAIO_OP_READDIR, 0, 0);
    CHECK_EQ(r.nnames, 0);
    check_listing(&r, empty, 0);

    /* Many long names: more than the first buffer holds. */
    CHECK_EQ(mkdir(big, 0700), 0);
    enum { NBIG = 700 };
    for (int i = 0; i < NBIG; i++) {
        pathf(p, sizeof p, "%s/entry-%04d-%s", big, i,
                 "padding-padding-padding-padding-padding-padding");
        make_file(p, "");
    }
    do_readdir(style, &r, big, 0);
    expect_same(&r, EVAIO_OP_READDIR, NBIG, 0);
    check_listing(&r, big, NBIG);

    /* Unknown flags (and FOUND_UNKNOWN, which is reported, not requested):
     * EINVAL.  The known ones are tested in test_ops_dir.c. */
    do_readdir(style, &r, dir, EVAIO_READDIR_FOUND_UNKNOWN);
    expect_fail(&r, EVAIO_OP_READDIR, EINVAL);
    do_readdir(style, &r, dir, 0x08);
    expect_fail(&r, EVAIO_OP_READDIR, EINVAL);
    do_readdir(style, &r, dir, -1);
    expect_fail(&r, EVAIO_OP_READDIR, EINVAL);
    do_readdir(style, &r, dir, 0x100);
    expect_fail(&r, EVAIO_OP_READDIR, EINVAL);

    /* A file: ENOTDIR, as opendir(3) says. */
    make_file(file, "x");
    CHECK(opendir(file) == NULL);
    int err = errno;
    CHECK_EQ(err, ENOTDIR);
    do_readdir(style, &r, file, 0);
    expect_fail(&r, EVAIO_OP_READDIR, err);

    /* Missing: ENOENT. */
    const char *missing = check_path("readdir-missing");
    CHECK(opendir(missing) == NULL);
    err = errno;
    CHECK_EQ(err, ENOENT);
    do_readdir(style, &r, missing, 0);
    expect_fail(&r, EVAIO_OP_READDIR, err);

    /* NULL path (and with bad flags too: the path is checked). */
    do_readdir(style, &r, NULL, 0);
    expect_null_path(&r, style, EVAIO_OP_READDIR);
    do_readdir(style, &r, NULL, 1);
    expect_null_path(&r, style, EVAIO_OP_READDIR);
    rec_reset(&r);
}

/* ---- several path operations at once ---- */

#define NCONC 40

static void test_concurrent(void)
{
    static struct rec recs[NCONC];
    static struct stat bufs[NCONC];
    static char paths[NCONC][4096];
    begin("concurrent mkdir then stat, mixed styles", WRAP);
    for (int i = 0; i < NCONC; i++) {
        pathf(paths[i], sizeof paths[i], "%s/conc-%02d", check_tmpdir(), i);
        rec_reset(&recs[i]);
        if (i % 2) {
            recs[i].expect_req = evaio_mkdir(paths[i], 0700, (i % 9) - 4, rec_cb, &recs[i]);
            CHECK(recs[i].expect_req != NULL);
        } else {
            evaio_mkdir_init(&recs[i].own, paths[i], 0700, rec_cb, &recs[i]);
            recs[i].expect_req = &recs[i].own;
            CHECK_EQ(evaio_start(&recs[i].own), 0);
        }
    }
    CHECK_EQ(evaio_wait(), 0);
    for (int i = 0; i < NCONC; i++) {
        expect_same(&recs[i], EVAIO_OP_MKDIR, 0, 0);
        CHECK(recs[i].req_seen == recs[i].expect_req);
    }
    for (int i = 0; i < NCONC; i++) {
        rec_reset(&recs[i]);
        struct stat *buf = i % 3 ? &bufs[i] : NULL;
        if (i % 2) {
            recs[i].expect_req = evaio_stat(paths[i], buf, 0, rec_cb, &recs[i]);
            CHECK(recs[i].expect_req != NULL);
        } else {
            evaio_stat_init(&recs[i].own, paths[i], buf, rec_cb, &recs[i]);
            recs[i].expect_req = &recs[i].own;
            CHECK_EQ(evaio_start(&recs[i].own), 0);
        }
    }
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    for (int i = 0; i < NCONC; i++) {
        struct stat sync_st;
        CHECK_EQ(stat(paths[i], &sync_st), 0);
        expect_same(&recs[i], EVAIO_OP_STAT, 0, 0);
        check_same_file(&recs[i].st, &sync_st);
        if (i % 3)
            CHECK(recs[i].buf_seen == &bufs[i]);
        CHECK_EQ(rmdir(paths[i]), 0);
        rec_reset(&recs[i]);
    }
}

/* A NULL path fails a caller-owned request in evaio_start, straight into
 * its callback, without reaching a worker: on a fresh context no worker
 * thread is ever started.  The wrappers refuse it before queueing anything. */
static void test_null_path_no_worker(void)
{
    enum { N = 9 };
    static struct rec recs[N];
    static const int types[N] = { EVAIO_OP_STAT,  EVAIO_OP_LSTAT,  EVAIO_OP_UNLINK,
                                  EVAIO_OP_MKDIR, EVAIO_OP_RMDIR,  EVAIO_OP_RENAME,
                                  EVAIO_OP_RENAME, EVAIO_OP_READDIR, EVAIO_OP_OPEN };
    struct stat st;
    begin("NULL paths fail without reaching a worker (fresh context)", INIT);
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    for (int i = 0; i < N; i++)
        rec_reset(&recs[i]);
    evaio_stat_init(&recs[0].own, NULL, NULL, rec_cb, &recs[0]);
    evaio_lstat_init(&recs[1].own, NULL, &st, rec_cb, &recs[1]);
    evaio_unlink_init(&recs[2].own, NULL, rec_cb, &recs[2]);
    evaio_mkdir_init(&recs[3].own, NULL, 0700, rec_cb, &recs[3]);
    evaio_rmdir_init(&recs[4].own, NULL, rec_cb, &recs[4]);
    evaio_rename_init(&recs[5].own, NULL, check_path("x"), rec_cb, &recs[5]);
    evaio_rename_init(&recs[6].own, check_path("x"), NULL, rec_cb, &recs[6]);
    evaio_readdir_init(&recs[7].own, NULL, 0, rec_cb, &recs[7]);
    evaio_open_init(&recs[8].own, NULL, O_RDONLY, 0, rec_cb, &recs[8]);
    for (int i = 0; i < N; i++) {
        recs[i].expect_req = &recs[i].own;
        CHECK_EQ(evaio_ctx_start(ctx, &recs[i].own), 0);
    }
    /* Already failed, waiting for their callbacks; no worker involved. */
    CHECK_EQ(evaio_ctx_nreqs(ctx), N);
    CHECK_EQ(evaio_ctx_npending(ctx), N);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    for (int i = 0; i < N; i++)
        CHECK_EQ(recs[i].calls, 0); /* callbacks run only when polled */
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    for (int i = 0; i < N; i++) {
        expect_fail(&recs[i], types[i], EFAULT);
        CHECK(recs[i].req_seen == &recs[i].own);
    }

    /* The wrappers on a given context: refused, nothing queued. */
    struct rec r = { 0 };
    rec_reset(&r);
    errno = 0;
    CHECK(evaio_ctx_stat(ctx, NULL, NULL, 0, rec_cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    errno = 0;
    CHECK(evaio_ctx_lstat(ctx, NULL, &st, 0, rec_cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    errno = 0;
    CHECK(evaio_ctx_unlink(ctx, NULL, 0, rec_cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    errno = 0;
    CHECK(evaio_ctx_mkdir(ctx, NULL, 0700, 0, rec_cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    errno = 0;
    CHECK(evaio_ctx_rmdir(ctx, NULL, 0, rec_cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    errno = 0;
    CHECK(evaio_ctx_rename(ctx, check_path("x"), NULL, 0, rec_cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    errno = 0;
    CHECK(evaio_ctx_readdir(ctx, NULL, 0, 0, rec_cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    errno = 0;
    CHECK(evaio_ctx_open(ctx, NULL, O_RDONLY, 0, 0, rec_cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(r.calls, 0);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK(!exists(check_path("x")));
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

    for (int style = WRAP; style <= INIT; style++) {
        test_stat(style);
        test_lstat(style);
        test_unlink(style);
        test_mkdir(style);
        test_rmdir(style);
        test_rename(style);
        test_readdir(style);
    }
    test_stat_path_copied();
    test_null_path_no_worker();
    test_concurrent();

    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    fprintf(stderr, "test_ops_path: all passed\n");
    return 0;
}
