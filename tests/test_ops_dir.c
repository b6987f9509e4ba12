/* Per-operation tests for the directory operations: readdir's flags
 * (DENTS, DIRS_FIRST, STAT_ORDER, the reported FOUND_UNKNOWN) and the
 * directory streams opendir, readdir_batch, closedir.  Every case runs
 * through both API styles; path operations also through a working directory
 * (evaio_OP_at and evaio_req_set_wd) while the process's cwd is elsewhere.
 * Listings are compared with what readdir(3) and lstat(2) say. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>

struct dent_copy {
    uint64_t ino;
    unsigned char type;
};

#define REC_OUTPUTS                                                                     \
    char **names;             /* a copy of each name */                                 \
    size_t nnames;                                                                      \
    struct dent_copy *dents;  /* a copy of each dirent, when the op returned them */    \
    int had_dents;            /* the op's dents pointer was not NULL */                 \
    int found;                /* readdir: req->args.readdir.found */                    \
    evaio_dir *dir;           /* opendir: the stream */
#include "op_harness.h"

static void free_outputs(struct rec *r)
{
    for (size_t i = 0; i < r->nnames; i++)
        free(r->names[i]);
    free(r->names);
    free(r->dents);
    r->names = NULL;
    r->dents = NULL;
    r->nnames = 0;
    r->had_dents = 0;
}

/* Copies `count` names and, when given, dirents, checking that each dirent's
 * name points at its own name inside the names buffer. */
static void capture_list(struct rec *r, int64_t count, const char *names, const struct evaio_dirent *dents)
{
    free_outputs(r);
    r->had_dents = dents != NULL;
    if (count <= 0)
        return;
    CHECK(names != NULL);
    r->names = calloc((size_t)count, sizeof *r->names);
    r->dents = calloc((size_t)count, sizeof *r->dents);
    CHECK(r->names != NULL && r->dents != NULL);
    const char *p = names;
    for (int64_t i = 0; i < count; i++) {
        size_t len = strlen(p);
        CHECK(len > 0);
        if (dents) {
            CHECK(dents[i].name == p);
            r->dents[i].ino = dents[i].ino;
            r->dents[i].type = dents[i].type;
        }
        r->names[i] = strdup(p);
        CHECK(r->names[i] != NULL);
        r->nnames++;
        p += len + 1;
    }
}

static void rec_capture(struct rec *r, evaio_req *req)
{
    switch (req->type) {
    case EVAIO_OP_READDIR: {
        struct evaio_readdir_args *a = &req->args.readdir;
        if (req->result >= 0)
            CHECK(a->names != NULL); /* even for an empty directory */
        else
            CHECK(a->names == NULL && a->dents == NULL && a->found == 0);
        capture_list(r, req->result, a->names, a->dents);
        CHECK(a->found == 0 || a->found == EVAIO_READDIR_FOUND_UNKNOWN);
        r->found = a->found;
        break;
    }
    case EVAIO_OP_READDIR_BATCH: {
        struct evaio_readdir_batch_args *a = &req->args.readdir_batch;
        if (req->result >= 0)
            CHECK(a->names != NULL);
        else
            CHECK(a->names == NULL && a->dents == NULL);
        capture_list(r, req->result, a->names, a->dents);
        break;
    }
    case EVAIO_OP_OPENDIR:
        r->dir = req->args.opendir.dir;
        CHECK(req->result == 0 ? r->dir != NULL : r->dir == NULL);
        break;
    default:
        break;
    }
}

static void rec_reset_outputs(struct rec *r)
{
    free_outputs(r);
    r->found = -1;
    r->dir = NULL;
}

/* ---- submitters, both styles; wd != NULL: the _at form and evaio_req_set_wd ---- */

static void readdir_init_wd(evaio_req *req, evaio_wd *wd, const char *path, int flags, struct rec *r)
{
    evaio_readdir_init(req, path, flags, rec_cb, r);
    evaio_req_set_wd(req, wd);
}

