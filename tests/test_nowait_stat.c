/* stat, lstat and fstat completed on the submitting thread (spec field
 * `nowait`, runtime/nowait_stat.c).  Where the system allows it (Linux 6.12
 * or later, a filesystem whose getattr reads memory), a request that is the
 * only one outstanding on its context completes inside evaio_ctx_start from
 * the dentry cache, with the same answer a worker's call gives; everything
 * else (other requests outstanding, a name not cached, another filesystem,
 * a library-supplied buffer) goes to a worker as before.  Where the system
 * does not allow it, every case must still give the worker's answer, and the
 * test says which it checked. */
#include "check.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdint.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

static int inline_ok;     /* the attempt can complete here */
static int keeps_missing; /* the filesystem keeps negative dentries (tmpfs does not) */
static int droppable;     /* drop_caches can evict its dentries (not tmpfs's) */

/* What nowait_stat.c needs, probed the way it does: openat2 with
 * RESOLVE_CACHED (valgrind 3.19 does not know openat2), a unique mount id
 * from name_to_handle_at (6.12) and statmount (6.8), none refused by a
 * sandbox; and a filesystem on its list under the test directory. */
static int expect_inline(const char *dir)
{
#if defined(__linux__) && defined(SYS_openat2) && defined(O_PATH) && __SIZEOF_POINTER__ == 8 && \
    ((defined(__x86_64__) && !defined(__ILP32__)) || defined(__aarch64__) ||                     \
     (defined(__riscv) && __riscv_xlen == 64))
    struct {
        uint64_t flags, mode, resolve;
    } how = { O_PATH | O_CLOEXEC, 0, 0x20 /* RESOLVE_CACHED */ };
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof how);
    if (fd < 0)
        return 0;
    struct file_handle fh = { .handle_bytes = 0 };
    uint64_t mnt_id = 0;
    int r = name_to_handle_at(fd, "", &fh, (int *)&mnt_id, AT_EMPTY_PATH | 0x001 /* AT_HANDLE_MNT_ID_UNIQUE */);
    close(fd);
    if ((r < 0 && errno != EOVERFLOW) || !mnt_id)
        return 0;
    struct {
        uint32_t size, spare;
        uint64_t mnt_id, param;
    } req = { 24, 0, mnt_id, 1 /* STATMOUNT_SB_BASIC */ };
    uint64_t sm[64];
    if (syscall(457 /* statmount */, &req, sm, sizeof sm, 0) < 0)
        return 0;
    struct statfs sf;
    CHECK_EQ(statfs(dir, &sf), 0);
    switch ((unsigned long)sf.f_type) {
    case 0x01021994: /* tmpfs */
        return 1;
    case 0xEF53: case 0x58465342: case 0x9123683E: case 0xF2F52010:
        keeps_missing = droppable = 1;
        return 1;
    default:
        return 0;
    }
#else
    (void)dir;
    return 0;
#endif
}

/* Every field stat fills, times included. */
static void check_same_stat(const struct stat *a, const struct stat *b)
{
    check_same_file(a, b);
    CHECK_EQ(a->st_rdev, b->st_rdev);
    CHECK_EQ(a->st_blksize, b->st_blksize);
    CHECK_EQ(a->st_blocks, b->st_blocks);
    CHECK_EQ(a->st_mtim.tv_sec, b->st_mtim.tv_sec);
    CHECK_EQ(a->st_mtim.tv_nsec, b->st_mtim.tv_nsec);
    CHECK_EQ(a->st_ctim.tv_sec, b->st_ctim.tv_sec);
    CHECK_EQ(a->st_ctim.tv_nsec, b->st_ctim.tv_nsec);
}

/* want_poll runs on the thread that queues the first result while the poll
 * fd is clear: the submitting thread when the request completed there. */
static pthread_t pusher;
static int npushes; /* atomic */

static void record_pusher(evaio_ctx *ctx, void *data)
{
    (void)ctx, (void)data;
    pusher = pthread_self();
    __atomic_fetch_add(&npushes, 1, __ATOMIC_RELEASE);
}

