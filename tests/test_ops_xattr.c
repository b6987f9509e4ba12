/* Per-operation tests for the extended attributes: getxattr, setxattr,
 * listxattr, removexattr, their l- (the symlink itself) and f- (a
 * descriptor) variants.  Every case runs through both API styles (the
 * library-allocated wrapper evaio_OP and the caller-owned evaio_OP_init +
 * evaio_start), counts callbacks (exactly one each), compares the result and
 * errno with what the synchronous call gives, and checks the effect on the
 * file with the synchronous calls.  Path operations also run through working
 * directories: evaio_OP_at(wd, ...) and evaio_req_set_wd after an init.
 *
 * Attributes live in the user. namespace, which needs a filesystem with
 * user xattrs where the test directory is (ext4, xfs, btrfs; tmpfs since
 * Linux 6.6); without it the test skips. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/xattr.h>
#endif

/* The huge-length getxattr below must fail with ENOMEM, as plain malloc
 * does; the sanitizers' allocators would otherwise abort on it.  (Test
 * programs inherit the project's hidden visibility, so export the hooks.) */
#define TEST_EXPORT __attribute__((visibility("default"), used))
TEST_EXPORT const char *__asan_default_options(void);
TEST_EXPORT const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
TEST_EXPORT const char *__tsan_default_options(void);
TEST_EXPORT const char *__tsan_default_options(void) { return "allocator_may_return_null=1"; }

#define REC_OUTPUTS                                                                     \
    const void *buf_seen;  /* get: req->args.OP.buf */                                  \
    unsigned char *bytes;  /* get: the value (when length > 0); list: the names */       \
    size_t nbytes;
#include "op_harness.h"

#define PRI EVAIO_PRI_DEFAULT

static void capture_bytes(struct rec *r, const void *p, size_t n)
{
    free(r->bytes);
    r->bytes = malloc(n ? n : 1);
    CHECK(r->bytes != NULL);
    memcpy(r->bytes, p, n);
    r->nbytes = n;
}

static void capture_get(struct rec *r, evaio_req *req, const void *buf, size_t length)
{
    r->buf_seen = buf;
    if (req->result >= 0) {
        CHECK(buf != NULL); /* the caller's, or the library's (also for length 0) */
        if (length) {
            CHECK((size_t)req->result <= length);
            capture_bytes(r, buf, (size_t)req->result);
        }
    }
}

static void capture_list(struct rec *r, evaio_req *req, const char *names)
{
    if (req->result < 0) {
        CHECK(names == NULL); /* outputs start NULL and stay so on failure */
        return;
    }
    CHECK(names != NULL); /* also for an empty list */
    if (req->result > 0)
        CHECK_EQ(names[req->result - 1], 0); /* every name ends with a NUL */
    capture_bytes(r, names, (size_t)req->result);
}

static void rec_capture(struct rec *r, evaio_req *req)
{
    switch (req->type) {
    case EVAIO_OP_GETXATTR:
        capture_get(r, req, req->args.getxattr.buf, req->args.getxattr.length);
        break;
    case EVAIO_OP_LGETXATTR:
        capture_get(r, req, req->args.lgetxattr.buf, req->args.lgetxattr.length);
        break;
    case EVAIO_OP_FGETXATTR:
        capture_get(r, req, req->args.fgetxattr.buf, req->args.fgetxattr.length);
        break;
    case EVAIO_OP_LISTXATTR:
        capture_list(r, req, req->args.listxattr.names);
        break;
    case EVAIO_OP_LLISTXATTR:
        capture_list(r, req, req->args.llistxattr.names);
        break;
    case EVAIO_OP_FLISTXATTR:
        capture_list(r, req, req->args.flistxattr.names);
        break;
    default:
        break;
    }
}

static void rec_reset_outputs(struct rec *r)
{
    free(r->bytes);
    r->bytes = NULL;
    r->nbytes = 0;
    r->buf_seen = NULL;
}

/* ---- what an operation acts on ---- */

/* The three variants of each operation: getxattr (a path, following a final
 * symlink), lgetxattr (a path, not following it), fgetxattr (a descriptor). */
enum via { BY_PATH, BY_LINK, BY_FD };
static const char *const via_names[] = { "path", "path, no follow", "fd" };

struct target {
    enum via via;
    const char *path; /* BY_PATH, BY_LINK: as given to the operation */
    evaio_wd *wd;     /* BY_PATH, BY_LINK: what `path` resolves against (NULL: the cwd) */
    int fd;           /* BY_FD */
    const char *abs;  /* the same file, for the synchronous checks (not for BY_FD) */
};

static void begin_via(const char *what, int style, enum via via)
{
    fprintf(stderr, "-- %s, %s (%s)\n", what, via_names[via], style_names[style]);
}

static int get_type(const struct target *t)
{
    static const int types[] = { EVAIO_OP_GETXATTR, EVAIO_OP_LGETXATTR, EVAIO_OP_FGETXATTR };
    return types[t->via];
}

static int set_type(const struct target *t)
{
    static const int types[] = { EVAIO_OP_SETXATTR, EVAIO_OP_LSETXATTR, EVAIO_OP_FSETXATTR };
    return types[t->via];
}

static int list_type(const struct target *t)
{
    static const int types[] = { EVAIO_OP_LISTXATTR, EVAIO_OP_LLISTXATTR, EVAIO_OP_FLISTXATTR };
    return types[t->via];
}

static int remove_type(const struct target *t)
{
    static const int types[] = { EVAIO_OP_REMOVEXATTR, EVAIO_OP_LREMOVEXATTR, EVAIO_OP_FREMOVEXATTR };
    return types[t->via];
}

/* ---- per-operation submitters, both styles; a wd through _at or set_wd ---- */

static void do_get(int style, struct rec *r, const struct target *t, const char *name, void *buf,
                   size_t len)
{
    switch (t->via) {
    case BY_PATH:
        SUBMIT(style, r,
               t->wd ? evaio_getxattr_at(t->wd, t->path, name, buf, len, PRI, rec_cb, r)
                     : evaio_getxattr(t->path, name, buf, len, PRI, rec_cb, r),
               (evaio_getxattr_init(&r->own, t->path, name, buf, len, rec_cb, r),
                evaio_req_set_wd(&r->own, t->wd)));
        break;
    case BY_LINK:
        SUBMIT(style, r,
               t->wd ? evaio_lgetxattr_at(t->wd, t->path, name, buf, len, PRI, rec_cb, r)
                     : evaio_lgetxattr(t->path, name, buf, len, PRI, rec_cb, r),
               (evaio_lgetxattr_init(&r->own, t->path, name, buf, len, rec_cb, r),
                evaio_req_set_wd(&r->own, t->wd)));
        break;
    case BY_FD:
        SUBMIT(style, r, evaio_fgetxattr(t->fd, name, buf, len, PRI, rec_cb, r),
               evaio_fgetxattr_init(&r->own, t->fd, name, buf, len, rec_cb, r));
        break;
    }
}

static void do_set(int style, struct rec *r, const struct target *t, const char *name,
                   const void *buf, size_t len, int flags)
{
    switch (t->via) {
    case BY_PATH:
        SUBMIT(style, r,
               t->wd ? evaio_setxattr_at(t->wd, t->path, name, buf, len, flags, PRI, rec_cb, r)
                     : evaio_setxattr(t->path, name, buf, len, flags, PRI, rec_cb, r),
               (evaio_setxattr_init(&r->own, t->path, name, buf, len, flags, rec_cb, r),
                evaio_req_set_wd(&r->own, t->wd)));
        break;
    case BY_LINK:
        SUBMIT(style, r,
               t->wd ? evaio_lsetxattr_at(t->wd, t->path, name, buf, len, flags, PRI, rec_cb, r)
                     : evaio_lsetxattr(t->path, name, buf, len, flags, PRI, rec_cb, r),
               (evaio_lsetxattr_init(&r->own, t->path, name, buf, len, flags, rec_cb, r),
                evaio_req_set_wd(&r->own, t->wd)));
        break;
    case BY_FD:
        SUBMIT(style, r, evaio_fsetxattr(t->fd, name, buf, len, flags, PRI, rec_cb, r),
               evaio_fsetxattr_init(&r->own, t->fd, name, buf, len, flags, rec_cb, r));
        break;
    }
}