static void do_readdir(int style, struct rec *r, evaio_wd *wd, const char *path, int flags)
{
    SUBMIT(style, r, evaio_readdir_at(wd, path, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
           readdir_init_wd(&r->own, wd, path, flags, r));
}

static void opendir_init_wd(evaio_req *req, evaio_wd *wd, const char *path, struct rec *r)
{
    evaio_opendir_init(req, path, rec_cb, r);
    evaio_req_set_wd(req, wd);
}

static void do_opendir(int style, struct rec *r, evaio_wd *wd, const char *path)
{
    SUBMIT(style, r,
           wd ? evaio_opendir_at(wd, path, EVAIO_PRI_DEFAULT, rec_cb, r)
              : evaio_opendir(path, EVAIO_PRI_DEFAULT, rec_cb, r),
           opendir_init_wd(&r->own, wd, path, r));
}

static void do_batch(int style, struct rec *r, evaio_dir *dir, int max, int flags)
{
    SUBMIT(style, r, evaio_readdir_batch(dir, max, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_readdir_batch_init(&r->own, dir, max, flags, rec_cb, r));
}

static void do_closedir(int style, struct rec *r, evaio_dir *dir)
{
    SUBMIT(style, r, evaio_closedir(dir, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_closedir_init(&r->own, dir, rec_cb, r));
}

/* ---- helpers ---- */

/* snprintf that fails the test rather than truncate a path. */
__attribute__((format(printf, 3, 4))) static void pathf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    CHECK(n >= 0 && (size_t)n < cap);
}

static void make_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(close(fd), 0);
}

/* A path under the test directory for this style: "NAME-wrap" / "NAME-init". */
static const char *spath(int style, const char *name)
{
    char tmp[256];
    pathf(tmp, sizeof tmp, "%s-%s", name, style == WRAP ? "wrap" : "init");
    return check_path(tmp);
}

static evaio_wd *opened_wd;

static int wd_open_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    opened_wd = req->args.wd_open.handle;
    return 0;
}

static evaio_wd *open_wd(const char *path)
{
    opened_wd = NULL;
    CHECK(evaio_wd_open(path, EVAIO_PRI_DEFAULT, wd_open_cb, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0);
    CHECK(opened_wd != NULL);
    return opened_wd;
}

static void close_wd(evaio_wd *wd)
{
    CHECK(evaio_wd_close(wd, EVAIO_PRI_DEFAULT, NULL, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0);
}

/* What readdir(3) and lstat(2) say about one entry. */
struct sync_ent {
    char *name;
    uint64_t ino;     /* d_ino */
    unsigned char type; /* d_type */
    mode_t mode;      /* lstat */
};

static struct sync_ent *sync_list(const char *path, size_t *n)
{
    DIR *d = opendir(path);
    CHECK(d != NULL);
    size_t cap = 16, count = 0;
    struct sync_ent *ents = malloc(cap * sizeof *ents);
    CHECK(ents != NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (count == cap) {
            cap *= 2;
            ents = realloc(ents, cap * sizeof *ents);
            CHECK(ents != NULL);
        }
        struct stat st;
        CHECK_EQ(fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW), 0);
        ents[count] = (struct sync_ent){ strdup(e->d_name), e->d_ino, e->d_type, st.st_mode };
        CHECK(ents[count].name != NULL);
        count++;
    }
    CHECK_EQ(closedir(d), 0);
    *n = count;
    return ents;
}

static void free_sync_list(struct sync_ent *ents, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ents[i].name);
    free(ents);
}

static const struct sync_ent *find_ent(const struct sync_ent *ents, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ents[i].name, name))
            return &ents[i];
    return NULL;
}

static unsigned char type_of_mode(mode_t m)
{
    return S_ISDIR(m) ? EVAIO_DT_DIR : S_ISREG(m) ? EVAIO_DT_REG : S_ISLNK(m) ? EVAIO_DT_LNK
         : S_ISFIFO(m) ? EVAIO_DT_FIFO : S_ISSOCK(m) ? EVAIO_DT_SOCK : S_ISCHR(m) ? EVAIO_DT_CHR
         : S_ISBLK(m) ? EVAIO_DT_BLK : EVAIO_DT_UNKNOWN;
}

/* The captured listing has exactly the synchronous listing's names, once
 * each; with dents, each inode and type is the one readdir(3) reports and the
 * type (unless unknown) agrees with lstat. */
static void check_same_entries(const struct rec *r, const struct sync_ent *ents, size_t n)
{
    CHECK_EQ(r->nnames, n);
    char *seen = calloc(n ? n : 1, 1);
    CHECK(seen != NULL);
    for (size_t i = 0; i < r->nnames; i++) {
        const struct sync_ent *e = find_ent(ents, n, r->names[i]);
        if (!e) {
            fprintf(stderr, "unexpected name '%s'\n", r->names[i]);
            CHECK(e != NULL);
        }
        CHECK(!seen[e - ents]);
        seen[e - ents] = 1;
        if (r->had_dents) {
            CHECK_EQ(r->dents[i].ino, e->ino);
            CHECK_EQ(r->dents[i].type, e->type);
            if (r->dents[i].type != EVAIO_DT_UNKNOWN)
                CHECK_EQ(r->dents[i].type, type_of_mode(e->mode));
        }
    }
    free(seen);
}

