/* Per-operation tests for the memory operations (msync, mtouch, mlock,
 * mlockall, madvise) and the other operations (sync, slurp).  Every case runs
 * through both API styles; effects are checked through the kernel's own
 * reports (mincore, /proc/self/smaps, /proc/self/status) or the file's
 * contents, and ranges that are not mapped must fail, never crash. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define REC_OUTPUTS                                                                     \
    const void *contents;   /* slurp: req->args.slurp.contents */                        \
    unsigned char *copy;    /* slurp: a copy of result bytes and one more (the NUL) */
#include "op_harness.h"

static void rec_capture(struct rec *r, evaio_req *req)
{
    if (req->type != EVAIO_OP_SLURP)
        return;
    struct evaio_slurp_args *a = &req->args.slurp;
    r->contents = a->contents;
    free(r->copy);
    r->copy = NULL;
    if (req->result < 0) {
        CHECK(a->contents == NULL);
        return;
    }
    CHECK(a->contents != NULL);
    if (a->buf) {
        CHECK(a->contents == a->buf);
        CHECK((size_t)req->result <= a->length);
    }
    /* Library memory has a NUL after the data. */
    size_t n = (size_t)req->result + (a->buf ? 0 : 1);
    r->copy = malloc(n ? n : 1);
    CHECK(r->copy != NULL);
    memcpy(r->copy, a->contents, n);
    if (!a->buf)
        CHECK_EQ(r->copy[req->result], 0);
}

static void rec_reset_outputs(struct rec *r)
{
    free(r->copy);
    r->copy = NULL;
    r->contents = NULL;
}

/* ---- submitters, both styles ---- */