static void do_list(int style, struct rec *r, const struct target *t)
{
    switch (t->via) {
    case BY_PATH:
        SUBMIT(style, r,
               t->wd ? evaio_listxattr_at(t->wd, t->path, PRI, rec_cb, r)
                     : evaio_listxattr(t->path, PRI, rec_cb, r),
               (evaio_listxattr_init(&r->own, t->path, rec_cb, r), evaio_req_set_wd(&r->own, t->wd)));
        break;
    case BY_LINK:
        SUBMIT(style, r,
               t->wd ? evaio_llistxattr_at(t->wd, t->path, PRI, rec_cb, r)
                     : evaio_llistxattr(t->path, PRI, rec_cb, r),
               (evaio_llistxattr_init(&r->own, t->path, rec_cb, r), evaio_req_set_wd(&r->own, t->wd)));
        break;
    case BY_FD:
        SUBMIT(style, r, evaio_flistxattr(t->fd, PRI, rec_cb, r),
               evaio_flistxattr_init(&r->own, t->fd, rec_cb, r));
        break;
    }
}

static void do_remove(int style, struct rec *r, const struct target *t, const char *name)
{
    switch (t->via) {
    case BY_PATH:
        SUBMIT(style, r,
               t->wd ? evaio_removexattr_at(t->wd, t->path, name, PRI, rec_cb, r)
                     : evaio_removexattr(t->path, name, PRI, rec_cb, r),
               (evaio_removexattr_init(&r->own, t->path, name, rec_cb, r),
                evaio_req_set_wd(&r->own, t->wd)));
        break;
    case BY_LINK:
        SUBMIT(style, r,
               t->wd ? evaio_lremovexattr_at(t->wd, t->path, name, PRI, rec_cb, r)
                     : evaio_lremovexattr(t->path, name, PRI, rec_cb, r),
               (evaio_lremovexattr_init(&r->own, t->path, name, rec_cb, r),
                evaio_req_set_wd(&r->own, t->wd)));
        break;
    case BY_FD:
        SUBMIT(style, r, evaio_fremovexattr(t->fd, name, PRI, rec_cb, r),
               evaio_fremovexattr_init(&r->own, t->fd, name, rec_cb, r));
        break;
    }
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
    CHECK_EQ(write(fd, "data", 4), 4);
    CHECK_EQ(close(fd), 0);
}

/* A path under the test directory for this case: "NAME-VIA-wrap" / "-init". */
static const char *case_path(int style, enum via via, const char *name)
{
    static const char *const vias[] = { "p", "l", "f" };
    char tmp[256];
    pathf(tmp, sizeof tmp, "%s-%s-%s", name, vias[via], style == WRAP ? "wrap" : "init");
    return check_path(tmp);
}

/* The number of open descriptors of this process. */
/* A NULL path or name: the wrapper refuses with EFAULT and runs nothing; a
 * caller-owned request fails through its one callback with EFAULT. */
static void expect_efault(const struct rec *r, int style, int expect_type)
{
    if (style == WRAP) {
        CHECK(r->rejected);
        CHECK_EQ(r->submit_errno, EFAULT);
        CHECK_EQ(r->calls, 0);
    } else {
        expect_fail(r, expect_type, EFAULT);
    }
}

/* ---- working directories ---- */

static int wd_open_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    CHECK(req->args.wd_open.handle != NULL);
    *(evaio_wd **)req->data = req->args.wd_open.handle;
    return 0;
}

static evaio_wd *open_wd(const char *path)
{
    evaio_wd *wd = NULL;
    CHECK(evaio_wd_open(path, PRI, wd_open_cb, &wd) != NULL);
    CHECK_EQ(evaio_wait(), 0);
    CHECK(wd != NULL);
    return wd;
}

static int wd_close_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    ++*(int *)req->data;
    return 0;
}

static void close_wd(evaio_wd *wd)
{
    int closed = 0;
    CHECK(evaio_wd_close(wd, PRI, wd_close_cb, &closed) != NULL);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(closed, 1);
}

#ifdef __linux__

/* ---- a list that grows between the size query and the listing ----
 *
 * The test program defines listxattr, llistxattr and flistxattr, so the
 * library's calls come here first (a program's definition takes precedence
 * over the C library's).  When armed, the first size query answers the size
 * as it is, then adds an attribute: the listing that follows finds no room
 * (ERANGE) and the executor must ask again. */
#include <dlfcn.h>

static int grow_armed;       /* atomic: the next size query grows the list */
static int grow_done;        /* atomic: how many times it did */
static const char *grow_path; /* the file to grow, set while armed */

typedef ssize_t (*list_path_fn)(const char *path, char *list, size_t size);
typedef ssize_t (*list_fd_fn)(int fd, char *list, size_t size);

static void *real_fn(void **cache, const char *name)
{
    void *fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (!fn) {
        fn = dlsym(RTLD_NEXT, name);
        CHECK(fn != NULL);
        __atomic_store_n(cache, fn, __ATOMIC_RELEASE);
    }
    return fn;
}

static ssize_t after_list(ssize_t n, size_t size)
{
    if (size == 0 && n >= 0 && __atomic_exchange_n(&grow_armed, 0, __ATOMIC_ACQ_REL)) {
        CHECK_EQ(setxattr(grow_path, "user.grown-while-listing", "g", 1, 0), 0);
        __atomic_fetch_add(&grow_done, 1, __ATOMIC_RELEASE);
    }
    return n;
}

TEST_EXPORT ssize_t listxattr(const char *path, char *list, size_t size);
TEST_EXPORT ssize_t listxattr(const char *path, char *list, size_t size)
{
    static void *cache;
    list_path_fn real = (list_path_fn)real_fn(&cache, "listxattr");
    return after_list(real(path, list, size), size);
}

TEST_EXPORT ssize_t llistxattr(const char *path, char *list, size_t size);
TEST_EXPORT ssize_t llistxattr(const char *path, char *list, size_t size)
{
    static void *cache;
    list_path_fn real = (list_path_fn)real_fn(&cache, "llistxattr");
    return after_list(real(path, list, size), size);
}

TEST_EXPORT ssize_t flistxattr(int fd, char *list, size_t size);
TEST_EXPORT ssize_t flistxattr(int fd, char *list, size_t size)
{
    static void *cache;
    list_fd_fn real = (list_fd_fn)real_fn(&cache, "flistxattr");
    return after_list(real(fd, list, size), size);
}

/* ---- the synchronous calls the results are compared with ---- */

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

static ssize_t sync_get(const struct target *t, const char *name, void *buf, size_t len)
{
    return t->via == BY_PATH ? getxattr(t->abs, name, buf, len)
           : t->via == BY_LINK ? lgetxattr(t->abs, name, buf, len)
                               : fgetxattr(t->fd, name, buf, len);
}

static int sync_set(const struct target *t, const char *name, const void *buf, size_t len, int flags)
{
    return t->via == BY_PATH ? setxattr(t->abs, name, buf, len, flags)
           : t->via == BY_LINK ? lsetxattr(t->abs, name, buf, len, flags)
                               : fsetxattr(t->fd, name, buf, len, flags);
}