/* The position of each name of the plain listing, for order checks. */
static size_t pos_in(const struct rec *plain, const char *name)
{
    for (size_t i = 0; i < plain->nnames; i++)
        if (!strcmp(plain->names[i], name))
            return i;
    CHECK(!"name not in the plain listing");
    return 0;
}

static int group_of(unsigned char type)
{
    return type == EVAIO_DT_DIR ? 0 : type == EVAIO_DT_UNKNOWN ? 1 : 2;
}

/* r (read with DENTS and `flags`) is in the order `flags` asks for: by group
 * with DIRS_FIRST, by inode with STAT_ORDER, else the directory's order as
 * the plain listing shows it. */
static void check_order(const struct rec *r, const struct rec *plain, int flags)
{
    CHECK(r->had_dents);
    CHECK_EQ(r->nnames, plain->nnames);
    for (size_t i = 1; i < r->nnames; i++) {
        const struct dent_copy *a = &r->dents[i - 1], *b = &r->dents[i];
        if (flags & EVAIO_READDIR_DIRS_FIRST) {
            CHECK(group_of(a->type) <= group_of(b->type));
            if (group_of(a->type) != group_of(b->type))
                continue;
        }
        if (flags & EVAIO_READDIR_STAT_ORDER) {
            CHECK(a->ino <= b->ino);
            if (a->ino != b->ino)
                continue;
        }
        CHECK(pos_in(plain, r->names[i - 1]) < pos_in(plain, r->names[i]));
    }
}

/* ---- readdir's flags ---- */

static void test_readdir_flags(int style)
{
    struct rec r = { 0 }, plain = { 0 };
    begin("readdir flags", style);
    char dir[4096], empty[4096], p[4096];
    pathf(dir, sizeof dir, "%s", spath(style, "flags-dir"));
    pathf(empty, sizeof empty, "%s", spath(style, "flags-empty"));
    CHECK_EQ(mkdir(dir, 0700), 0);
    CHECK_EQ(mkdir(empty, 0700), 0);
    /* Files and directories interleaved in creation order, a symlink to a
     * directory (not a directory), a FIFO. */
    for (int i = 0; i < 40; i++) {
        pathf(p, sizeof p, "%s/%s-%02d", dir, i % 3 ? "file" : "dir", i);
        if (i % 3)
            make_file(p);
        else
            CHECK_EQ(mkdir(p, 0700), 0);
    }
    pathf(p, sizeof p, "%s/link-to-dir", dir);
    CHECK_EQ(symlink("dir-00", p), 0);
    pathf(p, sizeof p, "%s/fifo", dir);
    CHECK_EQ(mkfifo(p, 0600), 0);
    size_t n;
    struct sync_ent *ents = sync_list(dir, &n);
    CHECK_EQ(n, 42);
    int any_unknown = 0;
    for (size_t i = 0; i < n; i++)
        any_unknown |= ents[i].type == DT_UNKNOWN;
    int want_found = any_unknown ? EVAIO_READDIR_FOUND_UNKNOWN : 0;

    /* 0: names only, no dents; found is reported anyway. */
    do_readdir(style, &plain, NULL, dir, 0);
    expect_same(&plain, EVAIO_OP_READDIR, 42, 0);
    CHECK(!plain.had_dents);
    CHECK_EQ(plain.found, want_found);
    check_same_entries(&plain, ents, n);

    /* DENTS: one record per name, same order as without the flag. */
    do_readdir(style, &r, NULL, dir, EVAIO_READDIR_DENTS);
    expect_same(&r, EVAIO_OP_READDIR, 42, 0);
    CHECK(r.had_dents);
    CHECK_EQ(r.found, want_found);
    check_same_entries(&r, ents, n);
    check_order(&r, &plain, 0);
    const struct sync_ent *link = find_ent(ents, n, "link-to-dir");
    for (size_t i = 0; i < r.nnames; i++)
        if (!strcmp(r.names[i], "link-to-dir") && link->type != DT_UNKNOWN)
            CHECK_EQ(r.dents[i].type, EVAIO_DT_LNK);

    /* Each ordering, with dents to check it and without (same names order). */
    static const int orders[] = { EVAIO_READDIR_DIRS_FIRST, EVAIO_READDIR_STAT_ORDER,
                                  EVAIO_READDIR_DIRS_FIRST | EVAIO_READDIR_STAT_ORDER };
    for (size_t k = 0; k < sizeof orders / sizeof orders[0]; k++) {
        do_readdir(style, &r, NULL, dir, orders[k] | EVAIO_READDIR_DENTS);
        expect_same(&r, EVAIO_OP_READDIR, 42, 0);
        CHECK_EQ(r.found, want_found);
        check_same_entries(&r, ents, n);
        check_order(&r, &plain, orders[k]);
        if (orders[k] & EVAIO_READDIR_DIRS_FIRST && !any_unknown) {
            /* The 14 directories first, then the rest. */
            for (size_t i = 0; i < r.nnames; i++)
                CHECK_EQ(r.dents[i].type == EVAIO_DT_DIR, i < 14);
        }
        char **with_dents = r.names;
        size_t count = r.nnames;
        r.names = NULL;
        r.nnames = 0;
        do_readdir(style, &r, NULL, dir, orders[k]);
        expect_same(&r, EVAIO_OP_READDIR, 42, 0);
        CHECK(!r.had_dents);
        CHECK_EQ(r.nnames, count);
        for (size_t i = 0; i < count; i++) {
            CHECK(strcmp(r.names[i], with_dents[i]) == 0);
            free(with_dents[i]);
        }
        free(with_dents);
    }

    /* Empty: 0 entries; names and, with DENTS, dents are not NULL. */
    do_readdir(style, &r, NULL, empty, EVAIO_READDIR_DENTS | EVAIO_READDIR_DIRS_FIRST);
    expect_same(&r, EVAIO_OP_READDIR, 0, 0);
    CHECK(r.had_dents);
    CHECK_EQ(r.found, 0);

    /* A bit beside the valid ones: EINVAL, whatever else is set. */
    static const int bad[] = { EVAIO_READDIR_FOUND_UNKNOWN, EVAIO_READDIR_DENTS | 0x08,
                               EVAIO_READDIR_DIRS_FIRST | 0x100, 0x40, -1, (int)0x80000000u };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        do_readdir(style, &r, NULL, dir, bad[k]);
        expect_fail(&r, EVAIO_OP_READDIR, EINVAL);
    }

    /* With flags, the errors of a plain readdir. */
    pathf(p, sizeof p, "%s/file-01", dir);
    do_readdir(style, &r, NULL, p, EVAIO_READDIR_DENTS);
    expect_fail(&r, EVAIO_OP_READDIR, ENOTDIR);
    pathf(p, sizeof p, "%s/missing", dir);
    do_readdir(style, &r, NULL, p, EVAIO_READDIR_STAT_ORDER);
    expect_fail(&r, EVAIO_OP_READDIR, ENOENT);
    free_sync_list(ents, n);
    rec_reset(&r);
    rec_reset(&plain);
}

