/* Per-operation tests for the path operations that make or read names:
 * link, symlink, readlink, realpath, rename2, mkdtemp, mkstemp.  Every case
 * runs through both API styles (the wrapper evaio_OP / evaio_OP_at and the
 * caller-owned evaio_OP_init + evaio_req_set_wd + evaio_start), checks the
 * filesystem and the string outputs, and runs again against a working
 * directory with the process's cwd elsewhere, where two-path operations find
 * both names in the wd.  No descriptor may leak. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>

#define REC_OUTPUTS                                                                     \
    char *text;            /* a copy of the op's text output, or NULL */                \
    int text_was_null;     /* the output was NULL in the callback */
#include "op_harness.h"
#include "path_util.h"

static void rec_capture(struct rec *r, evaio_req *req)
{
    const char *text = NULL;
    switch (req->type) {
    case EVAIO_OP_READLINK:
        text = req->args.readlink.text;
        break;
    case EVAIO_OP_REALPATH:
        text = req->args.realpath.text;
        break;
    case EVAIO_OP_MKDTEMP:
        text = req->args.mkdtemp.text;
        break;
    case EVAIO_OP_MKSTEMP:
        text = req->args.mkstemp.text;
        break;
    default:
        return;
    }
    free(r->text);
    r->text = NULL;
    r->text_was_null = text == NULL;
    if (req->result < 0) {
        CHECK(text == NULL); /* no output on failure */
        return;
    }
    CHECK(text != NULL);
    if (req->type != EVAIO_OP_MKSTEMP) /* result "length": the string's */
        CHECK_EQ(strlen(text), req->result);
    r->text = strdup(text);
    CHECK(r->text != NULL);
}

static void rec_reset_outputs(struct rec *r)
{
    free(r->text);
    r->text = NULL;
    r->text_was_null = 0;
}

/* ---- per-operation submitters: both styles, with or without a wd ---- */

static void do_link(int style, struct rec *r, evaio_wd *wd, const char *path, const char *new_path)
{
    SUBMIT_WD(style, r, wd, evaio_link_at(wd, path, new_path, 0, rec_cb, r),
              evaio_link(path, new_path, 0, rec_cb, r), evaio_link_init(&r->own, path, new_path, rec_cb, r));
}

static void do_symlink(int style, struct rec *r, evaio_wd *wd, const char *target, const char *path)
{
    SUBMIT_WD(style, r, wd, evaio_symlink_at(wd, target, path, 0, rec_cb, r),
              evaio_symlink(target, path, 0, rec_cb, r), evaio_symlink_init(&r->own, target, path, rec_cb, r));
}

static void do_readlink(int style, struct rec *r, evaio_wd *wd, const char *path)
{
    SUBMIT_WD(style, r, wd, evaio_readlink_at(wd, path, 0, rec_cb, r), evaio_readlink(path, 0, rec_cb, r),
              evaio_readlink_init(&r->own, path, rec_cb, r));
}

static void do_realpath(int style, struct rec *r, evaio_wd *wd, const char *path)
{
    SUBMIT_WD(style, r, wd, evaio_realpath_at(wd, path, 0, rec_cb, r), evaio_realpath(path, 0, rec_cb, r),
              evaio_realpath_init(&r->own, path, rec_cb, r));
}

static void do_rename2(int style, struct rec *r, evaio_wd *wd, const char *path, const char *new_path, int flags)
{
    SUBMIT_WD(style, r, wd, evaio_rename2_at(wd, path, new_path, flags, 0, rec_cb, r),
              evaio_rename2(path, new_path, flags, 0, rec_cb, r),
              evaio_rename2_init(&r->own, path, new_path, flags, rec_cb, r));
}

static void do_mkdtemp(int style, struct rec *r, evaio_wd *wd, const char *pattern)
{
    SUBMIT_WD(style, r, wd, evaio_mkdtemp_at(wd, pattern, 0, rec_cb, r), evaio_mkdtemp(pattern, 0, rec_cb, r),
              evaio_mkdtemp_init(&r->own, pattern, rec_cb, r));
}

static void do_mkstemp(int style, struct rec *r, evaio_wd *wd, const char *pattern, int flags)
{
    SUBMIT_WD(style, r, wd, evaio_mkstemp_at(wd, pattern, flags, 0, rec_cb, r),
              evaio_mkstemp(pattern, flags, 0, rec_cb, r), evaio_mkstemp_init(&r->own, pattern, flags, rec_cb, r));
}

static void same_inode(const char *a, const char *b)
{
    struct stat sa, sb;
    CHECK_EQ(lstat(a, &sa), 0);
    CHECK_EQ(lstat(b, &sb), 0);
    CHECK_EQ(sa.st_dev, sb.st_dev);
    CHECK_EQ(sa.st_ino, sb.st_ino);
}

static const char *link_content(const char *path)
{
    static char buf[8192];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    CHECK(n >= 0);
    buf[n] = 0;
    return buf;
}

/* ---- link ---- */