static evaio_ctx *new_ctx(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_hooks(ctx, record_pusher, NULL, NULL);
    return ctx;
}

/* Starts req on ctx, waits for it, and says whether it completed on this
 * thread (rather than a worker). */
static int start_completes_here(evaio_ctx *ctx, evaio_req *req)
{
    CHECK_EQ(evaio_ctx_npending(ctx), 0);
    __atomic_store_n(&npushes, 0, __ATOMIC_RELEASE);
    CHECK_EQ(evaio_ctx_start(ctx, req), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(__atomic_load_n(&npushes, __ATOMIC_ACQUIRE), 1);
    return pthread_equal(pusher, pthread_self());
}

/* The same, where `expected` says whether it should complete here.  A
 * cached-only lookup also declines, now and then, when another thread
 * changes directory entries while it walks (the lock-free walk is not
 * retried): an expected completion is tried again, on a fresh context (a
 * worker that just ran the declined request would take the next), up to
 * 100 times.  Answers are checked on the last try's result. */
static int completes_here(evaio_ctx *ctx, evaio_req *req, int expected)
{
    int here = start_completes_here(ctx, req);
    for (int i = 0; expected && !here && i < 100; i++) {
        evaio_ctx *fresh = new_ctx();
        here = start_completes_here(fresh, req);
        CHECK_EQ(evaio_ctx_free(fresh), 0);
    }
    return here;
}

/* Files, a symlink and a missing name: each answer equals fstatat's, on this
 * thread where allowed. */
static void test_answers(void)
{
    int fds_before = check_count_fds();
    char file[4096]; /* check_path's buffers are reused */
    snprintf(file, sizeof file, "%s", check_path("file"));
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "twelve bytes", 12), 12);
    CHECK_EQ(close(fd), 0);
    CHECK_EQ(mkdir(check_path("dir"), 0750), 0);
    CHECK_EQ(symlink("file", check_path("link")), 0);
    CHECK_EQ(symlink("dir", check_path("dirlink")), 0);

    evaio_ctx *ctx = new_ctx();
    evaio_req req;
    struct stat got, want;

    /* stat follows the link, lstat does not. */
    CHECK_EQ(stat(file, &want), 0); /* and the names are in the dentry cache */
    evaio_stat_init(&req, file, &got, NULL, NULL);
    CHECK_EQ(completes_here(ctx, &req, inline_ok), inline_ok);
    CHECK_EQ(req.result, 0);
    check_same_stat(&got, &want);

    evaio_stat_init(&req, check_path("link"), &got, NULL, NULL);
    CHECK_EQ(completes_here(ctx, &req, inline_ok), inline_ok);
    CHECK_EQ(req.result, 0);
    check_same_stat(&got, &want);

    CHECK_EQ(lstat(check_path("link"), &want), 0);
    evaio_lstat_init(&req, check_path("link"), &got, NULL, NULL);
    CHECK_EQ(completes_here(ctx, &req, inline_ok), inline_ok);
    CHECK_EQ(req.result, 0);
    CHECK(S_ISLNK(got.st_mode));
    check_same_stat(&got, &want);

    /* A trailing slash makes lstat follow a link to a directory. */
    CHECK_EQ(lstat(check_path("dirlink/"), &want), 0);
    CHECK(S_ISDIR(want.st_mode));
    evaio_lstat_init(&req, check_path("dirlink/"), &got, NULL, NULL);
    CHECK_EQ(completes_here(ctx, &req, inline_ok), inline_ok);
    CHECK_EQ(req.result, 0);
    check_same_stat(&got, &want);

    /* A missing name: once a lookup has cached its absence, answered here
     * (tmpfs caches no absence: a worker looks).  On a context of its own,
     * as a worker that just finished would take the next request. */
    const char *missing = check_path("missing");
    CHECK_EQ(stat(missing, &want), -1);
    evaio_ctx *mctx = new_ctx();
    evaio_stat_init(&req, missing, &got, NULL, NULL);
    CHECK_EQ(completes_here(mctx, &req, inline_ok && keeps_missing), inline_ok && keeps_missing);
    CHECK_EQ(req.result, -1);
    CHECK_EQ(req.errorno, ENOENT);
    CHECK_EQ(evaio_ctx_free(mctx), 0);

    /* The allocating wrapper's buffer lives in its one allocation. */
    int here = 0;
    for (int i = 0; i < 100 && !here; i++) {
        evaio_ctx *wctx = new_ctx();
        __atomic_store_n(&npushes, 0, __ATOMIC_RELEASE);
        CHECK(evaio_ctx_stat(wctx, file, NULL, 0, NULL, NULL) != NULL);
        CHECK_EQ(evaio_ctx_wait(wctx), 0);
        CHECK_EQ(__atomic_load_n(&npushes, __ATOMIC_ACQUIRE), 1);
        here = pthread_equal(pusher, pthread_self()) != 0;
        CHECK_EQ(evaio_ctx_free(wctx), 0);
        if (!inline_ok)
            break;
    }
    CHECK_EQ(here, inline_ok);

    /* Relative to a working directory (opened through another context:
     * here a worker that just finished would take the next request). */
    evaio_ctx *other = evaio_ctx_new();
    CHECK(other != NULL);
    evaio_wd_open_init(&req, check_tmpdir(), NULL, NULL);
    CHECK_EQ(evaio_ctx_start(other, &req), 0);
    CHECK_EQ(evaio_ctx_wait(other), 0);
    CHECK_EQ(req.result, 0);
    evaio_wd *wd = req.args.wd_open.handle;
    CHECK_EQ(stat(file, &want), 0);
    evaio_stat_init(&req, "dir/../file", &got, NULL, NULL);
    evaio_req_set_wd(&req, wd);
    CHECK_EQ(completes_here(ctx, &req, inline_ok), inline_ok);
    CHECK_EQ(req.result, 0);
    check_same_stat(&got, &want);
    evaio_wd_close_init(&req, wd, NULL, NULL);
    CHECK_EQ(evaio_ctx_start(other, &req), 0);
    CHECK_EQ(evaio_ctx_wait(other), 0);
    CHECK_EQ(req.result, 0);
    CHECK_EQ(evaio_ctx_free(other), 0);

    /* fstat of an open file; a pipe's filesystem is not on the list. */
    fd = open(file, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    evaio_fstat_init(&req, fd, &got, NULL, NULL);
    CHECK_EQ(completes_here(ctx, &req, inline_ok), inline_ok);
    CHECK_EQ(req.result, 0);
    check_same_stat(&got, &want);
    int p[2];
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    CHECK_EQ(fstat(p[0], &want), 0);
    evaio_fstat_init(&req, p[0], &got, NULL, NULL);
    CHECK_EQ(completes_here(ctx, &req, 0), 0);
    CHECK_EQ(req.result, 0);
    check_same_stat(&got, &want);
    CHECK_EQ(close(p[0]), 0);
    CHECK_EQ(close(p[1]), 0);

    /* A bad descriptor: the worker's fstat says so. */
    evaio_fstat_init(&req, p[0], &got, NULL, NULL);
    CHECK_EQ(completes_here(ctx, &req, 0), 0);
    CHECK_EQ(req.result, -1);
    CHECK_EQ(req.errorno, EBADF);
    CHECK_EQ(close(fd), 0);

    /* A file used as a directory: the cached walk declines (EAGAIN), and
     * the worker's call answers. */
    evaio_lstat_init(&req, check_path("file/x"), &got, NULL, NULL);
    CHECK_EQ(completes_here(ctx, &req, 0), 0);
    CHECK_EQ(req.result, -1);
    CHECK_EQ(req.errorno, ENOTDIR);

    /* procfs is not on the list. */
    CHECK_EQ(stat("/proc/self/stat", &want), 0);
    evaio_stat_init(&req, "/proc/self/stat", &got, NULL, NULL);
    CHECK_EQ(completes_here(ctx, &req, 0), 0);
    CHECK_EQ(req.result, 0);

    /* A buffer the library supplies is allocated on a worker. */
    evaio_stat_init(&req, file, NULL, NULL, NULL);
    CHECK_EQ(completes_here(ctx, &req, 0), 0);
    CHECK_EQ(req.result, 0);


    CHECK_EQ(evaio_ctx_free(ctx), 0);
    CHECK_EQ(check_count_fds(), fds_before); /* no O_PATH descriptor left behind */
}