/* A NULL path: the wrapper refuses with EFAULT and runs nothing; a
 * caller-owned request fails through its one callback with EFAULT. */
static void expect_null_arg(const struct rec *r, int style, int expect_type)
{
    if (style == WRAP) {
        CHECK(r->rejected);
        CHECK_EQ(r->submit_errno, EFAULT);
        CHECK_EQ(r->calls, 0);
    } else {
        expect_fail(r, expect_type, EFAULT);
    }
}

/* readdir and opendir resolve relative paths against a working directory:
 * the process's cwd is "/" (set in main), the names exist only in the wd. */
static void test_at_forms(int style)
{
    struct rec r = { 0 };
    begin("readdir/opendir relative to a wd", style);
    char base[4096], p[4096];
    pathf(base, sizeof base, "%s", spath(style, "wd-base"));
    CHECK_EQ(mkdir(base, 0700), 0);
    pathf(p, sizeof p, "%s/sub", base);
    CHECK_EQ(mkdir(p, 0700), 0);
    pathf(p, sizeof p, "%s/sub/one", base);
    make_file(p);
    pathf(p, sizeof p, "%s/sub/two", base);
    CHECK_EQ(mkdir(p, 0700), 0);
    pathf(p, sizeof p, "%s/file", base);
    make_file(p);
    CHECK(access("sub", F_OK) != 0); /* not relative to the cwd */
    evaio_wd *wd = open_wd(base);

    do_readdir(style, &r, wd, "sub", EVAIO_READDIR_DENTS | EVAIO_READDIR_DIRS_FIRST);
    expect_same(&r, EVAIO_OP_READDIR, 2, 0);
    if (!r.found) /* the types are known: the directory first */
        CHECK(strcmp(r.names[0], "two") == 0 && strcmp(r.names[1], "one") == 0);
    do_readdir(style, &r, wd, ".", 0);
    expect_same(&r, EVAIO_OP_READDIR, 2, 0); /* sub, file */
    do_readdir(style, &r, wd, "file", 0);
    expect_fail(&r, EVAIO_OP_READDIR, ENOTDIR);
    do_readdir(style, &r, wd, "nothing", 0);
    expect_fail(&r, EVAIO_OP_READDIR, ENOENT);
    /* An absolute path ignores the wd. */
    pathf(p, sizeof p, "%s/sub", base);
    do_readdir(style, &r, wd, p, 0);
    expect_same(&r, EVAIO_OP_READDIR, 2, 0);

    do_opendir(style, &r, wd, "sub");
    expect_same(&r, EVAIO_OP_OPENDIR, 0, 0);
    evaio_dir *dir = r.dir;
    do_batch(style, &r, dir, 10, 0);
    expect_same(&r, EVAIO_OP_READDIR_BATCH, 2, 0);
    do_closedir(style, &r, dir);
    expect_same(&r, EVAIO_OP_CLOSEDIR, 0, 0);
    do_opendir(style, &r, wd, "file");
    expect_fail(&r, EVAIO_OP_OPENDIR, ENOTDIR);
    do_opendir(style, &r, wd, "nothing");
    expect_fail(&r, EVAIO_OP_OPENDIR, ENOENT);
    do_opendir(style, &r, wd, NULL);
    expect_null_arg(&r, style, EVAIO_OP_OPENDIR);
    do_readdir(style, &r, wd, NULL, 0);
    expect_null_arg(&r, style, EVAIO_OP_READDIR);

    /* The wd keeps naming the same directory after it is renamed. */
    char moved[4096];
    pathf(moved, sizeof moved, "%s-moved", base);
    CHECK_EQ(rename(base, moved), 0);
    do_readdir(style, &r, wd, "sub", 0);
    expect_same(&r, EVAIO_OP_READDIR, 2, 0);
    CHECK_EQ(rename(moved, base), 0);
    close_wd(wd);
    rec_reset(&r);
}