static void test_link(int style)
{
    struct rec r = { 0 };
    struct stat st;
    begin("link", style);
    char file[4096], second[4096], dir[4096], symlnk[4096], linked_link[4096], nested[4096];
    pathf(file, sizeof file, "%s", spath(style, "link-file"));
    pathf(second, sizeof second, "%s", spath(style, "link-second"));
    pathf(dir, sizeof dir, "%s", spath(style, "link-dir"));
    pathf(symlnk, sizeof symlnk, "%s", spath(style, "link-symlink"));
    pathf(linked_link, sizeof linked_link, "%s", spath(style, "link-of-symlink"));
    pathf(nested, sizeof nested, "%s", spath(style, "link-no-parent/x"));
    make_file(file, "shared");
    CHECK_EQ(mkdir(dir, 0700), 0);
    CHECK_EQ(symlink(file, symlnk), 0);

    /* A second name for the same inode. */
    do_link(style, &r, NULL, file, second);
    expect_same(&r, EVAIO_OP_LINK, 0, 0);
    same_inode(file, second);
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_nlink, 2);
    /* A symlink itself is linked, not its target. */
    do_link(style, &r, NULL, symlnk, linked_link);
    expect_same(&r, EVAIO_OP_LINK, 0, 0);
    same_inode(symlnk, linked_link);
    CHECK_EQ(lstat(linked_link, &st), 0);
    CHECK(S_ISLNK(st.st_mode));

    /* Existing new name: EEXIST; missing source: ENOENT; a directory: EPERM. */
    do_link(style, &r, NULL, file, second);
    expect_fail(&r, EVAIO_OP_LINK, EEXIST);
    do_link(style, &r, NULL, check_path("link-missing"), check_path("link-to-missing"));
    expect_fail(&r, EVAIO_OP_LINK, ENOENT);
    CHECK(!exists(check_path("link-to-missing")));
    do_link(style, &r, NULL, file, nested);
    expect_fail(&r, EVAIO_OP_LINK, ENOENT);
    char twin[4096];
    pathf(twin, sizeof twin, "%s-twin", dir);
    int err = SYNC_ERRNO(link(dir, twin));
    CHECK_EQ(err, EPERM);
    do_link(style, &r, NULL, dir, twin);
    expect_fail(&r, EVAIO_OP_LINK, EPERM);

    /* In a wd with the cwd elsewhere: both names resolve in the wd. */
    char wdabs[4096], p[4096], q[4096];
    evaio_wd *wd = make_wd(style, "link-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/orig", wdabs);
    pathf(q, sizeof q, "%s/copy", wdabs);
    make_file(p, "x");
    do_link(style, &r, wd, "orig", "copy");
    expect_same(&r, EVAIO_OP_LINK, 0, 0);
    same_inode(p, q);
    not_in_cwd("copy");
    do_link(style, &r, wd, "orig", "copy");
    expect_fail(&r, EVAIO_OP_LINK, EEXIST);
    do_link(style, &r, wd, "missing", "other");
    expect_fail(&r, EVAIO_OP_LINK, ENOENT);
    /* An absolute path on either side ignores the wd. */
    pathf(q, sizeof q, "%s/from-outside", wdabs);
    do_link(style, &r, wd, file, "from-outside");
    expect_same(&r, EVAIO_OP_LINK, 0, 0);
    same_inode(file, q);
    do_link(style, &r, wd, NULL, "x");
    expect_null_path(&r, style, EVAIO_OP_LINK);
    do_link(style, &r, wd, "orig", NULL);
    expect_null_path(&r, style, EVAIO_OP_LINK);
    close_wd(wd);

    do_link(style, &r, NULL, NULL, second);
    expect_null_path(&r, style, EVAIO_OP_LINK);
    do_link(style, &r, NULL, file, NULL);
    expect_null_path(&r, style, EVAIO_OP_LINK);
    rec_reset(&r);
}

/* ---- symlink ---- */