static ssize_t sync_list(const struct target *t, char *buf, size_t len)
{
    return t->via == BY_PATH ? listxattr(t->abs, buf, len)
           : t->via == BY_LINK ? llistxattr(t->abs, buf, len)
                               : flistxattr(t->fd, buf, len);
}

static int sync_remove(const struct target *t, const char *name)
{
    return t->via == BY_PATH ? removexattr(t->abs, name)
           : t->via == BY_LINK ? lremovexattr(t->abs, name)
                               : fremovexattr(t->fd, name);
}

/* The attribute `name` of `path` (not following a final symlink) is `len`
 * bytes equal to `value`; `value` NULL: the attribute does not exist. */
static void expect_attr(const char *path, const char *name, const void *value, size_t len)
{
    static char buf[65536];
    ssize_t n = lgetxattr(path, name, buf, sizeof buf);
    if (!value) {
        CHECK_EQ(n, -1);
        CHECK_EQ(errno, ENODATA);
        return;
    }
    CHECK_EQ(n, (ssize_t)len);
    CHECK(memcmp(buf, value, len) == 0);
}

/* Whether a NUL-separated list holds `name`. */
static int list_has(const unsigned char *list, size_t len, const char *name)
{
    for (size_t i = 0; i < len; i += strlen((const char *)list + i) + 1)
        if (!strcmp((const char *)list + i, name))
            return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of a NUL-separated list, sorted; *n gets their number. */
static const char **split_sorted(const unsigned char *list, size_t len, size_t *n)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i += strlen((const char *)list + i) + 1)
        count++;
    const char **names = malloc((count ? count : 1) * sizeof *names);
    CHECK(names != NULL);
    count = 0;
    for (size_t i = 0; i < len; i += strlen((const char *)list + i) + 1) {
        CHECK(list[i] != 0); /* no empty name */
        names[count++] = (const char *)list + i;
    }
    qsort(names, count, sizeof *names, cmp_str);
    *n = count;
    return names;
}

/* The listing the callback saw equals the synchronous one, up to order. */
static void expect_same_list(const struct rec *r, const struct target *t)
{
    static char sync_buf[65536];
    ssize_t len = sync_list(t, sync_buf, sizeof sync_buf);
    CHECK(len >= 0);
    CHECK_EQ(r->result, len);
    CHECK_EQ(r->nbytes, (size_t)len);
    size_t na, nb;
    const char **a = split_sorted(r->bytes, r->nbytes, &na);
    const char **b = split_sorted((const unsigned char *)sync_buf, (size_t)len, &nb);
    CHECK_EQ(na, nb);
    for (size_t i = 0; i < na; i++) {
        CHECK(strcmp(a[i], b[i]) == 0);
        if (i)
            CHECK(strcmp(a[i - 1], a[i]) != 0);
    }
    free(a);
    free(b);
}

/* A target for a regular file of this case: by path, by path without
 * following (the same thing for a file), or by an open descriptor. */
static struct target file_target(int style, enum via via, const char *name, char *path, size_t cap)
{
    pathf(path, cap, "%s", case_path(style, via, name));
    make_file(path);
    struct target t = { via, path, NULL, -1, path };
    if (via == BY_FD) {
        t.fd = open(path, O_RDONLY | O_CLOEXEC); /* reading is enough, also for set and remove */
        CHECK(t.fd >= 0);
    }
    return t;
}

static void drop_target(struct target *t)
{
    if (t->fd >= 0)
        CHECK_EQ(close(t->fd), 0);
    t->fd = -1;
}

/* ---- set, get, list and remove on a file, every variant ---- */