/* ---- directory streams ---- */

enum { NMANY = 10000, BATCH = 100 };

static void test_stream_many(int style)
{
    struct rec r = { 0 };
    begin("opendir + readdir_batch of 10000 entries + closedir", style);
    char dir[4096], p[4096];
    pathf(dir, sizeof dir, "%s", spath(style, "many"));
    CHECK_EQ(mkdir(dir, 0700), 0);
    for (int i = 0; i < NMANY; i++) {
        pathf(p, sizeof p, "%s/entry-%05d", dir, i);
        make_file(p);
    }
    int fds = check_count_fds();
    do_opendir(style, &r, NULL, dir);
    expect_same(&r, EVAIO_OP_OPENDIR, 0, 0);
    evaio_dir *stream = r.dir;
    CHECK_EQ(check_count_fds(), fds + 1);

    char *seen = calloc(NMANY, 1);
    CHECK(seen != NULL);
    int total = 0, batches = 0;
    for (;;) {
        /* Every third batch with dents. */
        int flags = batches % 3 == 0 ? EVAIO_READDIR_DENTS : 0;
        do_batch(style, &r, stream, BATCH, flags);
        CHECK(r.result >= 0 && r.result <= BATCH);
        CHECK_EQ(r.had_dents, flags != 0);
        if (r.result == 0)
            break;
        batches++;
        for (size_t i = 0; i < r.nnames; i++) {
            int k;
            CHECK_EQ(sscanf(r.names[i], "entry-%05d", &k), 1);
            CHECK(k >= 0 && k < NMANY);
            CHECK(!seen[k]); /* exactly once */
            seen[k] = 1;
            total++;
            if (flags) {
                struct stat st;
                pathf(p, sizeof p, "%s/%s", dir, r.names[i]);
                CHECK_EQ(lstat(p, &st), 0);
                CHECK_EQ(r.dents[i].ino, st.st_ino);
                CHECK(r.dents[i].type == EVAIO_DT_REG || r.dents[i].type == EVAIO_DT_UNKNOWN);
            }
        }
    }
    CHECK_EQ(total, NMANY);
    CHECK(batches >= NMANY / BATCH);
    /* After the end: 0 again, names not NULL. */
    do_batch(style, &r, stream, BATCH, 0);
    expect_same(&r, EVAIO_OP_READDIR_BATCH, 0, 0);
    do_batch(style, &r, stream, 1, EVAIO_READDIR_DENTS);
    expect_same(&r, EVAIO_OP_READDIR_BATCH, 0, 0);
    CHECK(r.had_dents);

    do_closedir(style, &r, stream);
    expect_same(&r, EVAIO_OP_CLOSEDIR, 0, 0);
    CHECK_EQ(check_count_fds(), fds); /* the stream's descriptor is closed */
    free(seen);
    for (int i = 0; i < NMANY; i++) {
        pathf(p, sizeof p, "%s/entry-%05d", dir, i);
        CHECK_EQ(unlink(p), 0);
    }
    CHECK_EQ(rmdir(dir), 0);
    rec_reset(&r);
}