static void test_symlink(int style)
{
    struct rec r = { 0 };
    struct stat st;
    begin("symlink", style);
    char link[4096], abs_link[4096], file[4096], nested[4096];
    pathf(link, sizeof link, "%s", spath(style, "symlink-rel"));
    pathf(abs_link, sizeof abs_link, "%s", spath(style, "symlink-abs"));
    pathf(file, sizeof file, "%s", spath(style, "symlink-file"));
    pathf(nested, sizeof nested, "%s", spath(style, "symlink-no-parent/x"));
    make_file(file, "x");

    /* The target is stored as given, never resolved or checked. */
    do_symlink(style, &r, NULL, "some/../relative target", link);
    expect_same(&r, EVAIO_OP_SYMLINK, 0, 0);
    CHECK_EQ(lstat(link, &st), 0);
    CHECK(S_ISLNK(st.st_mode));
    CHECK(strcmp(link_content(link), "some/../relative target") == 0);
    do_symlink(style, &r, NULL, file, abs_link);
    expect_same(&r, EVAIO_OP_SYMLINK, 0, 0);
    CHECK(strcmp(link_content(abs_link), file) == 0);
    CHECK_EQ(stat(abs_link, &st), 0); /* followed: the file */
    CHECK(S_ISREG(st.st_mode));

    /* Existing: EEXIST (also over a file); missing directory: ENOENT; an
     * empty target: what symlink(2) says. */
    do_symlink(style, &r, NULL, "x", link);
    expect_fail(&r, EVAIO_OP_SYMLINK, EEXIST);
    do_symlink(style, &r, NULL, "x", file);
    expect_fail(&r, EVAIO_OP_SYMLINK, EEXIST);
    do_symlink(style, &r, NULL, "x", nested);
    expect_fail(&r, EVAIO_OP_SYMLINK, ENOENT);
    char empty[4096];
    pathf(empty, sizeof empty, "%s", spath(style, "symlink-empty"));
    int err = SYNC_ERRNO(symlink("", empty));
    do_symlink(style, &r, NULL, "", empty);
    expect_fail(&r, EVAIO_OP_SYMLINK, err);
    CHECK(!exists(empty));

    /* In a wd: the link lands there; a relative target stays relative
     * (it names nothing in the cwd or the wd: never resolved). */
    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "symlink-wd", wdabs, sizeof wdabs);
    do_symlink(style, &r, wd, "target-nowhere", "lnk");
    expect_same(&r, EVAIO_OP_SYMLINK, 0, 0);
    pathf(p, sizeof p, "%s/lnk", wdabs);
    CHECK(strcmp(link_content(p), "target-nowhere") == 0);
    not_in_cwd("lnk");
    /* A relative target works from the link's directory when followed. */
    pathf(p, sizeof p, "%s/real", wdabs);
    make_file(p, "real content");
    do_symlink(style, &r, wd, "real", "to-real");
    expect_same(&r, EVAIO_OP_SYMLINK, 0, 0);
    pathf(p, sizeof p, "%s/to-real", wdabs);
    CHECK(strcmp(file_content(p), "real content") == 0);
    do_symlink(style, &r, wd, "x", "lnk");
    expect_fail(&r, EVAIO_OP_SYMLINK, EEXIST);
    do_symlink(style, &r, wd, NULL, "other");
    expect_null_path(&r, style, EVAIO_OP_SYMLINK);
    do_symlink(style, &r, wd, "x", NULL);
    expect_null_path(&r, style, EVAIO_OP_SYMLINK);
    close_wd(wd);

    /* NULL target (a string: refused like a path) or NULL path. */
    do_symlink(style, &r, NULL, NULL, check_path("symlink-null"));
    expect_null_path(&r, style, EVAIO_OP_SYMLINK);
    do_symlink(style, &r, NULL, "x", NULL);
    expect_null_path(&r, style, EVAIO_OP_SYMLINK);
    CHECK(!exists(check_path("symlink-null")));
    rec_reset(&r);
}

/* ---- readlink ---- */

static void test_readlink(int style)
{
    struct rec r = { 0 };
    begin("readlink", style);
    char link[4096], longlink[4096], file[4096], dir[4096];
    pathf(link, sizeof link, "%s", spath(style, "readlink-link"));
    pathf(longlink, sizeof longlink, "%s", spath(style, "readlink-long"));
    pathf(file, sizeof file, "%s", spath(style, "readlink-file"));
    pathf(dir, sizeof dir, "%s", spath(style, "readlink-dir"));
    make_file(file, "x");
    CHECK_EQ(mkdir(dir, 0700), 0);
    CHECK_EQ(symlink("short/target", link), 0);

    do_readlink(style, &r, NULL, link);
    expect_same(&r, EVAIO_OP_READLINK, 12, 0);
    CHECK(strcmp(r.text, "short/target") == 0);

    /* Longer than any first buffer: it comes back whole. */
    enum { LONG = 3000 };
    char *target = malloc(LONG + 1);
    CHECK(target != NULL);
    for (int i = 0; i < LONG; i++)
        target[i] = i % 50 == 49 ? '/' : (char)('a' + i % 26);
    target[LONG] = 0;
    CHECK_EQ(symlink(target, longlink), 0);
    do_readlink(style, &r, NULL, longlink);
    expect_same(&r, EVAIO_OP_READLINK, LONG, 0);
    CHECK(strcmp(r.text, target) == 0);
    /* Sizes around the buffer's growth steps, up to the longest a symlink
     * can be on Linux (4095 bytes). */
    static const size_t sizes[] = { 1, 255, 256, 257, 511, 512, 513, 1023, 1024, 2047, 2048, 4095 };
    char sized[4096], *t = malloc(4096);
    CHECK(t != NULL);
    pathf(sized, sizeof sized, "%s", spath(style, "readlink-sized"));
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (size_t j = 0; j < sizes[i]; j++)
            t[j] = (char)('A' + (j * 7 + sizes[i]) % 26);
        t[sizes[i]] = 0;
        if (symlink(t, sized) != 0) {
            CHECK_EQ(errno, ENAMETOOLONG); /* a filesystem with a lower limit */
            continue;
        }
        do_readlink(style, &r, NULL, sized);
        expect_same(&r, EVAIO_OP_READLINK, (int64_t)sizes[i], 0);
        CHECK(strcmp(r.text, t) == 0);
        CHECK_EQ(unlink(sized), 0);
    }
    free(t);
    free(target);

    /* Not a symlink: EINVAL; missing: ENOENT; through a file: ENOTDIR. */
    do_readlink(style, &r, NULL, file);
    expect_fail(&r, EVAIO_OP_READLINK, EINVAL);
    CHECK(r.text_was_null);
    do_readlink(style, &r, NULL, dir);
    expect_fail(&r, EVAIO_OP_READLINK, EINVAL);
    do_readlink(style, &r, NULL, check_path("readlink-missing"));
    expect_fail(&r, EVAIO_OP_READLINK, ENOENT);
    char sub[4096];
    pathf(sub, sizeof sub, "%s/below", file);
    do_readlink(style, &r, NULL, sub);
    expect_fail(&r, EVAIO_OP_READLINK, ENOTDIR);

    /* In a wd. */
    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "readlink-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/lnk", wdabs);
    CHECK_EQ(symlink("../somewhere", p), 0);
    do_readlink(style, &r, wd, "lnk");
    expect_same(&r, EVAIO_OP_READLINK, 12, 0);
    CHECK(strcmp(r.text, "../somewhere") == 0);
    do_readlink(style, &r, wd, "missing");
    expect_fail(&r, EVAIO_OP_READLINK, ENOENT);
    not_in_cwd("lnk");
    do_readlink(style, &r, wd, NULL);
    expect_null_path(&r, style, EVAIO_OP_READLINK);
    close_wd(wd);

    do_readlink(style, &r, NULL, NULL);
    expect_null_path(&r, style, EVAIO_OP_READLINK);
    rec_reset(&r);
}