static void do_msync(int style, struct rec *r, void *addr, size_t len, int flags)
{
    SUBMIT(style, r, evaio_msync(addr, len, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_msync_init(&r->own, addr, len, flags, rec_cb, r));
}

static void do_mtouch(int style, struct rec *r, void *addr, size_t len, int flags)
{
    SUBMIT(style, r, evaio_mtouch(addr, len, flags, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_mtouch_init(&r->own, addr, len, flags, rec_cb, r));
}

static void do_mlock(int style, struct rec *r, void *addr, size_t len)
{
    SUBMIT(style, r, evaio_mlock(addr, len, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_mlock_init(&r->own, addr, len, rec_cb, r));
}

static void do_mlockall(int style, struct rec *r, int flags)
{
    SUBMIT(style, r, evaio_mlockall(flags, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_mlockall_init(&r->own, flags, rec_cb, r));
}

static void do_madvise(int style, struct rec *r, void *addr, size_t len, int advice)
{
    SUBMIT(style, r, evaio_madvise(addr, len, advice, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_madvise_init(&r->own, addr, len, advice, rec_cb, r));
}

static void do_sync(int style, struct rec *r)
{
    SUBMIT(style, r, evaio_sync(EVAIO_PRI_DEFAULT, rec_cb, r), evaio_sync_init(&r->own, rec_cb, r));
}

static void slurp_init_wd(evaio_req *req, evaio_wd *wd, const char *path, int64_t off, size_t len, void *buf,
                          struct rec *r)
{
    evaio_slurp_init(req, path, off, len, buf, rec_cb, r);
    evaio_req_set_wd(req, wd);
}

/* wd NULL: evaio_slurp and a plain init; else evaio_slurp_at and set_wd. */
static void do_slurp(int style, struct rec *r, evaio_wd *wd, const char *path, int64_t off, size_t len,
                     void *buf)
{
    SUBMIT(style, r,
           wd ? evaio_slurp_at(wd, path, off, len, buf, EVAIO_PRI_DEFAULT, rec_cb, r)
              : evaio_slurp(path, off, len, buf, EVAIO_PRI_DEFAULT, rec_cb, r),
           slurp_init_wd(&r->own, wd, path, off, len, buf, r));
}

/* ---- helpers ---- */

static size_t pg;

__attribute__((format(printf, 3, 4))) static void pathf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    CHECK(n >= 0 && (size_t)n < cap);
}

static const char *spath(int style, const char *name)
{
    char tmp[256];
    pathf(tmp, sizeof tmp, "%s-%s", name, style == WRAP ? "wrap" : "init");
    return check_path(tmp);
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, data, len), (ssize_t)len);
    CHECK_EQ(close(fd), 0);
}

static void *map_anon(size_t pages, int prot)
{
    void *p = mmap(NULL, pages * pg, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    return p;
}

/* `pages` read-write pages between two PROT_NONE guard pages, so that the
 * kernel cannot merge them with a neighbouring mapping and their smaps entry
 * is theirs alone.  Release with unmap_guarded. */
static char *map_guarded(size_t pages)
{
    char *p = map_anon(pages + 2, PROT_NONE);
    CHECK_EQ(mprotect(p + pg, pages * pg, PROT_READ | PROT_WRITE), 0);
    return p + pg;
}

static void unmap_guarded(char *m, size_t pages)
{
    CHECK_EQ(munmap(m - pg, (pages + 2) * pg), 0);
}

/* Three pages whose middle one is unmapped: a range across it is not mapped. */
static char *map_with_hole(void)
{
    char *p = map_anon(3, PROT_READ | PROT_WRITE);
    CHECK_EQ(munmap(p + pg, pg), 0);
    return p;
}

/* How many of `pages` pages at p mincore reports resident. */
static size_t resident(void *p, size_t pages)
{
    unsigned char vec[64];
    CHECK(pages <= sizeof vec);
    CHECK_EQ(mincore(p, pages * pg, vec), 0);
    size_t n = 0;
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    return n;
}

/* A field of the smaps entry of the mapping that starts at p, in kB. */
static long smaps_kb(void *p, const char *field)
{
    FILE *f = fopen("/proc/self/smaps", "re");
    CHECK(f != NULL);
    char line[512], head[64];
    snprintf(head, sizeof head, "%lx-", (unsigned long)(uintptr_t)p);
    int in = 0;
    long kb = -1;
    size_t flen = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, head, strlen(head))) {
            in = 1;
            continue;
        }
        if (in && !strncmp(line, field, flen) && line[flen] == ':') {
            kb = strtol(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    CHECK(kb >= 0);
    return kb;
}

/* VmLck of /proc/self/status, in kB. */
static long vmlck_kb(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    CHECK(f != NULL);
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmLck:", 6))
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    CHECK(kb >= 0);
    return kb;
}

/* Whether the kernel populates ranges (MADV_POPULATE_*, Linux 5.14): then
 * mtouch reports inaccessible memory instead of faulting on it. */
static int kernel_populates(void)
{
#ifdef MADV_POPULATE_READ
    void *p = map_anon(1, PROT_READ);
    int yes = madvise(p, 0, MADV_POPULATE_READ) == 0; /* EINVAL: unknown advice */
    CHECK_EQ(munmap(p, pg), 0);
    return yes;
#else
    return 0;
#endif
}

/* ---- msync ---- */

static void test_msync(int style)
{
    struct rec r = { 0 };
    begin("msync", style);
    const char *path = spath(style, "msync");
    char zeros[2 * 4096 * 4] = { 0 };
    CHECK(2 * pg <= sizeof zeros);
    write_file(path, zeros, 2 * pg);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    CHECK(fd >= 0);
    char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);

    /* An unaligned range: widened to pages, the bytes reach the file. */
    memcpy(m + pg - 3, "across", 6);
    do_msync(style, &r, m + pg - 3, 6, MS_SYNC);
    expect_same(&r, EVAIO_OP_MSYNC, 0, 0);
    char back[6];
    CHECK_EQ(pread(fd, back, 6, (off_t)pg - 3), 6);
    CHECK(memcmp(back, "across", 6) == 0);
    do_msync(style, &r, m, 2 * pg, MS_ASYNC | MS_INVALIDATE);
    expect_same(&r, EVAIO_OP_MSYNC, 0, 0);
    do_msync(style, &r, m, 0, MS_SYNC);
    expect_same(&r, EVAIO_OP_MSYNC, 0, 0);

    /* Both MS_SYNC and MS_ASYNC, or an unknown bit: EINVAL. */
    do_msync(style, &r, m, pg, MS_SYNC | MS_ASYNC);
    expect_fail(&r, EVAIO_OP_MSYNC, EINVAL);
    do_msync(style, &r, m, pg, 0x10000);
    expect_fail(&r, EVAIO_OP_MSYNC, EINVAL);
    /* Not mapped: ENOMEM; a range wrapping around the address space too. */
    char *hole = map_with_hole();
    do_msync(style, &r, hole, 3 * pg, MS_SYNC);
    expect_fail(&r, EVAIO_OP_MSYNC, ENOMEM);
    do_msync(style, &r, (void *)(UINTPTR_MAX - pg + 1), 2 * pg, MS_SYNC);
    expect_fail(&r, EVAIO_OP_MSYNC, ENOMEM);
    CHECK_EQ(munmap(hole, pg), 0);
    CHECK_EQ(munmap(hole + 2 * pg, pg), 0);
    CHECK_EQ(munmap(m, 2 * pg), 0);
    CHECK_EQ(close(fd), 0);
    rec_reset(&r);
}

/* ---- mtouch ---- */

static void test_mtouch(int style)
{
    struct rec r = { 0 };
    begin("mtouch", style);
    enum { PAGES = 16 };

    /* Reading: every page present afterwards (the zero page, for fresh
     * anonymous memory), no private copies made. */
    char *m = map_guarded(PAGES);
    CHECK_EQ(resident(m, PAGES), 0);
    do_mtouch(style, &r, m + 5, PAGES * pg - 10, 0); /* unaligned ends: whole pages */
    expect_same(&r, EVAIO_OP_MTOUCH, 0, 0);
    CHECK_EQ(resident(m, PAGES), PAGES);
    CHECK_EQ(smaps_kb(m, "Anonymous"), 0);
    unmap_guarded(m, PAGES);

    /* Writing: every page gets its own copy; contents never change. */
    m = map_guarded(PAGES);
    do_mtouch(style, &r, m, PAGES * pg, EVAIO_MTOUCH_WRITE);
    expect_same(&r, EVAIO_OP_MTOUCH, 0, 0);
    CHECK_EQ(resident(m, PAGES), PAGES);
    CHECK_EQ((size_t)smaps_kb(m, "Anonymous"), PAGES * pg / 1024);
    for (size_t i = 0; i < PAGES * pg; i++)
        CHECK_EQ(m[i], 0);
    for (size_t i = 0; i < PAGES * pg; i++)
        m[i] = (char)(i * 13 + 1);
    do_mtouch(style, &r, m, PAGES * pg, EVAIO_MTOUCH_WRITE);
    expect_same(&r, EVAIO_OP_MTOUCH, 0, 0);
    for (size_t i = 0; i < PAGES * pg; i++)
        CHECK_EQ(m[i], (char)(i * 13 + 1));

    /* Length 0: nothing to do, whatever the address. */
    do_mtouch(style, &r, NULL, 0, 0);
    expect_same(&r, EVAIO_OP_MTOUCH, 0, 0);
    /* Unknown flags: EINVAL. */
    do_mtouch(style, &r, m, pg, 0x2);
    expect_fail(&r, EVAIO_OP_MTOUCH, EINVAL);
    do_mtouch(style, &r, m, pg, -1);
    expect_fail(&r, EVAIO_OP_MTOUCH, EINVAL);
    unmap_guarded(m, PAGES);

    /* Not mapped: ENOMEM and no crash, for reading and writing; NULL too;
     * and a range that wraps around. */
    char *hole = map_with_hole();
    do_mtouch(style, &r, hole, 3 * pg, 0);
    expect_fail(&r, EVAIO_OP_MTOUCH, ENOMEM);
    do_mtouch(style, &r, hole + pg + 1, 1, EVAIO_MTOUCH_WRITE);
    expect_fail(&r, EVAIO_OP_MTOUCH, ENOMEM);
    do_mtouch(style, &r, NULL, pg, 0);
    expect_fail(&r, EVAIO_OP_MTOUCH, ENOMEM);
    do_mtouch(style, &r, (void *)(UINTPTR_MAX - pg + 1), 2 * pg, 0);
    expect_fail(&r, EVAIO_OP_MTOUCH, ENOMEM);
    CHECK_EQ(munmap(hole, pg), 0);
    CHECK_EQ(munmap(hole + 2 * pg, pg), 0);

    /* Mapped but not accessible that way: an error where the kernel can
     * tell (elsewhere the worker would fault, as a direct access does). */
    if (kernel_populates()) {
        char *none = map_anon(2, PROT_NONE);
        do_mtouch(style, &r, none, 2 * pg, 0);
        expect_fail(&r, EVAIO_OP_MTOUCH, EINVAL);
        CHECK_EQ(munmap(none, 2 * pg), 0);
        char *ro = map_anon(2, PROT_READ);
        do_mtouch(style, &r, ro, 2 * pg, EVAIO_MTOUCH_WRITE);
        expect_fail(&r, EVAIO_OP_MTOUCH, EINVAL);
        do_mtouch(style, &r, ro, 2 * pg, 0);
        expect_same(&r, EVAIO_OP_MTOUCH, 0, 0);
        CHECK_EQ(munmap(ro, 2 * pg), 0);
    }
    rec_reset(&r);
}

/* ---- mlock / mlockall ---- */

static void test_mlock(int style)
{
    struct rec r = { 0 };
    begin("mlock, mlockall", style);
    char *m = map_anon(2, PROT_READ | PROT_WRITE);
    /* The synchronous call on the second page says whether this process may
     * lock a page (RLIMIT_MEMLOCK, CAP_IPC_LOCK); the request does the same.
     * Sanitizers replace the mlock family by no-ops that return 0: then the
     * requests are only checked to return what the calls return. */
    long before = vmlck_kb();
    int sync_rc = mlock(m + pg, pg);
    int sync_err = sync_rc ? errno : 0;
    int intercepted = sync_rc == 0 && vmlck_kb() == before;
    if (intercepted) {
        fprintf(stderr, "   (mlock does nothing here, a sanitizer's: results only)\n");
    } else if (sync_rc == 0) {
        CHECK_EQ(vmlck_kb(), before + (long)(pg / 1024));
        CHECK_EQ(munlock(m + pg, pg), 0);
    } else {
        CHECK(sync_err == EPERM || sync_err == ENOMEM || sync_err == EAGAIN);
    }
    do_mlock(style, &r, m, pg);
    expect_same(&r, EVAIO_OP_MLOCK, sync_rc, sync_err);
    if (sync_rc == 0 && !intercepted) {
        CHECK_EQ(vmlck_kb(), before + (long)(pg / 1024));
        CHECK_EQ(resident(m, 1), 1);
        CHECK_EQ(munlock(m, pg), 0);
    }
    CHECK_EQ(vmlck_kb(), before);
    CHECK_EQ(munmap(m, 2 * pg), 0);

    /* Not mapped: ENOMEM. */
    char *hole = map_with_hole();
    do_mlock(style, &r, hole, 3 * pg);
    if (intercepted)
        expect_same(&r, EVAIO_OP_MLOCK, 0, 0);
    else
        expect_fail(&r, EVAIO_OP_MLOCK, ENOMEM);
    CHECK_EQ(munlock(hole, pg), 0); /* whatever the kernel locked before the hole */
    CHECK_EQ(munmap(hole, pg), 0);
    CHECK_EQ(munmap(hole + 2 * pg, pg), 0);
    CHECK_EQ(vmlck_kb(), before);

    /* mlockall succeeding would lock the whole process (and under
     * sanitizers terabytes of shadow): only its argument checks are tested.
     * No flag, an unknown bit, MCL_ONFAULT alone: EINVAL, nothing locked. */
    static const int bad[] = { 0, MCL_CURRENT | 0x100,
#ifdef MCL_ONFAULT
                               MCL_ONFAULT,
#endif
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        do_mlockall(style, &r, bad[k]);
        if (intercepted)
            expect_same(&r, EVAIO_OP_MLOCKALL, 0, 0);
        else
            expect_fail(&r, EVAIO_OP_MLOCKALL, EINVAL);
    }
    CHECK_EQ(vmlck_kb(), before);
    CHECK_EQ(munlockall(), 0);
    rec_reset(&r);
}

/* ---- madvise ---- */

static void test_madvise(int style)
{
    struct rec r = { 0 };
    begin("madvise", style);
    char *m = map_anon(4, PROT_READ | PROT_WRITE);
    memset(m, 0xab, 4 * pg);
    /* MADV_DONTNEED on private anonymous memory: the pages read as zeros. */
    do_madvise(style, &r, m + pg, 2 * pg, MADV_DONTNEED);
    expect_same(&r, EVAIO_OP_MADVISE, 0, 0);
    for (size_t i = 0; i < 4 * pg; i++)
        CHECK_EQ((unsigned char)m[i], i < pg || i >= 3 * pg ? 0xab : 0);
    do_madvise(style, &r, m, 4 * pg, MADV_WILLNEED);
    expect_same(&r, EVAIO_OP_MADVISE, 0, 0);

    /* An unaligned address (never widened), unknown advice: EINVAL. */
    do_madvise(style, &r, m + 1, pg, MADV_DONTNEED);
    expect_fail(&r, EVAIO_OP_MADVISE, EINVAL);
    CHECK_EQ((unsigned char)m[0], 0xab);
    do_madvise(style, &r, m, pg, 12345);
    expect_fail(&r, EVAIO_OP_MADVISE, EINVAL);
    CHECK_EQ(munmap(m, 4 * pg), 0);
    /* Not mapped: ENOMEM. */
    char *hole = map_with_hole();
    do_madvise(style, &r, hole, 3 * pg, MADV_WILLNEED);
    expect_fail(&r, EVAIO_OP_MADVISE, ENOMEM);
    CHECK_EQ(munmap(hole, pg), 0);
    CHECK_EQ(munmap(hole + 2 * pg, pg), 0);
    rec_reset(&r);
}

/* ---- sync ---- */

static void test_sync(int style)
{
    struct rec r = { 0 };
    begin("sync", style);
    do_sync(style, &r);
    expect_same(&r, EVAIO_OP_SYNC, 0, 0);
    rec_reset(&r);
}

/* ---- slurp ---- */

static unsigned char pattern(size_t i)
{
    return (unsigned char)((i * 7 + 3) ^ (i >> 9));
}

static void expect_bytes(const struct rec *r, size_t off, size_t n)
{
    CHECK_EQ(r->result, (int64_t)n);
    for (size_t i = 0; i < n; i++)
        if (r->copy[i] != pattern(off + i)) {
            fprintf(stderr, "byte %zu: got %u, want %u\n", i, r->copy[i], pattern(off + i));
            CHECK(r->copy[i] == pattern(off + i));
        }
}

/* A NULL path: refused by the wrapper with EFAULT, EFAULT in the callback of
 * a caller-owned request. */
static void expect_null_path(const struct rec *r, int style)
{
    if (style == WRAP) {
        CHECK(r->rejected);
        CHECK_EQ(r->submit_errno, EFAULT);
    } else {
        expect_fail(r, EVAIO_OP_SLURP, EFAULT);
    }
}

struct fifo_writer {
    const char *path;
    pthread_t tid;
};

static void *fifo_write(void *arg)
{
    struct fifo_writer *w = arg;
    int fd = open(w->path, O_WRONLY | O_CLOEXEC); /* waits for the reader */
    CHECK(fd >= 0);
    unsigned char buf[5000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = pattern(i);
    for (size_t done = 0; done < sizeof buf; done += 1000)
        CHECK_EQ(write(fd, buf + done, 1000), 1000);
    CHECK_EQ(close(fd), 0);
    return NULL;
}

static evaio_wd *opened_wd;

static int wd_open_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    opened_wd = req->args.wd_open.handle;
    return 0;
}

static void test_slurp(int style)
{
    struct rec r = { 0 };
    begin("slurp", style);
    enum { BIG = 3 * 65536 + 77 };
    unsigned char *data = malloc(BIG);
    CHECK(data != NULL);
    for (size_t i = 0; i < BIG; i++)
        data[i] = pattern(i);
    char dirpath[4096], file[4096], big[4096], empty[4096], p[4096];
    pathf(dirpath, sizeof dirpath, "%s", spath(style, "slurp-dir"));
    CHECK_EQ(mkdir(dirpath, 0700), 0);
    pathf(file, sizeof file, "%s/small", dirpath);
    pathf(big, sizeof big, "%s/big", dirpath);
    pathf(empty, sizeof empty, "%s/empty", dirpath);
    write_file(file, data, 1000);
    write_file(big, data, BIG);
    write_file(empty, data, 0);

    /* Library memory: length 0 = the whole file, NUL after it. */
    do_slurp(style, &r, NULL, file, 0, 0, NULL);
    expect_same(&r, EVAIO_OP_SLURP, 1000, 0);
    expect_bytes(&r, 0, 1000);
    do_slurp(style, &r, NULL, big, 0, 0, NULL);
    expect_bytes(&r, 0, BIG);
    /* From an offset to the end; a length shorter and longer than the rest. */
    do_slurp(style, &r, NULL, big, 70000, 0, NULL);
    expect_bytes(&r, 70000, BIG - 70000);
    do_slurp(style, &r, NULL, big, 70000, 10, NULL);
    expect_bytes(&r, 70000, 10);
    do_slurp(style, &r, NULL, file, 990, 4096, NULL);
    expect_bytes(&r, 990, 10);
    do_slurp(style, &r, NULL, file, 0, SIZE_MAX, NULL); /* no huge allocation */
    expect_bytes(&r, 0, 1000);
    /* At or past the end, and an empty file: 0 bytes, an empty string. */
    do_slurp(style, &r, NULL, file, 1000, 0, NULL);
    expect_same(&r, EVAIO_OP_SLURP, 0, 0);
    do_slurp(style, &r, NULL, file, 5000, 7, NULL);
    expect_same(&r, EVAIO_OP_SLURP, 0, 0);
    do_slurp(style, &r, NULL, empty, 0, 0, NULL);
    expect_same(&r, EVAIO_OP_SLURP, 0, 0);
    /* A size fstat does not know (0 in /proc): read until the end anyway. */
    do_slurp(style, &r, NULL, "/proc/self/status", 0, 0, NULL);
    CHECK(r.result > 0 && r.copy[r.result] == 0);
    CHECK(strstr((const char *)r.copy, "VmRSS:") != NULL);

    /* The caller's buffer: `contents` is the buffer; a short count at the
     * end; bytes past it untouched. */
    unsigned char *buf = malloc(BIG + 100);
    CHECK(buf != NULL);
    memset(buf, 0x5a, BIG + 100);
    do_slurp(style, &r, NULL, big, 0, BIG + 100, buf);
    expect_bytes(&r, 0, BIG);
    CHECK(r.contents == buf);
    CHECK_EQ(buf[BIG], 0x5a);
    memset(buf, 0x5a, BIG + 100);
    do_slurp(style, &r, NULL, big, 3, 100, buf);
    expect_bytes(&r, 3, 100);
    CHECK_EQ(buf[100], 0x5a);
    do_slurp(style, &r, NULL, file, 2000, 100, buf);
    expect_same(&r, EVAIO_OP_SLURP, 0, 0);
    CHECK(r.contents == buf);

    /* A FIFO is read until its writer closes it. */
    pathf(p, sizeof p, "%s/fifo", dirpath);
    CHECK_EQ(mkfifo(p, 0600), 0);
    struct fifo_writer w = { p, 0 };
    CHECK_EQ(pthread_create(&w.tid, NULL, fifo_write, &w), 0);
    do_slurp(style, &r, NULL, p, 0, 0, NULL);
    CHECK_EQ(pthread_join(w.tid, NULL), 0);
    expect_bytes(&r, 0, 5000);

    /* Errors: a buffer with length 0, a negative offset: EINVAL; a
     * directory: EISDIR; missing: ENOENT; through a file: ENOTDIR. */
    do_slurp(style, &r, NULL, file, 0, 0, buf);
    expect_fail(&r, EVAIO_OP_SLURP, EINVAL);
    do_slurp(style, &r, NULL, file, -1, 0, NULL);
    expect_fail(&r, EVAIO_OP_SLURP, EINVAL);
    do_slurp(style, &r, NULL, file, INT64_MIN, 10, buf);
    expect_fail(&r, EVAIO_OP_SLURP, EINVAL);
    do_slurp(style, &r, NULL, dirpath, 0, 0, NULL);
    expect_fail(&r, EVAIO_OP_SLURP, EISDIR);
    do_slurp(style, &r, NULL, dirpath, 0, 10, buf);
    expect_fail(&r, EVAIO_OP_SLURP, EISDIR);
    pathf(p, sizeof p, "%s/missing", dirpath);
    do_slurp(style, &r, NULL, p, 0, 0, NULL);
    expect_fail(&r, EVAIO_OP_SLURP, ENOENT);
    pathf(p, sizeof p, "%s/x", file);
    do_slurp(style, &r, NULL, p, 0, 0, NULL);
    expect_fail(&r, EVAIO_OP_SLURP, ENOTDIR);
    do_slurp(style, &r, NULL, NULL, 0, 0, NULL);
    expect_null_path(&r, style);
    do_slurp(style, &r, NULL, NULL, 0, 10, buf);
    expect_null_path(&r, style);

    /* Relative to a working directory (the process's cwd is "/"). */
    CHECK(access("small", F_OK) != 0);
    opened_wd = NULL;
    CHECK(evaio_wd_open(dirpath, EVAIO_PRI_DEFAULT, wd_open_cb, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0);
    evaio_wd *wd = opened_wd;
    CHECK(wd != NULL);
    do_slurp(style, &r, wd, "small", 10, 0, NULL);
    expect_bytes(&r, 10, 990);
    do_slurp(style, &r, wd, "big", 0, 50, buf);
    expect_bytes(&r, 0, 50);
    do_slurp(style, &r, wd, "missing", 0, 0, NULL);
    expect_fail(&r, EVAIO_OP_SLURP, ENOENT);
    do_slurp(style, &r, wd, ".", 0, 0, NULL);
    expect_fail(&r, EVAIO_OP_SLURP, EISDIR);
    do_slurp(style, &r, wd, NULL, 0, 0, NULL);
    expect_null_path(&r, style);
    CHECK(evaio_wd_close(wd, EVAIO_PRI_DEFAULT, NULL, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0);

    free(buf);
    free(data);
    rec_reset(&r);
}

/* slurp cancelled while it reads: from a FIFO whose writer holds it open, so
 * the request is certainly executing when cancelled and has a read left to
 * do (at least the one that sees the end); it then fails with ECANCELED. */
static const char *fifo_path;
static int fifo_go[2]; /* main -> writer: write the rest and close */

static void *fifo_writer(void *arg)
{
    int *opened = arg;
    int fd = open(fifo_path, O_WRONLY | O_CLOEXEC); /* returns once slurp opened it */
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "first", 5), 5);
    __atomic_store_n(opened, 1, __ATOMIC_SEQ_CST);
    char c;
    CHECK_EQ(read(fifo_go[0], &c, 1), 1);
    CHECK_EQ(write(fd, "second", 6), 6);
    CHECK_EQ(close(fd), 0);
    return NULL;
}

static void test_slurp_cancel_midway(int style)
{
    begin("slurp cancelled while it reads", style);
    fifo_path = check_path("slurp-fifo");
    unlink(fifo_path);
    CHECK_EQ(mkfifo(fifo_path, 0600), 0);
    CHECK_EQ(pipe(fifo_go), 0);
    int opened = 0;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, fifo_writer, &opened), 0);
    struct rec r;
    evaio_req *req;
    rec_reset(&r);
    if (style == WRAP) {
        req = evaio_slurp(fifo_path, 0, 0, NULL, 0, rec_cb, &r);
        CHECK(req != NULL);
    } else {
        evaio_slurp_init(&r.own, fifo_path, 0, 0, NULL, rec_cb, &r);
        CHECK_EQ(evaio_start(&r.own), 0);
        req = &r.own;
    }
    r.expect_req = req;
    CHECK_EVENTUALLY(__atomic_load_n(&opened, __ATOMIC_SEQ_CST));
    CHECK_EQ(evaio_cancel(req), 0); /* executing: marked */
    CHECK_EQ(write(fifo_go[1], "g", 1), 1);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    expect_fail(&r, EVAIO_OP_SLURP, ECANCELED);
    CHECK(r.contents == NULL); /* nothing kept */
    CHECK_EQ(close(fifo_go[0]), 0);
    CHECK_EQ(close(fifo_go[1]), 0);
    CHECK_EQ(unlink(fifo_path), 0);
}

int main(void)
{
    main_thread = pthread_self();
    pg = (size_t)sysconf(_SC_PAGESIZE);
    CHECK(evaio_default_ctx() != NULL);
    check_tmpdir();
    CHECK_EQ(chdir("/"), 0); /* relative paths must come from a wd */
    int fds = check_count_fds();

    for (int style = WRAP; style <= INIT; style++) {
        test_msync(style);
        test_mtouch(style);
        test_mlock(style);
        test_madvise(style);
        test_sync(style);
        test_slurp(style);
        test_slurp_cancel_midway(style);
    }

    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    CHECK_EQ(check_count_fds(), fds);
    fprintf(stderr, "test_ops_mem: all passed\n");
    return 0;
}