static void test_stream_errors(int style)
{
    struct rec r = { 0 };
    begin("directory stream errors", style);
    char dir[4096], file[4096], p[4096];
    pathf(dir, sizeof dir, "%s", spath(style, "stream-dir"));
    pathf(file, sizeof file, "%s", spath(style, "stream-file"));
    CHECK_EQ(mkdir(dir, 0700), 0);
    make_file(file);
    for (int i = 0; i < 5; i++) {
        pathf(p, sizeof p, "%s/e%d", dir, i);
        make_file(p);
    }
    int fds = check_count_fds();

    /* opendir: ENOTDIR, ENOENT, EFAULT; nothing left open. */
    do_opendir(style, &r, NULL, file);
    expect_fail(&r, EVAIO_OP_OPENDIR, ENOTDIR);
    pathf(p, sizeof p, "%s/missing", dir);
    do_opendir(style, &r, NULL, p);
    expect_fail(&r, EVAIO_OP_OPENDIR, ENOENT);
    pathf(p, sizeof p, "%s/sub", file);
    do_opendir(style, &r, NULL, p);
    expect_fail(&r, EVAIO_OP_OPENDIR, ENOTDIR);
    do_opendir(style, &r, NULL, NULL);
    expect_null_arg(&r, style, EVAIO_OP_OPENDIR);
    CHECK_EQ(check_count_fds(), fds);

    do_opendir(style, &r, NULL, dir);
    expect_same(&r, EVAIO_OP_OPENDIR, 0, 0);
    evaio_dir *stream = r.dir;

    /* max <= 0, flags other than DENTS: EINVAL, the stream untouched. */
    do_batch(style, &r, stream, 0, 0);
    expect_fail(&r, EVAIO_OP_READDIR_BATCH, EINVAL);
    do_batch(style, &r, stream, -1, 0);
    expect_fail(&r, EVAIO_OP_READDIR_BATCH, EINVAL);
    static const int bad[] = { EVAIO_READDIR_DIRS_FIRST, EVAIO_READDIR_STAT_ORDER,
                               EVAIO_READDIR_DENTS | EVAIO_READDIR_FOUND_UNKNOWN, 0x100, -1 };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        do_batch(style, &r, stream, 10, bad[k]);
        expect_fail(&r, EVAIO_OP_READDIR_BATCH, EINVAL);
    }
    /* A NULL stream: EFAULT, for batches and closedir. */
    do_batch(style, &r, NULL, 10, 0);
    expect_null_arg(&r, style, EVAIO_OP_READDIR_BATCH);
    do_closedir(style, &r, NULL);
    expect_null_arg(&r, style, EVAIO_OP_CLOSEDIR);

    /* Batches of 2: 2, 2, 1, 0. */
    do_batch(style, &r, stream, 2, 0);
    expect_same(&r, EVAIO_OP_READDIR_BATCH, 2, 0);
    do_batch(style, &r, stream, 2, EVAIO_READDIR_DENTS);
    expect_same(&r, EVAIO_OP_READDIR_BATCH, 2, 0);
    do_batch(style, &r, stream, 2, 0);
    expect_same(&r, EVAIO_OP_READDIR_BATCH, 1, 0);
    do_batch(style, &r, stream, 2, 0);
    expect_same(&r, EVAIO_OP_READDIR_BATCH, 0, 0);
    do_closedir(style, &r, stream);
    expect_same(&r, EVAIO_OP_CLOSEDIR, 0, 0);

    /* An empty directory: 0 at once. */
    pathf(p, sizeof p, "%s", spath(style, "stream-empty"));
    CHECK_EQ(mkdir(p, 0700), 0);
    do_opendir(style, &r, NULL, p);
    expect_same(&r, EVAIO_OP_OPENDIR, 0, 0);
    stream = r.dir;
    do_batch(style, &r, stream, INT32_MAX, EVAIO_READDIR_DENTS);
    expect_same(&r, EVAIO_OP_READDIR_BATCH, 0, 0);
    do_closedir(style, &r, stream);
    expect_same(&r, EVAIO_OP_CLOSEDIR, 0, 0);
    CHECK_EQ(check_count_fds(), fds);
    rec_reset(&r);
}