/* ---- realpath ---- */

/* realpath(3) of an absolute path, for comparison. */
static const char *canonical(const char *path)
{
    static char buf[PATH_MAX];
    CHECK(realpath(path, buf) != NULL);
    return buf;
}

static void test_realpath(int style)
{
    struct rec r = { 0 };
    begin("realpath", style);
    char base[4096], p[4096], q[4096];
    pathf(base, sizeof base, "%s", spath(style, "realpath"));
    CHECK_EQ(mkdir(base, 0700), 0);
    pathf(p, sizeof p, "%s/dir", base);
    CHECK_EQ(mkdir(p, 0700), 0);
    pathf(p, sizeof p, "%s/dir/file", base);
    make_file(p, "x");
    pathf(p, sizeof p, "%s/link-to-dir", base);
    CHECK_EQ(symlink("dir", p), 0);
    pathf(p, sizeof p, "%s/dangling", base);
    CHECK_EQ(symlink("nowhere", p), 0);
    char want[4096];
    pathf(p, sizeof p, "%s/dir/file", base);
    pathf(want, sizeof want, "%s", canonical(p));

    /* Without a wd: an absolute path with ".", ".." and a symlink. */
    pathf(q, sizeof q, "%s/./link-to-dir/../dir/./file", base);
    do_realpath(style, &r, NULL, q);
    expect_same(&r, EVAIO_OP_REALPATH, (int64_t)strlen(want), 0);
    CHECK(strcmp(r.text, want) == 0);
    /* A relative path: against the process's cwd. */
    make_file("in-cwd", "x");
    char cwd_file[4096];
    pathf(cwd_file, sizeof cwd_file, "%s", canonical("in-cwd"));
    do_realpath(style, &r, NULL, "./in-cwd");
    expect_same(&r, EVAIO_OP_REALPATH, (int64_t)strlen(cwd_file), 0);
    CHECK(strcmp(r.text, cwd_file) == 0);
    CHECK_EQ(unlink("in-cwd"), 0);
    do_realpath(style, &r, NULL, "/");
    expect_same(&r, EVAIO_OP_REALPATH, 1, 0);
    CHECK(strcmp(r.text, "/") == 0);
    /* Missing, dangling, through a file, empty. */
    pathf(q, sizeof q, "%s/missing", base);
    do_realpath(style, &r, NULL, q);
    expect_fail(&r, EVAIO_OP_REALPATH, ENOENT);
    CHECK(r.text_was_null);
    pathf(q, sizeof q, "%s/dangling", base);
    do_realpath(style, &r, NULL, q);
    expect_fail(&r, EVAIO_OP_REALPATH, ENOENT);
    pathf(q, sizeof q, "%s/dir/file/below", base);
    do_realpath(style, &r, NULL, q);
    expect_fail(&r, EVAIO_OP_REALPATH, ENOTDIR);
    do_realpath(style, &r, NULL, "");
    expect_fail(&r, EVAIO_OP_REALPATH, ENOENT);

    /* With a wd: a relative path through a symlink and "..", resolved in the
     * wd, absolute, never through /proc. */
    evaio_wd *wd = open_wd(base);
    do_realpath(style, &r, wd, "link-to-dir/../link-to-dir/file");
    expect_same(&r, EVAIO_OP_REALPATH, (int64_t)strlen(want), 0);
    CHECK(strcmp(r.text, want) == 0);
    CHECK(strstr(r.text, "/proc") == NULL);
    do_realpath(style, &r, wd, ".");
    expect_same(&r, EVAIO_OP_REALPATH, (int64_t)strlen(canonical(base)), 0);
    CHECK(strcmp(r.text, canonical(base)) == 0);
    do_realpath(style, &r, wd, "link-to-dir");
    pathf(q, sizeof q, "%s/dir", base);
    CHECK(strcmp(r.text, canonical(q)) == 0);
    /* An absolute path ignores the wd. */
    do_realpath(style, &r, wd, "/");
    expect_same(&r, EVAIO_OP_REALPATH, 1, 0);
    CHECK(strcmp(r.text, "/") == 0);
    do_realpath(style, &r, wd, "missing");
    expect_fail(&r, EVAIO_OP_REALPATH, ENOENT);
    do_realpath(style, &r, wd, "dangling");
    expect_fail(&r, EVAIO_OP_REALPATH, ENOENT);
    do_realpath(style, &r, wd, "dir/file/below");
    expect_fail(&r, EVAIO_OP_REALPATH, ENOTDIR);
    do_realpath(style, &r, wd, "");
    expect_fail(&r, EVAIO_OP_REALPATH, ENOENT);
    not_in_cwd("link-to-dir");
    do_realpath(style, &r, wd, NULL);
    expect_null_path(&r, style, EVAIO_OP_REALPATH);
    /* The wd follows its directory when that is renamed. */
    char moved[4096];
    pathf(moved, sizeof moved, "%s-moved", base);
    CHECK_EQ(rename(base, moved), 0);
    pathf(q, sizeof q, "%s/dir/file", moved);
    pathf(want, sizeof want, "%s", canonical(q));
    do_realpath(style, &r, wd, "link-to-dir/file");
    expect_same(&r, EVAIO_OP_REALPATH, (int64_t)strlen(want), 0);
    CHECK(strcmp(r.text, want) == 0);
    CHECK_EQ(rename(moved, base), 0);
    close_wd(wd);

    do_realpath(style, &r, NULL, NULL);
    expect_null_path(&r, style, EVAIO_OP_REALPATH);
    rec_reset(&r);
}