static void test_roundtrip(int style, enum via via)
{
    struct rec r = { 0 };
    char file[4096], buf[64];
    int err;
    begin_via("round trip", style, via);
    struct target t = file_target(style, via, "roundtrip", file, sizeof file);

    /* A new attribute. */
    do_set(style, &r, &t, "user.greeting", "hello", 5, 0);
    expect_same(&r, set_type(&t), 0, 0);
    expect_attr(file, "user.greeting", "hello", 5);

    /* Into the caller's buffer: only the value's bytes are written. */
    memset(buf, 'x', sizeof buf);
    do_get(style, &r, &t, "user.greeting", buf, sizeof buf);
    expect_same(&r, get_type(&t), 5, 0);
    CHECK(r.buf_seen == buf);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ(buf[5], 'x');

    /* NULL: a library buffer of `length` bytes, in req->args.OP.buf. */
    do_get(style, &r, &t, "user.greeting", NULL, 64);
    expect_same(&r, get_type(&t), 5, 0);
    CHECK(r.buf_seen != NULL && r.buf_seen != buf);
    CHECK_EQ(r.nbytes, 5);
    CHECK(memcmp(r.bytes, "hello", 5) == 0);

    /* Length 0: the value's size only; the caller's buffer is not touched. */
    memset(buf, 'x', sizeof buf);
    CHECK_EQ(sync_get(&t, "user.greeting", NULL, 0), 5);
    do_get(style, &r, &t, "user.greeting", buf, 0);
    expect_same(&r, get_type(&t), 5, 0);
    for (size_t i = 0; i < sizeof buf; i++)
        CHECK_EQ(buf[i], 'x');
    /* ... and with NULL: the library's buffer is not handed on as room for the value. */
    do_get(style, &r, &t, "user.greeting", NULL, 0);
    expect_same(&r, get_type(&t), 5, 0);
    CHECK(r.buf_seen != NULL);

    /* Too small: ERANGE, as the syscall says. */
    err = SYNC_ERRNO(sync_get(&t, "user.greeting", buf, 4));
    CHECK_EQ(err, ERANGE);
    do_get(style, &r, &t, "user.greeting", buf, 4);
    expect_fail(&r, get_type(&t), err);
    do_get(style, &r, &t, "user.greeting", NULL, 1);
    expect_fail(&r, get_type(&t), err);
    /* Exactly the value's size: fine. */
    do_get(style, &r, &t, "user.greeting", buf, 5);
    expect_same(&r, get_type(&t), 5, 0);

    /* A missing attribute: ENODATA. */
    err = SYNC_ERRNO(sync_get(&t, "user.missing", buf, sizeof buf));
    CHECK_EQ(err, ENODATA);
    do_get(style, &r, &t, "user.missing", buf, sizeof buf);
    expect_fail(&r, get_type(&t), err);
    do_get(style, &r, &t, "user.missing", NULL, 0);
    expect_fail(&r, get_type(&t), err);

    /* CREATE on an existing attribute: EEXIST, the value stays. */
    err = SYNC_ERRNO(sync_set(&t, "user.greeting", "other", 5, XATTR_CREATE));
    CHECK_EQ(err, EEXIST);
    do_set(style, &r, &t, "user.greeting", "other", 5, EVAIO_XATTR_CREATE);
    expect_fail(&r, set_type(&t), err);
    expect_attr(file, "user.greeting", "hello", 5);
    /* REPLACE on an existing one: replaced (a longer value). */
    do_set(style, &r, &t, "user.greeting", "good morning", 12, EVAIO_XATTR_REPLACE);
    expect_same(&r, set_type(&t), 0, 0);
    expect_attr(file, "user.greeting", "good morning", 12);
    /* Flags 0 replaces too (a shorter value). */
    do_set(style, &r, &t, "user.greeting", "hi", 2, 0);
    expect_same(&r, set_type(&t), 0, 0);
    expect_attr(file, "user.greeting", "hi", 2);
    /* REPLACE on a missing one: ENODATA, nothing created. */
    err = SYNC_ERRNO(sync_set(&t, "user.new", "v", 1, XATTR_REPLACE));
    CHECK_EQ(err, ENODATA);
    do_set(style, &r, &t, "user.new", "v", 1, EVAIO_XATTR_REPLACE);
    expect_fail(&r, set_type(&t), err);
    expect_attr(file, "user.new", NULL, 0);
    /* CREATE on a missing one: created. */
    do_set(style, &r, &t, "user.new", "v", 1, EVAIO_XATTR_CREATE);
    expect_same(&r, set_type(&t), 0, 0);
    expect_attr(file, "user.new", "v", 1);
    /* The system's own spelling of the flags works the same. */
    do_set(style, &r, &t, "user.new", "w", 1, XATTR_REPLACE);
    expect_same(&r, set_type(&t), 0, 0);
    expect_attr(file, "user.new", "w", 1);
    /* Unknown flags: EINVAL, nothing changed. */
    err = SYNC_ERRNO(sync_set(&t, "user.new", "zz", 2, 4));
    CHECK_EQ(err, EINVAL);
    do_set(style, &r, &t, "user.new", "zz", 2, 4);
    expect_fail(&r, set_type(&t), err);
    do_set(style, &r, &t, "user.other", "zz", 2, -1);
    expect_fail(&r, set_type(&t), err);
    expect_attr(file, "user.new", "w", 1);
    expect_attr(file, "user.other", NULL, 0);

    /* Bytes, not a string: NULs and every byte value survive. */
    unsigned char bin[1000];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char)(i * 7);
    do_set(style, &r, &t, "user.binary", bin, sizeof bin, 0);
    expect_same(&r, set_type(&t), 0, 0);
    expect_attr(file, "user.binary", bin, sizeof bin);
    do_get(style, &r, &t, "user.binary", NULL, 4096);
    expect_same(&r, get_type(&t), sizeof bin, 0);
    CHECK_EQ(r.nbytes, sizeof bin);
    CHECK(memcmp(r.bytes, bin, sizeof bin) == 0);

    /* An empty value: NULL with length 0. */
    do_set(style, &r, &t, "user.empty", NULL, 0, 0);
    expect_same(&r, set_type(&t), 0, 0);
    expect_attr(file, "user.empty", "", 0);
    do_get(style, &r, &t, "user.empty", buf, sizeof buf);
    expect_same(&r, get_type(&t), 0, 0);
    /* NULL with a length: EFAULT, as the syscall, nothing set. */
    err = SYNC_ERRNO(sync_set(&t, "user.nullbuf", NULL, 5, 0));
    CHECK_EQ(err, EFAULT);
    do_set(style, &r, &t, "user.nullbuf", NULL, 5, 0);
    expect_fail(&r, set_type(&t), err);
    expect_attr(file, "user.nullbuf", NULL, 0);
    /* Larger than the system allows (64 KiB): E2BIG. */
    size_t biglen = 70000;
    char *big = calloc(1, biglen);
    CHECK(big != NULL);
    err = SYNC_ERRNO(sync_set(&t, "user.big", big, biglen, 0));
    CHECK_EQ(err, E2BIG);
    do_set(style, &r, &t, "user.big", big, biglen, 0);
    expect_fail(&r, set_type(&t), err);
    free(big);

    /* The list: the same names as the syscall lists. */
    do_list(style, &r, &t);
    CHECK(r.result > 0);
    expect_same_list(&r, &t);
    static const char *const present[] = { "user.greeting", "user.new", "user.binary", "user.empty" };
    for (size_t i = 0; i < sizeof present / sizeof *present; i++)
        CHECK(list_has(r.bytes, r.nbytes, present[i]));
    CHECK(!list_has(r.bytes, r.nbytes, "user.missing"));
    CHECK(!list_has(r.bytes, r.nbytes, "user.nullbuf"));

    /* Remove: gone; again: ENODATA. */
    do_remove(style, &r, &t, "user.greeting");
    expect_same(&r, remove_type(&t), 0, 0);
    expect_attr(file, "user.greeting", NULL, 0);
    err = SYNC_ERRNO(sync_remove(&t, "user.greeting"));
    CHECK_EQ(err, ENODATA);
    do_remove(style, &r, &t, "user.greeting");
    expect_fail(&r, remove_type(&t), err);
    expect_attr(file, "user.new", "w", 1); /* the others stay */
    do_list(style, &r, &t);
    expect_same_list(&r, &t);
    CHECK(!list_has(r.bytes, r.nbytes, "user.greeting"));
    CHECK(list_has(r.bytes, r.nbytes, "user.new"));

    /* Remove them all: the list has no user. name left (other namespaces,
     * such as security., may remain, as the syscall shows). */
    for (size_t i = 1; i < sizeof present / sizeof *present; i++) {
        do_remove(style, &r, &t, present[i]);
        expect_same(&r, remove_type(&t), 0, 0);
    }
    do_list(style, &r, &t);
    expect_same_list(&r, &t);
    for (size_t i = 0; i < r.nbytes; i += strlen((const char *)r.bytes + i) + 1)
        CHECK(strncmp((const char *)r.bytes + i, "user.", 5) != 0);
    drop_target(&t);
    rec_reset(&r);
}

/* Names the system refuses, and NULL. */
static void test_names(int style, enum via via)
{
    struct rec r = { 0 };
    char file[4096], buf[64];
    begin_via("attribute names", style, via);
    struct target t = file_target(style, via, "names", file, sizeof file);
    CHECK_EQ(setxattr(file, "user.there", "x", 1, 0), 0);

    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    memcpy(longname, "user.", 5);
    longname[sizeof longname - 1] = 0;
    /* Empty or longer than 255: ERANGE; no namespace: EOPNOTSUPP; a bare
     * namespace: EINVAL; an unknown namespace: EOPNOTSUPP.  Whatever the
     * syscall says, the operation says. */
    static const char *const bad[] = { "", NULL, "nonamespace", "user.", "nosuch.ns" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *name = bad[i] ? bad[i] : longname;
        int err = SYNC_ERRNO(sync_get(&t, name, buf, sizeof buf));
        do_get(style, &r, &t, name, buf, sizeof buf);
        expect_fail(&r, get_type(&t), err);
        err = SYNC_ERRNO(sync_set(&t, name, "v", 1, 0));
        do_set(style, &r, &t, name, "v", 1, 0);
        expect_fail(&r, set_type(&t), err);
        err = SYNC_ERRNO(sync_remove(&t, name));
        do_remove(style, &r, &t, name);
        expect_fail(&r, remove_type(&t), err);
    }
    CHECK_EQ(getxattr(file, "", buf, sizeof buf), -1);
    CHECK_EQ(errno, ERANGE);
    CHECK_EQ(getxattr(file, longname, buf, sizeof buf), -1);
    CHECK_EQ(errno, ERANGE);

    /* NULL name: refused (EFAULT), whatever the buffer; the attribute stays. */
    do_get(style, &r, &t, NULL, buf, sizeof buf);
    expect_efault(&r, style, get_type(&t));
    do_get(style, &r, &t, NULL, NULL, 16);
    expect_efault(&r, style, get_type(&t));
    do_set(style, &r, &t, NULL, "v", 1, 0);
    expect_efault(&r, style, set_type(&t));
    do_remove(style, &r, &t, NULL);
    expect_efault(&r, style, remove_type(&t));
    expect_attr(file, "user.there", "x", 1);
    drop_target(&t);
    rec_reset(&r);
}

/* The wrapper copies the name: the caller's buffer may change at once. */
static void test_name_copied(void)
{
    struct rec r = { 0 };
    begin("getxattr/setxattr name copy", WRAP);
    const char *file = check_path("name-copied");
    make_file(file);
    char name[64];
    pathf(name, sizeof name, "user.copied");
    rec_reset(&r);
    r.expect_req = evaio_setxattr(file, name, "v", 1, 0, PRI, rec_cb, &r);
    CHECK(r.expect_req != NULL);
    memset(name, 'z', sizeof name - 1);
    rec_wait(&r);
    expect_same(&r, EVAIO_OP_SETXATTR, 0, 0);
    expect_attr(file, "user.copied", "v", 1);

    pathf(name, sizeof name, "user.copied");
    rec_reset(&r);
    r.expect_req = evaio_getxattr(file, name, NULL, 8, PRI, rec_cb, &r);
    CHECK(r.expect_req != NULL);
    memset(name, 0, sizeof name);
    rec_wait(&r);
    expect_same(&r, EVAIO_OP_GETXATTR, 1, 0);
    CHECK_EQ(r.bytes[0], 'v');
    rec_reset(&r);
}