/* Batches of one stream started all at once, on several workers: each one
 * either runs alone or fails with EBUSY without touching the stream, so no
 * entry is returned twice and, reading on until the end, none is lost. */
#define NCONC 16

static void test_stream_concurrent(void)
{
    static struct rec recs[NCONC];
    struct rec r = { 0 };
    begin("concurrent batches of one stream", WRAP);
    char dir[4096], p[4096];
    pathf(dir, sizeof dir, "%s", check_path("conc-stream"));
    CHECK_EQ(mkdir(dir, 0700), 0);
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        pathf(p, sizeof p, "%s/c%04d", dir, i);
        make_file(p);
    }
    evaio_ctx_set_max_parallel(NULL, 4);
    evaio_ctx_set_min_parallel(NULL, 4);
    do_opendir(WRAP, &r, NULL, dir);
    expect_same(&r, EVAIO_OP_OPENDIR, 0, 0);
    evaio_dir *stream = r.dir;
    char *seen = calloc(N, 1);
    CHECK(seen != NULL);
    int total = 0, busy = 0, done = 0;
    while (!done) {
        for (int i = 0; i < NCONC; i++) {
            rec_reset(&recs[i]);
            if (i % 2) {
                recs[i].expect_req = evaio_readdir_batch(stream, 50, 0, 0, rec_cb, &recs[i]);
                CHECK(recs[i].expect_req != NULL);
            } else {
                evaio_readdir_batch_init(&recs[i].own, stream, 50, EVAIO_READDIR_DENTS, rec_cb, &recs[i]);
                recs[i].expect_req = &recs[i].own;
                CHECK_EQ(evaio_start(&recs[i].own), 0);
            }
        }
        CHECK_EQ(evaio_wait(), 0);
        for (int i = 0; i < NCONC; i++) {
            CHECK_EQ(recs[i].calls, 1);
            if (recs[i].result < 0) {
                CHECK_EQ(recs[i].errorno, EBUSY);
                busy++;
                continue;
            }
            if (recs[i].result == 0)
                done = 1;
            for (size_t k = 0; k < recs[i].nnames; k++) {
                int idx;
                CHECK_EQ(sscanf(recs[i].names[k], "c%04d", &idx), 1);
                CHECK(idx >= 0 && idx < N && !seen[idx]);
                seen[idx] = 1;
                total++;
            }
        }
    }
    CHECK_EQ(total, N);
    fprintf(stderr, "   (%d of the batches found the stream busy)\n", busy);
    do_closedir(WRAP, &r, stream);
    expect_same(&r, EVAIO_OP_CLOSEDIR, 0, 0);
    evaio_ctx_set_min_parallel(NULL, 0);
    free(seen);
    for (int i = 0; i < NCONC; i++)
        rec_reset(&recs[i]);
    rec_reset(&r);
}

/* ---- a batch held in the middle, to see the stream busy ---- */

/* The library reads directories with syscall(SYS_getdents64, ...).  This
 * definition takes the place of libc's (the executable exports it and its
 * symbols come first for the library too: see tests/ops.cmake) and, while the gate is armed, holds the first
 * getdents64 call until the test opens the gate: a batch is then certainly
 * running while the test starts others. */
static long (*real_syscall)(long, ...);
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_armed, gate_entered, gate_open;

__attribute__((visibility("default"))) long syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long arg[6];
    for (int i = 0; i < 6; i++)
        arg[i] = va_arg(ap, long);
    va_end(ap);
#ifdef SYS_getdents64
    if (number == SYS_getdents64) {
        pthread_mutex_lock(&gate_lock);
        if (gate_armed) {
            gate_armed = 0;
            gate_entered = 1;
            pthread_cond_broadcast(&gate_cond);
            while (!gate_open)
                pthread_cond_wait(&gate_cond, &gate_lock);
        }
        pthread_mutex_unlock(&gate_lock);
    }
#endif
    return real_syscall(number, arg[0], arg[1], arg[2], arg[3], arg[4], arg[5]);
}

static int gate_get(int *flag)
{
    pthread_mutex_lock(&gate_lock);
    int v = *flag;
    pthread_mutex_unlock(&gate_lock);
    return v;
}