/* ---- rename2 ---- */

static void test_rename2(int style)
{
    struct rec r = { 0 };
    begin("rename2", style);
    char a[4096], b[4096], c[4096];
    pathf(a, sizeof a, "%s", spath(style, "rename2-a"));
    pathf(b, sizeof b, "%s", spath(style, "rename2-b"));
    pathf(c, sizeof c, "%s", spath(style, "rename2-c"));

    /* Flags 0: a plain rename, replacing. */
    make_file(a, "A");
    make_file(b, "B");
    do_rename2(style, &r, NULL, a, b, 0);
    expect_same(&r, EVAIO_OP_RENAME2, 0, 0);
    CHECK(!exists(a));
    CHECK(strcmp(file_content(b), "A") == 0);

    /* NOREPLACE: refused over an existing name, both unchanged; fine onto a
     * free one. */
    make_file(a, "A2");
    do_rename2(style, &r, NULL, a, b, EVAIO_RENAME_NOREPLACE);
    expect_fail(&r, EVAIO_OP_RENAME2, EEXIST);
    CHECK(strcmp(file_content(a), "A2") == 0);
    CHECK(strcmp(file_content(b), "A") == 0);
    do_rename2(style, &r, NULL, a, c, EVAIO_RENAME_NOREPLACE);
    expect_same(&r, EVAIO_OP_RENAME2, 0, 0);
    CHECK(!exists(a));
    CHECK(strcmp(file_content(c), "A2") == 0);

    /* EXCHANGE: the contents swap names; both must exist. */
    do_rename2(style, &r, NULL, b, c, EVAIO_RENAME_EXCHANGE);
    expect_same(&r, EVAIO_OP_RENAME2, 0, 0);
    CHECK(strcmp(file_content(b), "A2") == 0);
    CHECK(strcmp(file_content(c), "A") == 0);
    do_rename2(style, &r, NULL, b, a, EVAIO_RENAME_EXCHANGE);
    expect_fail(&r, EVAIO_OP_RENAME2, ENOENT);
    CHECK(exists(b));
    CHECK(!exists(a));

    /* Bad flags: EINVAL, nothing moved. */
    do_rename2(style, &r, NULL, b, c, EVAIO_RENAME_NOREPLACE | EVAIO_RENAME_EXCHANGE);
    expect_fail(&r, EVAIO_OP_RENAME2, EINVAL);
    do_rename2(style, &r, NULL, b, a, 0x100);
    expect_fail(&r, EVAIO_OP_RENAME2, EINVAL);
    do_rename2(style, &r, NULL, b, a, -1);
    expect_fail(&r, EVAIO_OP_RENAME2, EINVAL);
    CHECK(strcmp(file_content(b), "A2") == 0);
    CHECK(!exists(a));
    /* Missing source. */
    do_rename2(style, &r, NULL, a, c, 0);
    expect_fail(&r, EVAIO_OP_RENAME2, ENOENT);
    do_rename2(style, &r, NULL, a, c, EVAIO_RENAME_NOREPLACE);
    expect_fail(&r, EVAIO_OP_RENAME2, ENOENT);

    /* In a wd with the cwd elsewhere: both names resolve in the wd. */
    char wdabs[4096], p[4096], q[4096];
    evaio_wd *wd = make_wd(style, "rename2-wd", wdabs, sizeof wdabs);
    pathf(p, sizeof p, "%s/one", wdabs);
    pathf(q, sizeof q, "%s/two", wdabs);
    make_file(p, "1");
    make_file(q, "2");
    do_rename2(style, &r, wd, "one", "two", EVAIO_RENAME_NOREPLACE);
    expect_fail(&r, EVAIO_OP_RENAME2, EEXIST);
    do_rename2(style, &r, wd, "one", "two", EVAIO_RENAME_EXCHANGE);
    expect_same(&r, EVAIO_OP_RENAME2, 0, 0);
    CHECK(strcmp(file_content(p), "2") == 0);
    CHECK(strcmp(file_content(q), "1") == 0);
    do_rename2(style, &r, wd, "one", "three", 0);
    expect_same(&r, EVAIO_OP_RENAME2, 0, 0);
    CHECK(!exists(p));
    pathf(p, sizeof p, "%s/three", wdabs);
    CHECK(strcmp(file_content(p), "2") == 0);
    not_in_cwd("three");
    do_rename2(style, &r, wd, "missing", "four", 0);
    expect_fail(&r, EVAIO_OP_RENAME2, ENOENT);
    do_rename2(style, &r, wd, NULL, "four", 0);
    expect_null_path(&r, style, EVAIO_OP_RENAME2);
    do_rename2(style, &r, wd, "three", NULL, 0);
    expect_null_path(&r, style, EVAIO_OP_RENAME2);
    close_wd(wd);

    do_rename2(style, &r, NULL, NULL, b, 0);
    expect_null_path(&r, style, EVAIO_OP_RENAME2);
    do_rename2(style, &r, NULL, b, NULL, 0);
    expect_null_path(&r, style, EVAIO_OP_RENAME2);
    CHECK(exists(b));
    rec_reset(&r);
}