/* ---- paths that do not lead to a file ---- */

static void test_bad_paths(int style, enum via via)
{
    struct rec r = { 0 };
    char buf[64], through[4096];
    begin_via("missing and NULL paths", style, via);
    const char *missing = case_path(style, via, "no-such-file");
    struct target t = { via, missing, NULL, -1, missing };

    /* Missing: ENOENT from every operation. */
    int err = SYNC_ERRNO(sync_get(&t, "user.a", buf, sizeof buf));
    CHECK_EQ(err, ENOENT);
    do_get(style, &r, &t, "user.a", buf, sizeof buf);
    expect_fail(&r, get_type(&t), err);
    do_get(style, &r, &t, "user.a", NULL, 0);
    expect_fail(&r, get_type(&t), err);
    do_set(style, &r, &t, "user.a", "v", 1, 0);
    expect_fail(&r, set_type(&t), err);
    do_list(style, &r, &t);
    expect_fail(&r, list_type(&t), err);
    do_remove(style, &r, &t, "user.a");
    expect_fail(&r, remove_type(&t), err);
    CHECK_EQ(access(missing, F_OK), -1); /* set did not create it */

    /* Through a file: ENOTDIR. */
    const char *file = case_path(style, via, "plain");
    make_file(file);
    pathf(through, sizeof through, "%s/below", file);
    t.path = t.abs = through;
    err = SYNC_ERRNO(sync_list(&t, NULL, 0));
    CHECK_EQ(err, ENOTDIR);
    do_list(style, &r, &t);
    expect_fail(&r, list_type(&t), err);
    do_set(style, &r, &t, "user.a", "v", 1, 0);
    expect_fail(&r, set_type(&t), err);

    /* The empty path: ENOENT. */
    t.path = t.abs = "";
    err = SYNC_ERRNO(sync_get(&t, "user.a", buf, sizeof buf));
    CHECK_EQ(err, ENOENT);
    do_get(style, &r, &t, "user.a", buf, sizeof buf);
    expect_fail(&r, get_type(&t), err);
    do_list(style, &r, &t);
    expect_fail(&r, list_type(&t), err);

    /* NULL path: refused with EFAULT. */
    t.path = NULL;
    do_get(style, &r, &t, "user.a", buf, sizeof buf);
    expect_efault(&r, style, get_type(&t));
    do_get(style, &r, &t, "user.a", NULL, 8);
    expect_efault(&r, style, get_type(&t));
    do_set(style, &r, &t, "user.a", "v", 1, 0);
    expect_efault(&r, style, set_type(&t));
    do_list(style, &r, &t);
    expect_efault(&r, style, list_type(&t));
    do_remove(style, &r, &t, "user.a");
    expect_efault(&r, style, remove_type(&t));
    do_remove(style, &r, &t, NULL);
    expect_efault(&r, style, remove_type(&t));
    rec_reset(&r);
}

/* ---- descriptors that are not open, or not usable ---- */

static void test_bad_fds(int style)
{
    struct rec r = { 0 };
    char buf[64], file[4096];
    begin_via("bad descriptors", style, BY_FD);
    struct target t = file_target(style, BY_FD, "badfd", file, sizeof file);
    CHECK_EQ(setxattr(file, "user.a", "v", 1, 0), 0);
    int opath = open(file, O_PATH | O_CLOEXEC); /* first, so it cannot take the closed number */
    CHECK(opath >= 0);
    int closed = t.fd;
    drop_target(&t); /* now a closed descriptor */
    const int fds[] = { -1, closed, 1 << 20, opath };
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++) {
        t.fd = fds[i];
        if (fds[i] == closed)
            CHECK_EQ(fcntl(closed, F_GETFD), -1); /* still closed */
        /* EBADF, as the syscalls say (also for an O_PATH descriptor). */
        int err = SYNC_ERRNO(sync_get(&t, "user.a", buf, sizeof buf));
        CHECK_EQ(err, EBADF);
        do_get(style, &r, &t, "user.a", buf, sizeof buf);
        expect_fail(&r, EVAIO_OP_FGETXATTR, err);
        do_get(style, &r, &t, "user.a", NULL, 0);
        expect_fail(&r, EVAIO_OP_FGETXATTR, err);
        err = SYNC_ERRNO(sync_set(&t, "user.b", "v", 1, 0));
        do_set(style, &r, &t, "user.b", "v", 1, 0);
        expect_fail(&r, EVAIO_OP_FSETXATTR, err);
        err = SYNC_ERRNO(sync_list(&t, NULL, 0));
        do_list(style, &r, &t);
        expect_fail(&r, EVAIO_OP_FLISTXATTR, err);
        err = SYNC_ERRNO(sync_remove(&t, "user.a"));
        do_remove(style, &r, &t, "user.a");
        expect_fail(&r, EVAIO_OP_FREMOVEXATTR, err);
    }
    CHECK_EQ(close(opath), 0);
    expect_attr(file, "user.a", "v", 1);
    expect_attr(file, "user.b", NULL, 0);

    /* A directory's descriptor is fine. */
    const char *dir = case_path(style, BY_FD, "fd-dir");
    CHECK_EQ(mkdir(dir, 0700), 0);
    t.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(t.fd >= 0);
    do_set(style, &r, &t, "user.dir", "d", 1, 0);
    expect_same(&r, EVAIO_OP_FSETXATTR, 0, 0);
    expect_attr(dir, "user.dir", "d", 1);
    do_get(style, &r, &t, "user.dir", buf, sizeof buf);
    expect_same(&r, EVAIO_OP_FGETXATTR, 1, 0);
    drop_target(&t);
    rec_reset(&r);
}

/* ---- symlinks: followed by the plain forms, not by the l-forms ---- */