static void gate_set(int *flag, int v)
{
    pthread_mutex_lock(&gate_lock);
    *flag = v;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

/* Runs callbacks until r's has run (other requests may stay in flight). */
static void poll_until_called(struct rec *r)
{
    double deadline = check_now() + 30.0;
    while (!r->calls) {
        CHECK(check_now() < deadline);
        CHECK(evaio_poll() == 0 || errno == EAGAIN);
        if (!r->calls)
            check_sleep(0.001);
    }
    CHECK_EQ(r->calls, 1);
}

static void test_stream_busy(int style)
{
#ifndef SYS_getdents64
    (void)style;
    fprintf(stderr, "-- stream busy: not on this system (no getdents64)\n");
#else
    struct rec a = { 0 }, b = { 0 }, c = { 0 };
    begin("a batch in flight makes the stream busy", style);
    char dir[4096], p[4096];
    pathf(dir, sizeof dir, "%s", spath(style, "busy"));
    CHECK_EQ(mkdir(dir, 0700), 0);
    for (int i = 0; i < 5; i++) {
        pathf(p, sizeof p, "%s/b%d", dir, i);
        make_file(p);
    }
    do_opendir(style, &a, NULL, dir);
    expect_same(&a, EVAIO_OP_OPENDIR, 0, 0);
    evaio_dir *stream = a.dir;
    evaio_ctx_set_max_parallel(NULL, 4); /* workers besides the held one */

    /* Batch A starts reading and is held inside getdents64. */
    gate_entered = gate_open = 0;
    gate_set(&gate_armed, 1);
    rec_reset(&a);
    if (style == WRAP) {
        a.expect_req = evaio_readdir_batch(stream, 10, 0, EVAIO_PRI_DEFAULT, rec_cb, &a);
        CHECK(a.expect_req != NULL);
    } else {
        evaio_readdir_batch_init(&a.own, stream, 10, 0, rec_cb, &a);
        a.expect_req = &a.own;
        CHECK_EQ(evaio_start(&a.own), 0);
    }
    double deadline = check_now() + 30.0;
    while (!gate_get(&gate_entered)) {
        CHECK(check_now() < deadline);
        check_sleep(0.001);
    }

    /* Meanwhile another batch, and closedir: EBUSY, the stream untouched. */
    rec_reset(&b);
    if (style == WRAP) {
        b.expect_req = evaio_readdir_batch(stream, 10, EVAIO_READDIR_DENTS, EVAIO_PRI_DEFAULT, rec_cb, &b);
        CHECK(b.expect_req != NULL);
    } else {
        evaio_readdir_batch_init(&b.own, stream, 10, EVAIO_READDIR_DENTS, rec_cb, &b);
        b.expect_req = &b.own;
        CHECK_EQ(evaio_start(&b.own), 0);
    }
    poll_until_called(&b);
    expect_fail(&b, EVAIO_OP_READDIR_BATCH, EBUSY);
    rec_reset(&c);
    if (style == WRAP) {
        c.expect_req = evaio_closedir(stream, EVAIO_PRI_DEFAULT, rec_cb, &c);
        CHECK(c.expect_req != NULL);
    } else {
        evaio_closedir_init(&c.own, stream, rec_cb, &c);
        c.expect_req = &c.own;
        CHECK_EQ(evaio_start(&c.own), 0);
    }
    poll_until_called(&c);
    expect_fail(&c, EVAIO_OP_CLOSEDIR, EBUSY);
    CHECK_EQ(a.calls, 0); /* still held */

    /* Released: A gets all 5 entries; the stream works on, then closes. */
    gate_set(&gate_open, 1);
    CHECK_EQ(evaio_wait(), 0);
    expect_same(&a, EVAIO_OP_READDIR_BATCH, 5, 0);
    CHECK(a.req_seen == a.expect_req);
    do_batch(style, &a, stream, 10, 0);
    expect_same(&a, EVAIO_OP_READDIR_BATCH, 0, 0);
    do_closedir(style, &a, stream);
    expect_same(&a, EVAIO_OP_CLOSEDIR, 0, 0);
    rec_reset(&a);
    rec_reset(&b);
    rec_reset(&c);
#endif
}

int main(void)
{
    main_thread = pthread_self();
    real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    CHECK(real_syscall != NULL);
    umask(022);
    CHECK(evaio_default_ctx() != NULL);
    check_tmpdir();
    CHECK_EQ(chdir("/"), 0); /* relative paths must come from a wd */
    int fds = check_count_fds();

    for (int style = WRAP; style <= INIT; style++) {
        test_readdir_flags(style);
        test_at_forms(style);
        test_stream_errors(style);
        test_stream_many(style);
        test_stream_busy(style);
    }
    test_stream_concurrent();

    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    CHECK_EQ(check_count_fds(), fds);
    fprintf(stderr, "test_ops_dir: all passed\n");
    return 0;
}