/* A name not in the dentry cache would need the disk: a worker looks it up.
 * Only root can empty the cache (drop_caches), so only root runs this. */
static void test_uncached(void)
{
    if (!droppable) {
        fprintf(stderr, "the test directory's dentries cannot be dropped here: the uncached case is not run\n");
        return;
    }
    int dfd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
    if (dfd < 0) {
        fprintf(stderr, "cannot drop the dentry cache (%s): the uncached case is not run\n", strerror(errno));
        return;
    }
    const char *path = check_path("cold");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(close(fd), 0);
    sync();
    CHECK_EQ(write(dfd, "2", 1), 1); /* dentries and inodes */
    CHECK_EQ(close(dfd), 0);
    evaio_ctx *ctx = new_ctx();
    evaio_req req;
    struct stat got;
    evaio_stat_init(&req, path, &got, NULL, NULL);
    /* The test directory's entries are in no open descriptor's path, so the
     * drop removed them; the attempt declines and a worker runs it. */
    CHECK_EQ(completes_here(ctx, &req, 0), 0);
    CHECK_EQ(req.result, 0);
    CHECK_EQ(got.st_size, 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* With another request outstanding the stat goes to a worker: a stream of
 * stats keeps the workers busy in parallel with the submitting thread. */
static void test_not_alone(void)
{
    const char *file = check_path("busyfile");
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(close(fd), 0);
    struct stat want, got;
    CHECK_EQ(stat(file, &want), 0);
    check_gate_open();
    evaio_ctx *ctx = new_ctx();
    check_gate_reset();
    CHECK(evaio_ctx_custom(ctx, check_gate_hold, 0, NULL, NULL) != NULL);
    CHECK_GATE_HOLDS(1);
    evaio_req req;
    evaio_stat_init(&req, file, &got, NULL, NULL);
    __atomic_store_n(&npushes, 0, __ATOMIC_RELEASE);
    CHECK_EQ(evaio_ctx_start(ctx, &req), 0);
    check_gate_release();
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK(__atomic_load_n(&npushes, __ATOMIC_ACQUIRE) >= 1);
    CHECK(!pthread_equal(pusher, pthread_self())); /* a worker completed it */
    CHECK_EQ(req.result, 0);
    check_same_stat(&got, &want);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* From its own callback, the request is the only one outstanding besides
 * the one whose callback runs: the next stat completes here too, and the
 * same poll call delivers it. */
static int chain_left, chain_runs;
static struct stat chain_st;

static int chain_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    chain_runs++;
    if (chain_left-- > 0)
        CHECK(evaio_ctx_stat(req->data, check_path("file"), &chain_st, 0, chain_cb, req->data) != NULL);
    return 0;
}

static void test_from_callback(void)
{
    /* Every one completed on this thread when no worker was started; a
     * chain with a passing decline (see completes_here) is run again. */
    int all_here = 0;
    for (int i = 0; i < 100 && !all_here; i++) {
        evaio_ctx *ctx = new_ctx();
        chain_left = 5;
        chain_runs = 0;
        CHECK(evaio_ctx_stat(ctx, check_path("file"), &chain_st, 0, chain_cb, ctx) != NULL);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        CHECK_EQ(chain_runs, 6);
        all_here = evaio_ctx_nthreads(ctx) == 0;
        CHECK_EQ(evaio_ctx_free(ctx), 0);
        if (!inline_ok)
            break;
    }
    CHECK_EQ(all_here, inline_ok);
}

int main(void)
{
    inline_ok = expect_inline(check_tmpdir());
    fprintf(stderr, "stat attempts %s complete on the submitting thread here\n",
            inline_ok ? "must" : "cannot (kernel, filesystem or valgrind): checked that they do not, and that workers answer,");
    test_answers();
    test_not_alone();
    test_from_callback();
    test_uncached();
    return 0;
}