static void test_symlinks(int style, evaio_wd *wd, const char *dir)
{
    struct rec r = { 0 };
    char target_path[4096], link_path[4096], twin_path[4096], dangling_path[4096], buf[64];
    begin(wd ? "symlinks, relative to a wd" : "symlinks", style);
    const char *tag = style == WRAP ? "wrap" : "init";
    pathf(target_path, sizeof target_path, "%s/sl-target-%s", dir, tag);
    pathf(link_path, sizeof link_path, "%s/sl-link-%s", dir, tag);
    pathf(twin_path, sizeof twin_path, "%s/sl-twin-%s", dir, tag);
    pathf(dangling_path, sizeof dangling_path, "%s/sl-dangling-%s", dir, tag);
    make_file(target_path);
    CHECK_EQ(setxattr(target_path, "user.a", "target", 6, 0), 0);
    CHECK_EQ(symlink(strrchr(target_path, '/') + 1, link_path), 0); /* relative target */
    CHECK_EQ(symlink(strrchr(target_path, '/') + 1, twin_path), 0);
    CHECK_EQ(symlink("sl-nowhere", dangling_path), 0);
    /* With a wd the operations get names relative to it. */
    const char *link_name = wd ? strrchr(link_path, '/') + 1 : link_path;
    const char *dangling_name = wd ? strrchr(dangling_path, '/') + 1 : dangling_path;
    struct target follow = { BY_PATH, link_name, wd, -1, link_path };
    struct target nofollow = { BY_LINK, link_name, wd, -1, link_path };

    /* get: through the link, the target's attribute; on the link itself: none. */
    do_get(style, &r, &follow, "user.a", buf, sizeof buf);
    expect_same(&r, EVAIO_OP_GETXATTR, 6, 0);
    CHECK(memcmp(buf, "target", 6) == 0);
    int err = SYNC_ERRNO(lgetxattr(link_path, "user.a", buf, sizeof buf));
    CHECK_EQ(err, ENODATA);
    do_get(style, &r, &nofollow, "user.a", buf, sizeof buf);
    expect_fail(&r, EVAIO_OP_LGETXATTR, err);
    do_get(style, &r, &nofollow, "user.a", NULL, 0);
    expect_fail(&r, EVAIO_OP_LGETXATTR, err);

    /* list: the target's names, or the link's own (no user. names). */
    do_list(style, &r, &follow);
    expect_same_list(&r, &follow);
    CHECK(list_has(r.bytes, r.nbytes, "user.a"));
    do_list(style, &r, &nofollow);
    expect_same_list(&r, &nofollow);
    CHECK(!list_has(r.bytes, r.nbytes, "user.a"));

    /* set: a user. attribute on a symlink is refused (EPERM), nothing lands
     * on the target; through the link it lands on the target. */
    err = SYNC_ERRNO(lsetxattr(twin_path, "user.b", "v", 1, 0));
    CHECK_EQ(err, EPERM);
    do_set(style, &r, &nofollow, "user.b", "v", 1, 0);
    expect_fail(&r, EVAIO_OP_LSETXATTR, err);
    expect_attr(target_path, "user.b", NULL, 0);
    do_set(style, &r, &follow, "user.b", "v", 1, 0);
    expect_same(&r, EVAIO_OP_SETXATTR, 0, 0);
    expect_attr(target_path, "user.b", "v", 1);
    expect_attr(link_path, "user.b", NULL, 0);

    /* remove: user. attributes of a symlink are refused (EPERM) and the
     * target keeps its own; through the link the target's goes. */
    err = SYNC_ERRNO(lremovexattr(twin_path, "user.a"));
    CHECK_EQ(err, EPERM);
    do_remove(style, &r, &nofollow, "user.a");
    expect_fail(&r, EVAIO_OP_LREMOVEXATTR, err);
    expect_attr(target_path, "user.a", "target", 6);
    do_remove(style, &r, &follow, "user.a");
    expect_same(&r, EVAIO_OP_REMOVEXATTR, 0, 0);
    expect_attr(target_path, "user.a", NULL, 0);

    /* An attribute the link itself can carry (trusted., for a privileged
     * process): the l-forms act on the link, not on the target.  Without the
     * privilege both refuse alike (EPERM). */
    int can = lsetxattr(twin_path, "trusted.evaio", "link", 4, 0) == 0;
    err = can ? 0 : errno;
    do_set(style, &r, &nofollow, "trusted.evaio", "link", 4, 0);
    if (can) {
        expect_same(&r, EVAIO_OP_LSETXATTR, 0, 0);
        expect_attr(link_path, "trusted.evaio", "link", 4);
        expect_attr(target_path, "trusted.evaio", NULL, 0);
        do_get(style, &r, &nofollow, "trusted.evaio", NULL, 16);
        expect_same(&r, EVAIO_OP_LGETXATTR, 4, 0);
        CHECK(memcmp(r.bytes, "link", 4) == 0);
        do_get(style, &r, &follow, "trusted.evaio", NULL, 16);
        expect_fail(&r, EVAIO_OP_GETXATTR, ENODATA);
        do_list(style, &r, &nofollow);
        expect_same_list(&r, &nofollow);
        CHECK(list_has(r.bytes, r.nbytes, "trusted.evaio"));
        do_remove(style, &r, &nofollow, "trusted.evaio");
        expect_same(&r, EVAIO_OP_LREMOVEXATTR, 0, 0);
        expect_attr(link_path, "trusted.evaio", NULL, 0);
    } else {
        CHECK_EQ(err, EPERM);
        expect_fail(&r, EVAIO_OP_LSETXATTR, err);
    }

    /* A dangling link: the plain forms fail with ENOENT, the l-forms work on
     * the link. */
    struct target dfollow = { BY_PATH, dangling_name, wd, -1, dangling_path };
    struct target dnofollow = { BY_LINK, dangling_name, wd, -1, dangling_path };
    err = SYNC_ERRNO(getxattr(dangling_path, "user.a", buf, sizeof buf));
    CHECK_EQ(err, ENOENT);
    do_get(style, &r, &dfollow, "user.a", buf, sizeof buf);
    expect_fail(&r, EVAIO_OP_GETXATTR, err);
    do_list(style, &r, &dfollow);
    expect_fail(&r, EVAIO_OP_LISTXATTR, err);
    do_get(style, &r, &dnofollow, "user.a", buf, sizeof buf);
    expect_fail(&r, EVAIO_OP_LGETXATTR, ENODATA);
    do_list(style, &r, &dnofollow);
    expect_same_list(&r, &dnofollow);
    rec_reset(&r);
}

/* ---- working directories: relative paths resolve against the wd ---- */