/* ---- mkdtemp, mkstemp ---- */

/* A name made from `pattern`: same length, same prefix, six new characters
 * from [A-Za-z0-9]. */
static void check_made_name(const char *name, const char *pattern)
{
    size_t n = strlen(pattern);
    CHECK_EQ(strlen(name), n);
    CHECK(memcmp(name, pattern, n - 6) == 0);
    CHECK(strcmp(name + n - 6, "XXXXXX") != 0);
    for (size_t i = n - 6; i < n; i++)
        CHECK((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9'));
}

static void test_mkdtemp(int style)
{
    struct rec r = { 0 };
    struct stat st;
    begin("mkdtemp", style);
    char pattern[4096], first[4096];
    pathf(pattern, sizeof pattern, "%s-XXXXXX", spath(style, "dtemp"));
    char saved[4096];
    memcpy(saved, pattern, sizeof saved);

    do_mkdtemp(style, &r, NULL, pattern);
    CHECK(r.result > 0);
    expect_same(&r, EVAIO_OP_MKDTEMP, (int64_t)strlen(pattern), 0);
    check_made_name(r.text, pattern);
    CHECK(strcmp(pattern, saved) == 0); /* the caller's pattern is left alone */
    CHECK_EQ(lstat(r.text, &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 0700);
    pathf(first, sizeof first, "%s", r.text);
    /* Again: another directory. */
    do_mkdtemp(style, &r, NULL, pattern);
    expect_same(&r, EVAIO_OP_MKDTEMP, (int64_t)strlen(pattern), 0);
    check_made_name(r.text, pattern);
    CHECK(strcmp(r.text, first) != 0);
    CHECK_EQ(rmdir(r.text), 0);
    CHECK_EQ(rmdir(first), 0);
    /* Just the Xs: relative to the cwd. */
    do_mkdtemp(style, &r, NULL, "XXXXXX");
    expect_same(&r, EVAIO_OP_MKDTEMP, 6, 0);
    check_made_name(r.text, "XXXXXX");
    CHECK_EQ(rmdir(r.text), 0);

    /* Templates that do not end in six Xs: EINVAL, nothing made. */
    static const char *const bad[] = { "", "X", "XXXXX", "dtemp-XXXXX", "dtemp-XXXXXXa", "dtemp-xxxxxx",
                                       "dtemp-XXXXXX/" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        do_mkdtemp(style, &r, NULL, bad[i]);
        expect_fail(&r, EVAIO_OP_MKDTEMP, EINVAL);
        CHECK(r.text_was_null);
    }
    /* In a missing directory, or under a file. */
    do_mkdtemp(style, &r, NULL, check_path("no-such-dir/dtemp-XXXXXX"));
    expect_fail(&r, EVAIO_OP_MKDTEMP, ENOENT);
    char file[4096], under[4096];
    pathf(file, sizeof file, "%s", spath(style, "dtemp-file"));
    make_file(file, "x");
    pathf(under, sizeof under, "%s/XXXXXX", file);
    do_mkdtemp(style, &r, NULL, under);
    expect_fail(&r, EVAIO_OP_MKDTEMP, ENOTDIR);

    /* In a wd: relative name, created in the wd only. */
    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "dtemp-wd", wdabs, sizeof wdabs);
    do_mkdtemp(style, &r, wd, "sub-XXXXXX");
    expect_same(&r, EVAIO_OP_MKDTEMP, 10, 0);
    check_made_name(r.text, "sub-XXXXXX");
    pathf(p, sizeof p, "%s/%s", wdabs, r.text);
    CHECK_EQ(lstat(p, &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    not_in_cwd(r.text);
    do_mkdtemp(style, &r, wd, "missing/XXXXXX");
    expect_fail(&r, EVAIO_OP_MKDTEMP, ENOENT);
    do_mkdtemp(style, &r, wd, "bad");
    expect_fail(&r, EVAIO_OP_MKDTEMP, EINVAL);
    do_mkdtemp(style, &r, wd, NULL);
    expect_null_path(&r, style, EVAIO_OP_MKDTEMP);
    close_wd(wd);

    do_mkdtemp(style, &r, NULL, NULL);
    expect_null_path(&r, style, EVAIO_OP_MKDTEMP);
    rec_reset(&r);
}

/* The descriptor mkstemp gave: close-on-exec, read-write, the file named by
 * `name`, new and empty with mode 0600, plus `extra` status flags.  Closed. */
static void check_made_file(const struct rec *r, const char *name, int extra)
{
    CHECK(r->result >= 0);
    int fd = (int)r->result;
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int fl = fcntl(fd, F_GETFL);
    CHECK_EQ(fl & O_ACCMODE, O_RDWR);
    CHECK_EQ(fl & extra, extra);
    struct stat by_fd, by_name;
    CHECK_EQ(fstat(fd, &by_fd), 0);
    CHECK_EQ(lstat(name, &by_name), 0);
    CHECK_EQ(by_fd.st_ino, by_name.st_ino);
    CHECK_EQ(by_fd.st_dev, by_name.st_dev);
    CHECK(S_ISREG(by_fd.st_mode));
    CHECK_EQ(by_fd.st_mode & 07777, 0600);
    CHECK_EQ(by_fd.st_size, 0);
    CHECK_EQ(write(fd, "data", 4), 4);
    CHECK_EQ(close(fd), 0);
}

static void test_mkstemp(int style)
{
    struct rec r = { 0 };
    begin("mkstemp", style);
    char pattern[4096], first[4096], saved[4096];
    pathf(pattern, sizeof pattern, "%s-XXXXXX", spath(style, "stemp"));
    memcpy(saved, pattern, sizeof saved);

    do_mkstemp(style, &r, NULL, pattern, 0);
    CHECK(r.result >= 0);
    check_made_name(r.text, pattern);
    CHECK(strcmp(pattern, saved) == 0);
    check_made_file(&r, r.text, 0);
    pathf(first, sizeof first, "%s", r.text);
    /* With O_APPEND (and O_CLOEXEC, already implied): another file. */
    do_mkstemp(style, &r, NULL, pattern, O_APPEND | O_CLOEXEC);
    CHECK(r.result >= 0);
    check_made_name(r.text, pattern);
    CHECK(strcmp(r.text, first) != 0);
    check_made_file(&r, r.text, O_APPEND);
    CHECK_EQ(unlink(r.text), 0);
    CHECK_EQ(unlink(first), 0);
    do_mkstemp(style, &r, NULL, pattern, O_SYNC);
    check_made_file(&r, r.text, O_SYNC);
    CHECK_EQ(unlink(r.text), 0);

    /* Flags beyond the allowed ones: EINVAL, nothing made. */
    static const int bad_flags[] = { O_WRONLY, O_RDWR, O_TRUNC, O_DIRECTORY, O_CREAT, O_EXCL, O_NOFOLLOW,
                                     O_PATH, O_TMPFILE, 1 << 30, -1 };
    for (size_t i = 0; i < sizeof bad_flags / sizeof bad_flags[0]; i++) {
        do_mkstemp(style, &r, NULL, pattern, bad_flags[i]);
        expect_fail(&r, EVAIO_OP_MKSTEMP, EINVAL);
        CHECK(r.text_was_null);
    }
    /* Bad templates. */
    static const char *const bad[] = { "", "XXXXX", "stemp-XXXXXY", "stemp-XXXXXX.txt" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        do_mkstemp(style, &r, NULL, bad[i], 0);
        expect_fail(&r, EVAIO_OP_MKSTEMP, EINVAL);
    }
    do_mkstemp(style, &r, NULL, check_path("no-such-dir/stemp-XXXXXX"), 0);
    expect_fail(&r, EVAIO_OP_MKSTEMP, ENOENT);
    char file[4096], under[4096];
    pathf(file, sizeof file, "%s", spath(style, "stemp-file"));
    make_file(file, "x");
    pathf(under, sizeof under, "%s/XXXXXX", file);
    do_mkstemp(style, &r, NULL, under, 0);
    expect_fail(&r, EVAIO_OP_MKSTEMP, ENOTDIR);

    /* In a wd. */
    char wdabs[4096], p[4096];
    evaio_wd *wd = make_wd(style, "stemp-wd", wdabs, sizeof wdabs);
    do_mkstemp(style, &r, wd, "f-XXXXXX", 0);
    CHECK(r.result >= 0);
    check_made_name(r.text, "f-XXXXXX");
    pathf(p, sizeof p, "%s/%s", wdabs, r.text);
    check_made_file(&r, p, 0);
    not_in_cwd(r.text);
    do_mkstemp(style, &r, wd, "missing/XXXXXX", 0);
    expect_fail(&r, EVAIO_OP_MKSTEMP, ENOENT);
    do_mkstemp(style, &r, wd, "f-XXXXXX", O_TRUNC);
    expect_fail(&r, EVAIO_OP_MKSTEMP, EINVAL);
    do_mkstemp(style, &r, wd, NULL, 0);
    expect_null_path(&r, style, EVAIO_OP_MKSTEMP);
    close_wd(wd);

    do_mkstemp(style, &r, NULL, NULL, 0);
    expect_null_path(&r, style, EVAIO_OP_MKSTEMP);
    rec_reset(&r);
}

/* Many at once in one directory: every name distinct, every one made. */
static void test_mktemp_many(void)
{
    enum { N = 64 };
    static struct rec recs[N];
    static char names[N][4096];
    begin("mkdtemp and mkstemp, many at once", WRAP);
    char dir[4096], pattern[4096];
    pathf(dir, sizeof dir, "%s", check_path("many"));
    CHECK_EQ(mkdir(dir, 0700), 0);
    pathf(pattern, sizeof pattern, "%s/XXXXXX", dir);
    for (int i = 0; i < N; i++) {
        rec_reset(&recs[i]);
        recs[i].expect_req = i % 2 ? evaio_mkdtemp(pattern, 0, rec_cb, &recs[i])
                                   : evaio_mkstemp(pattern, 0, 0, rec_cb, &recs[i]);
        CHECK(recs[i].expect_req != NULL);
    }
    CHECK_EQ(evaio_wait(), 0);
    for (int i = 0; i < N; i++) {
        CHECK_EQ(recs[i].calls, 1);
        CHECK(recs[i].result >= 0);
        check_made_name(recs[i].text, pattern);
        pathf(names[i], sizeof names[i], "%s", recs[i].text);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(names[i], names[j]) != 0);
        if (i % 2) {
            CHECK_EQ(rmdir(names[i]), 0);
        } else {
            CHECK_EQ(close((int)recs[i].result), 0);
            CHECK_EQ(unlink(names[i]), 0);
        }
        rec_reset(&recs[i]);
    }
    CHECK_EQ(rmdir(dir), 0);
}

/* A NULL path or target fails a caller-owned request in evaio_start, into
 * its callback, without a worker: on a fresh context no thread starts. */
static void test_null_path_no_worker(void)
{
    enum { N = 10 };
    static struct rec recs[N];
    static const int types[N] = { EVAIO_OP_LINK,    EVAIO_OP_LINK,     EVAIO_OP_SYMLINK, EVAIO_OP_SYMLINK,
                                  EVAIO_OP_READLINK, EVAIO_OP_REALPATH, EVAIO_OP_RENAME2, EVAIO_OP_RENAME2,
                                  EVAIO_OP_MKDTEMP, EVAIO_OP_MKSTEMP };
    begin("NULL paths fail without reaching a worker (fresh context)", INIT);
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    for (int i = 0; i < N; i++)
        rec_reset(&recs[i]);
    evaio_link_init(&recs[0].own, NULL, "x", rec_cb, &recs[0]);
    evaio_link_init(&recs[1].own, "x", NULL, rec_cb, &recs[1]);
    evaio_symlink_init(&recs[2].own, NULL, "x", rec_cb, &recs[2]);
    evaio_symlink_init(&recs[3].own, "x", NULL, rec_cb, &recs[3]);
    evaio_readlink_init(&recs[4].own, NULL, rec_cb, &recs[4]);
    evaio_realpath_init(&recs[5].own, NULL, rec_cb, &recs[5]);
    evaio_rename2_init(&recs[6].own, NULL, "x", 0, rec_cb, &recs[6]);
    evaio_rename2_init(&recs[7].own, "x", NULL, 0, rec_cb, &recs[7]);
    evaio_mkdtemp_init(&recs[8].own, NULL, rec_cb, &recs[8]);
    evaio_mkstemp_init(&recs[9].own, NULL, 0, rec_cb, &recs[9]);
    for (int i = 0; i < N; i++) {
        recs[i].expect_req = &recs[i].own;
        CHECK_EQ(evaio_ctx_start(ctx, &recs[i].own), 0);
    }
    CHECK_EQ(evaio_ctx_nreqs(ctx), N);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    for (int i = 0; i < N; i++)
        expect_fail(&recs[i], types[i], EFAULT);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK(!exists("x"));
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    for (int i = 0; i < N; i++)
        rec_reset(&recs[i]);
}

/* A caller-owned request restarted from its callback gets a fresh output:
 * the text of the first run is gone (freed by the library) by the second. */
static int restart_cb(evaio_req *req)
{
    int *runs = req->data;
    CHECK_EQ(req->result, 5);
    CHECK(req->args.readlink.text != NULL);
    CHECK(strcmp(req->args.readlink.text, "abcde") == 0);
    if (++*runs < 3)
        CHECK_EQ(evaio_start(req), 0);
    return 0;
}

static void test_readlink_restart(void)
{
    begin("readlink restarted from its callback", INIT);
    char link[4096];
    pathf(link, sizeof link, "%s", check_path("restart-link"));
    CHECK_EQ(symlink("abcde", link), 0);
    evaio_req req;
    int runs = 0;
    evaio_readlink_init(&req, link, restart_cb, &runs);
    CHECK_EQ(evaio_start(&req), 0);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(runs, 3);
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
        test_link(style);
        test_symlink(style);
        test_readlink(style);
        test_realpath(style);
        test_rename2(style);
        test_mkdtemp(style);
        test_mkstemp(style);
    }
    test_mktemp_many();
    test_null_path_no_worker();
    test_readlink_restart();

    check_no_leaks(fds);
    fprintf(stderr, "test_ops_path3: all passed\n");
    return 0;
}