static void test_wd(int style)
{
    struct rec r = { 0 };
    char wddir[4096], elsewhere[4096], inwd[4096], incwd[4096], cwd[4096], buf[64];
    begin("relative paths against a wd, the cwd elsewhere", style);
    const char *tag = style == WRAP ? "wrap" : "init";
    pathf(wddir, sizeof wddir, "%s/wd-%s", check_tmpdir(), tag);
    pathf(elsewhere, sizeof elsewhere, "%s/cwd-%s", check_tmpdir(), tag);
    pathf(inwd, sizeof inwd, "%s/f", wddir);
    pathf(incwd, sizeof incwd, "%s/f", elsewhere);
    CHECK_EQ(mkdir(wddir, 0700), 0);
    CHECK_EQ(mkdir(elsewhere, 0700), 0);
    make_file(inwd);
    make_file(incwd); /* the same name in the process's cwd: a decoy */
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    evaio_wd *wd = open_wd(wddir);
    CHECK_EQ(chdir(elsewhere), 0);

    for (int via = BY_PATH; via <= BY_LINK; via++) {
        /* "f" is the wd's file, never the cwd's. */
        struct target t = { (enum via)via, "f", wd, -1, inwd };
        char value[16];
        pathf(value, sizeof value, "via-%d", via);
        do_set(style, &r, &t, "user.w", value, strlen(value), 0);
        expect_same(&r, set_type(&t), 0, 0);
        expect_attr(inwd, "user.w", value, strlen(value));
        expect_attr(incwd, "user.w", NULL, 0);
        do_get(style, &r, &t, "user.w", buf, sizeof buf);
        expect_same(&r, get_type(&t), (int64_t)strlen(value), 0);
        CHECK(memcmp(buf, value, strlen(value)) == 0);
        do_get(style, &r, &t, "user.w", NULL, 0);
        expect_same(&r, get_type(&t), (int64_t)strlen(value), 0);
        do_list(style, &r, &t);
        expect_same_list(&r, &t);
        CHECK(list_has(r.bytes, r.nbytes, "user.w"));
        do_remove(style, &r, &t, "user.w");
        expect_same(&r, remove_type(&t), 0, 0);
        expect_attr(inwd, "user.w", NULL, 0);
        /* A name only the wd lacks: ENOENT, though the cwd has it... */
        t.path = "only-in-cwd";
        make_file("only-in-cwd"); /* in the cwd, `elsewhere` */
        do_get(style, &r, &t, "user.w", buf, sizeof buf);
        expect_fail(&r, get_type(&t), ENOENT);
        do_list(style, &r, &t);
        expect_fail(&r, list_type(&t), ENOENT);
        /* ... and without a wd, the same relative name is the cwd's. */
        t.wd = NULL;
        do_set(style, &r, &t, "user.cwd", "c", 1, 0);
        expect_same(&r, set_type(&t), 0, 0);
        expect_attr("only-in-cwd", "user.cwd", "c", 1);
        CHECK_EQ(unlink("only-in-cwd"), 0);
        t.wd = wd;

        /* "." is the wd itself, a directory that takes user. attributes. */
        t.path = ".";
        do_set(style, &r, &t, "user.dir", "d", 1, 0);
        expect_same(&r, set_type(&t), 0, 0);
        expect_attr(wddir, "user.dir", "d", 1);
        expect_attr(elsewhere, "user.dir", NULL, 0);
        do_remove(style, &r, &t, "user.dir");
        expect_same(&r, remove_type(&t), 0, 0);
        expect_attr(wddir, "user.dir", NULL, 0);

        /* "" is no file (ENOENT), not the wd: nothing lands on the wd. */
        t.path = "";
        do_set(style, &r, &t, "user.empty", "e", 1, 0);
        expect_fail(&r, set_type(&t), ENOENT);
        do_get(style, &r, &t, "user.empty", NULL, 0);
        expect_fail(&r, get_type(&t), ENOENT);
        do_list(style, &r, &t);
        expect_fail(&r, list_type(&t), ENOENT);
        do_remove(style, &r, &t, "user.empty");
        expect_fail(&r, remove_type(&t), ENOENT);
        expect_attr(wddir, "user.empty", NULL, 0);

        /* An absolute path ignores the wd. */
        t.path = incwd;
        do_set(style, &r, &t, "user.abs", "a", 1, 0);
        expect_same(&r, set_type(&t), 0, 0);
        expect_attr(incwd, "user.abs", "a", 1);
        expect_attr(inwd, "user.abs", NULL, 0);
        CHECK_EQ(removexattr(incwd, "user.abs"), 0);

        /* Too long to be named through the wd: ENAMETOOLONG, and no crash. */
        size_t longlen = 5000;
        char *longpath = malloc(longlen + 1);
        CHECK(longpath != NULL);
        for (size_t i = 0; i < longlen; i++)
            longpath[i] = i % 100 == 99 ? '/' : 'n';
        longpath[longlen] = 0;
        t.path = longpath;
        do_get(style, &r, &t, "user.w", buf, sizeof buf);
        expect_fail(&r, get_type(&t), ENAMETOOLONG);
        do_set(style, &r, &t, "user.w", "v", 1, 0);
        expect_fail(&r, set_type(&t), ENAMETOOLONG);
        do_list(style, &r, &t);
        expect_fail(&r, list_type(&t), ENAMETOOLONG);
        do_remove(style, &r, &t, "user.w");
        expect_fail(&r, remove_type(&t), ENAMETOOLONG);
        free(longpath);
    }

    /* Symlinks inside the wd, named relative to it: the l-forms still do
     * not follow the final component. */
    test_symlinks(style, wd, wddir);

    /* The wd keeps naming its directory after it is renamed. */
    char moved[4096];
    pathf(moved, sizeof moved, "%s-moved", wddir);
    CHECK_EQ(rename(wddir, moved), 0);
    pathf(inwd, sizeof inwd, "%s/f", moved);
    struct target t = { BY_PATH, "f", wd, -1, inwd };
    do_set(style, &r, &t, "user.moved", "m", 1, 0);
    expect_same(&r, EVAIO_OP_SETXATTR, 0, 0);
    expect_attr(inwd, "user.moved", "m", 1);
    CHECK_EQ(rename(moved, wddir), 0);

    CHECK_EQ(chdir(cwd), 0);
    close_wd(wd);
    rec_reset(&r);
}

/* ---- a long list: more than a small first guess ---- */

static void test_long_list(int style, enum via via)
{
    struct rec r = { 0 };
    char file[4096], name[64];
    begin_via("many attributes", style, via);
    struct target t = file_target(style, via, "longlist", file, sizeof file);
    enum { N = 40 };
    for (int i = 0; i < N; i++) {
        pathf(name, sizeof name, "user.attribute-number-%02d", i);
        CHECK_EQ(setxattr(file, name, "1", 1, 0), 0);
    }
    do_list(style, &r, &t);
    expect_same_list(&r, &t);
    CHECK(r.nbytes >= N * strlen("user.attribute-number-00") + N);
    for (int i = 0; i < N; i++) {
        pathf(name, sizeof name, "user.attribute-number-%02d", i);
        CHECK(list_has(r.bytes, r.nbytes, name));
    }
    drop_target(&t);
    rec_reset(&r);
}

/* ---- the list grows between the size query and the listing ---- */

static void test_list_grows(int style, enum via via)
{
    struct rec r = { 0 };
    char file[4096];
    begin_via("list grows while listing", style, via);
    struct target t = file_target(style, via, "grows", file, sizeof file);
    CHECK_EQ(setxattr(file, "user.a", "1", 1, 0), 0);
    grow_path = file;
    int before = __atomic_load_n(&grow_done, __ATOMIC_ACQUIRE);
    __atomic_store_n(&grow_armed, 1, __ATOMIC_RELEASE);
    do_list(style, &r, &t);
    CHECK_EQ(__atomic_load_n(&grow_armed, __ATOMIC_ACQUIRE), 0);
    CHECK_EQ(__atomic_load_n(&grow_done, __ATOMIC_ACQUIRE), before + 1);
    /* The whole grown list, not an ERANGE. */
    CHECK(r.result > 0);
    expect_same(&r, list_type(&t), r.result, 0);
    expect_same_list(&r, &t);
    CHECK(list_has(r.bytes, r.nbytes, "user.a"));
    CHECK(list_has(r.bytes, r.nbytes, "user.grown-while-listing"));
    drop_target(&t);
    rec_reset(&r);
}

/* ---- a NULL buffer with a length no allocation can meet: ENOMEM ---- */

static void test_huge_length(int style)
{
    struct rec r = { 0 };
    char file[4096];
    begin("getxattr, lgetxattr, fgetxattr: NULL buffer of a huge length", style);
    for (int via = BY_PATH; via <= BY_FD; via++) {
        struct target t = file_target(style, (enum via)via, "huge", file, sizeof file);
        CHECK_EQ(setxattr(file, "user.a", "v", 1, 0), 0);
        do_get(style, &r, &t, "user.a", NULL, SIZE_MAX);
        expect_fail(&r, get_type(&t), ENOMEM);
        CHECK(r.buf_seen == NULL); /* nothing allocated, nothing left behind */
        drop_target(&t);
    }
    rec_reset(&r);
}

/* ---- several requests at once, both styles and every variant ---- */

static void test_concurrent(void)
{
    enum { N = 30 };
    static struct rec recs[N];
    static char names[N][32];
    begin("concurrent setxattr, then list", WRAP);
    const char *file = check_path("concurrent");
    make_file(file);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    for (int i = 0; i < N; i++) {
        pathf(names[i], sizeof names[i], "user.c%02d", i);
        struct rec *r = &recs[i];
        rec_reset(r);
        int via = i % 3;
        if (i % 2) {
            r->expect_req = via == BY_PATH ? evaio_setxattr(file, names[i], names[i], 7, 0, i % 9 - 4, rec_cb, r)
                            : via == BY_LINK
                                ? evaio_lsetxattr(file, names[i], names[i], 7, 0, i % 9 - 4, rec_cb, r)
                                : evaio_fsetxattr(fd, names[i], names[i], 7, 0, i % 9 - 4, rec_cb, r);
            CHECK(r->expect_req != NULL);
        } else {
            if (via == BY_PATH)
                evaio_setxattr_init(&r->own, file, names[i], names[i], 7, 0, rec_cb, r);
            else if (via == BY_LINK)
                evaio_lsetxattr_init(&r->own, file, names[i], names[i], 7, 0, rec_cb, r);
            else
                evaio_fsetxattr_init(&r->own, fd, names[i], names[i], 7, 0, rec_cb, r);
            r->expect_req = &r->own;
            CHECK_EQ(evaio_start(&r->own), 0);
        }
    }
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    static const int set_types[] = { EVAIO_OP_SETXATTR, EVAIO_OP_LSETXATTR, EVAIO_OP_FSETXATTR };
    for (int i = 0; i < N; i++) {
        expect_same(&recs[i], set_types[i % 3], 0, 0);
        CHECK(recs[i].req_seen == recs[i].expect_req);
        expect_attr(file, names[i], names[i], 7);
        rec_reset(&recs[i]);
    }
    struct rec r = { 0 };
    struct target t = { BY_FD, NULL, NULL, fd, file };
    do_list(WRAP, &r, &t);
    expect_same_list(&r, &t);
    for (int i = 0; i < N; i++)
        CHECK(list_has(r.bytes, r.nbytes, names[i]));
    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* A NULL path or name fails a caller-owned request in evaio_start, without
 * reaching a worker: on a fresh context no worker thread is ever started. */
static void test_null_no_worker(void)
{
    enum { N = 8 };
    static struct rec recs[N];
    static const int types[N] = { EVAIO_OP_GETXATTR,    EVAIO_OP_SETXATTR,  EVAIO_OP_LISTXATTR,
                                  EVAIO_OP_REMOVEXATTR, EVAIO_OP_LGETXATTR, EVAIO_OP_LSETXATTR,
                                  EVAIO_OP_FGETXATTR,   EVAIO_OP_FREMOVEXATTR };
    begin("NULL paths and names fail without reaching a worker (fresh context)", INIT);
    const char *file = check_path("null-no-worker");
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    for (int i = 0; i < N; i++)
        rec_reset(&recs[i]);
    evaio_getxattr_init(&recs[0].own, NULL, "user.a", NULL, 8, rec_cb, &recs[0]);
    evaio_setxattr_init(&recs[1].own, file, NULL, "v", 1, 0, rec_cb, &recs[1]);
    evaio_listxattr_init(&recs[2].own, NULL, rec_cb, &recs[2]);
    evaio_removexattr_init(&recs[3].own, file, NULL, rec_cb, &recs[3]);
    evaio_lgetxattr_init(&recs[4].own, file, NULL, NULL, 0, rec_cb, &recs[4]);
    evaio_lsetxattr_init(&recs[5].own, NULL, "user.a", "v", 1, 0, rec_cb, &recs[5]);
    evaio_fgetxattr_init(&recs[6].own, 0, NULL, NULL, 8, rec_cb, &recs[6]);
    evaio_fremovexattr_init(&recs[7].own, 0, NULL, rec_cb, &recs[7]);
    for (int i = 0; i < N; i++) {
        recs[i].expect_req = &recs[i].own;
        CHECK_EQ(evaio_ctx_start(ctx, &recs[i].own), 0);
    }
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    for (int i = 0; i < N; i++) {
        expect_fail(&recs[i], types[i], EFAULT);
        rec_reset(&recs[i]);
    }
    struct rec r = { 0 };
    rec_reset(&r);
    errno = 0;
    CHECK(evaio_ctx_getxattr(ctx, file, NULL, NULL, 8, 0, rec_cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    errno = 0;
    CHECK(evaio_ctx_llistxattr(ctx, NULL, 0, rec_cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    errno = 0;
    CHECK(evaio_ctx_lremovexattr(ctx, file, NULL, 0, rec_cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    errno = 0;
    CHECK(evaio_ctx_fsetxattr(ctx, 0, NULL, "v", 1, 0, 0, rec_cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK_EQ(r.calls, 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* Whether the test directory's filesystem takes user. attributes. */
static int user_xattrs_work(void)
{
    const char *probe = check_path("probe");
    make_file(probe);
    int ok = setxattr(probe, "user.probe", "1", 1, 0) == 0;
    if (!ok)
        CHECK(errno == ENOTSUP || errno == EOPNOTSUPP);
    CHECK_EQ(unlink(probe), 0);
    return ok;
}

int main(void)
{
    main_thread = pthread_self();
    umask(022);
    CHECK(evaio_default_ctx() != NULL); /* its eventfd is opened before the count */
    check_tmpdir();
    CHECK(EVAIO_HAVE_GETXATTR && EVAIO_HAVE_SETXATTR && EVAIO_HAVE_LISTXATTR && EVAIO_HAVE_REMOVEXATTR);
    CHECK(EVAIO_HAVE_LGETXATTR && EVAIO_HAVE_LSETXATTR && EVAIO_HAVE_LLISTXATTR && EVAIO_HAVE_LREMOVEXATTR);
    CHECK(EVAIO_HAVE_FGETXATTR && EVAIO_HAVE_FSETXATTR && EVAIO_HAVE_FLISTXATTR && EVAIO_HAVE_FREMOVEXATTR);
    CHECK_EQ(EVAIO_XATTR_CREATE, XATTR_CREATE);
    CHECK_EQ(EVAIO_XATTR_REPLACE, XATTR_REPLACE);
    if (!user_xattrs_work())
        SKIP("the test directory's filesystem does not support user. extended attributes");
    int fds = check_count_fds();

    for (int style = WRAP; style <= INIT; style++) {
        for (int via = BY_PATH; via <= BY_FD; via++) {
            test_roundtrip(style, (enum via)via);
            test_names(style, (enum via)via);
            test_long_list(style, (enum via)via);
            test_list_grows(style, (enum via)via);
            if (via != BY_FD)
                test_bad_paths(style, (enum via)via);
        }
        test_bad_fds(style);
        test_symlinks(style, NULL, check_tmpdir());
        test_wd(style);
        test_huge_length(style);
    }
    test_name_copied();
    test_concurrent();
    test_null_no_worker();

    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    CHECK_EQ(check_count_fds(), fds);
    fprintf(stderr, "test_ops_xattr: all passed\n");
    return 0;
}

#else /* !__linux__ */

/* Where the system has no Linux xattr calls, every operation compiles and
 * reports ENOSYS. */
int main(void)
{
    main_thread = pthread_self();
    CHECK(!EVAIO_HAVE_GETXATTR && !EVAIO_HAVE_FREMOVEXATTR);
    const char *file = check_path("enosys");
    make_file(file);
    struct target p = { BY_PATH, file, NULL, -1, file }, l = { BY_LINK, file, NULL, -1, file };
    struct target f = { BY_FD, NULL, NULL, open(file, O_RDONLY), file };
    CHECK(f.fd >= 0);
    const struct target *ts[] = { &p, &l, &f };
    char buf[8];
    for (int style = WRAP; style <= INIT; style++) {
        for (int i = 0; i < 3; i++) {
            struct rec r = { 0 };
            begin_via("ENOSYS", style, ts[i]->via);
            do_get(style, &r, ts[i], "user.a", buf, sizeof buf);
            expect_fail(&r, get_type(ts[i]), ENOSYS);
            do_set(style, &r, ts[i], "user.a", "v", 1, EVAIO_XATTR_CREATE);
            expect_fail(&r, set_type(ts[i]), ENOSYS);
            do_list(style, &r, ts[i]);
            expect_fail(&r, list_type(ts[i]), ENOSYS);
            do_remove(style, &r, ts[i], "user.a");
            expect_fail(&r, remove_type(ts[i]), ENOSYS);
            rec_reset(&r);
        }
    }
    CHECK_EQ(close(f.fd), 0);
    (void)open_wd;
    (void)close_wd;
    (void)expect_efault;
    (void)case_path;
    (void)begin;
    fprintf(stderr, "test_ops_xattr: all passed (no extended attributes here: ENOSYS)\n");
    return 0;
}

#endif
