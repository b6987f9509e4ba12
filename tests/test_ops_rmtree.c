/* rmtree: removes trees of files, directories and symlinks without ever
 * following a symlink, within the group's limit of steps at once, through
 * both API styles and a working directory; errors and cancellation leave no
 * descriptor behind. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

static int ncalls;
static int64_t last_result;
static int last_errno;
static int last_cancelled;

static int cb(evaio_req *req)
{
    ncalls++;
    CHECK_EQ(req->type, EVAIO_OP_RMTREE);
    last_result = req->result;
    last_errno = req->errorno;
    last_cancelled = evaio_req_cancelled(req);
    CHECK(req->result < 0 ? req->errorno != 0 : req->errorno == 0);
    return 0;
}

static void make_file(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "data", 4), 4);
    CHECK_EQ(close(fd), 0);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A tree: depth levels of `fanout` directories, each with `files` files, a
 * symlink to `outside` (a directory that must survive) and a dangling one. */
static void make_tree(const char *root, int depth, int fanout, int files, const char *outside)
{
    CHECK_EQ(mkdir(root, 0755), 0);
    char path[4096];
    for (int i = 0; i < files; i++) {
        snprintf(path, sizeof path, "%s/f%d", root, i);
        make_file(path);
    }
    snprintf(path, sizeof path, "%s/link-out", root);
    CHECK_EQ(symlink(outside, path), 0);
    snprintf(path, sizeof path, "%s/dangling", root);
    CHECK_EQ(symlink("/nonexistent/evaio", path), 0);
    if (depth > 0) {
        for (int i = 0; i < fanout; i++) {
            snprintf(path, sizeof path, "%s/d%d", root, i);
            make_tree(path, depth - 1, fanout, files, outside);
        }
    }
}

static void run(int style, const char *path)
{
    static evaio_req own;
    int before = ncalls;
    if (style == 0) {
        CHECK(evaio_rmtree(path, 0, cb, NULL) != NULL);
    } else {
        evaio_rmtree_init(&own, path, cb, NULL);
        CHECK_EQ(evaio_start(&own), 0);
    }
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(ncalls, before + 1);
    CHECK_EQ(evaio_nreqs(), 0);
}

static void test_trees(void)
{
    const char *outside = check_path("outside");
    CHECK_EQ(mkdir(outside, 0755), 0);
    make_file(check_path("outside/keep"));
    for (int style = 0; style < 2; style++) {
        fprintf(stderr, "-- a tree with symlinks out of it (style %d)\n", style);
        const char *root = check_path("tree");
        make_tree(root, 3, 3, 5, outside);
        run(style, root);
        CHECK_EQ(last_result, 0);
        CHECK(!exists(root));
        CHECK(exists(check_path("outside/keep"))); /* never followed */

        fprintf(stderr, "-- a file, a symlink to a directory, an empty directory\n");
        make_file(check_path("file"));
        run(style, check_path("file"));
        CHECK_EQ(last_result, 0);
        CHECK(!exists(check_path("file")));
        CHECK_EQ(symlink(outside, check_path("dirlink")), 0);
        run(style, check_path("dirlink"));
        CHECK_EQ(last_result, 0);
        CHECK(!exists(check_path("dirlink")));
        CHECK(exists(check_path("outside/keep")));
        CHECK_EQ(mkdir(check_path("empty"), 0755), 0);
        run(style, check_path("empty/"));
        CHECK_EQ(last_result, 0);
        CHECK(!exists(check_path("empty")));

        fprintf(stderr, "-- errors\n");
        run(style, check_path("missing"));
        CHECK_EQ(last_result, -1);
        CHECK_EQ(last_errno, ENOENT);
        run(style, "");
        CHECK_EQ(last_errno, ENOENT);
        run(style, check_path("."));
        CHECK_EQ(last_errno, EINVAL);
        run(style, "/");
        CHECK_EQ(last_errno, EINVAL);
        CHECK(exists(check_path("outside/keep")));
    }
    errno = 0;
    CHECK(evaio_rmtree(NULL, 0, cb, NULL) == NULL);
    CHECK_EQ(errno, EFAULT);
    evaio_req req;
    evaio_rmtree_init(&req, NULL, cb, NULL);
    CHECK_EQ(evaio_start(&req), 0);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(last_errno, EFAULT);
}

/* A wide directory with the group's limit at 3: never more than 3 steps
 * outstanding, seen after every single callback. */
static void test_limit(void)
{
    fprintf(stderr, "-- bounded concurrency\n");
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_poll_reqs(ctx, 1);
    evaio_ctx_set_max_parallel(ctx, 8);
    const char *root = check_path("wide");
    CHECK_EQ(mkdir(root, 0755), 0);
    char path[4096];
    for (int d = 0; d < 20; d++) {
        snprintf(path, sizeof path, "%s/d%d", root, d);
        CHECK_EQ(mkdir(path, 0755), 0);
        for (int f = 0; f < 300; f++) {
            snprintf(path, sizeof path, "%s/d%d/f%d", root, d, f);
            make_file(path);
        }
    }
    int before = ncalls;
    evaio_req *req = evaio_ctx_rmtree(ctx, root, 0, cb, NULL);
    CHECK(req != NULL);
    evaio_grp_limit(req, 3);
    unsigned most = 0;
    while (ncalls == before) {
        int r = evaio_ctx_poll(ctx);
        CHECK(r == 0 || (r == -1 && errno == EAGAIN));
        if (ncalls == before) {
            unsigned n = evaio_grp_outstanding(req);
            CHECK(n <= 3);
            most = n > most ? n : most;
        }
        if (r == 0 && ncalls == before) {
            struct pollfd p = { .fd = evaio_ctx_poll_fd(ctx), .events = POLLIN };
            CHECK(poll(&p, 1, -1) >= 0 || errno == EINTR);
        }
    }
    CHECK_EQ(last_result, 0);
    CHECK(!exists(root));
    CHECK(most >= 2); /* it did run steps side by side */
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* Cancelled before poll reaches it: nothing is removed.  Cancelled after a
 * few steps: it stops, reports ECANCELED, and part of the tree remains. */
static void test_cancel(void)
{
    fprintf(stderr, "-- cancel\n");
    const char *root = check_path("cancelled");
    make_tree(root, 2, 4, 20, check_path("outside"));
    evaio_req *req = evaio_rmtree(root, 0, cb, NULL);
    CHECK(req != NULL);
    CHECK_EQ(evaio_cancel(req), 1);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(last_result, -1);
    CHECK_EQ(last_errno, ECANCELED);
    CHECK(last_cancelled);
    CHECK(exists(check_path("cancelled/d0/d0/f0")));

    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_poll_reqs(ctx, 1);
    int before = ncalls;
    req = evaio_ctx_rmtree(ctx, root, 0, cb, NULL);
    CHECK(req != NULL);
    evaio_grp_limit(req, 1);
    /* With max_poll_reqs 1, a poll while results wait handles exactly one:
     * the request itself (its driver begins), then four of its ~60 steps. */
    for (int handled = 0; handled < 5;) {
        struct pollfd p = { .fd = evaio_ctx_poll_fd(ctx), .events = POLLIN };
        CHECK(poll(&p, 1, -1) >= 0 || errno == EINTR);
        if (!evaio_ctx_npending(ctx))
            continue;
        int r = evaio_ctx_poll(ctx);
        CHECK(r == 0 || (r == -1 && errno == EAGAIN));
        handled++;
        CHECK_EQ(ncalls, before);
    }
    CHECK_EQ(evaio_cancel(req), 1);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(ncalls, before + 1);
    CHECK_EQ(last_result, -1);
    CHECK_EQ(last_errno, ECANCELED);
    CHECK(exists(root)); /* it stopped before the end */
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    run(0, root);
    CHECK_EQ(last_result, 0);
    CHECK(!exists(root));
}

/* Through a working directory, with the process somewhere else. */
static void test_wd(void)
{
    fprintf(stderr, "-- through a wd\n");
    CHECK_EQ(mkdir(check_path("base"), 0755), 0);
    make_tree(check_path("base/t"), 2, 2, 3, check_path("outside"));
    CHECK_EQ(chdir("/"), 0);
    evaio_wd *wd = NULL;
    evaio_req req;
    evaio_wd_open_init(&req, check_path("base"), NULL, NULL);
    CHECK_EQ(evaio_start(&req), 0);
    CHECK_EQ(evaio_wait(), 0);
    wd = req.args.wd_open.handle;
    CHECK(wd != NULL);
    CHECK(evaio_rmtree_at(wd, "t", 0, cb, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(last_result, 0);
    CHECK(!exists(check_path("base/t")));
    CHECK(exists(check_path("base")));
    CHECK(evaio_wd_close(wd, 0, NULL, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0);
}

int main(void)
{
    check_tmpdir();
    CHECK(evaio_default_ctx() != NULL);
    int fds = check_count_fds();
    test_trees();
    test_limit();
    test_cancel();
    test_wd();
    CHECK_EQ(check_count_fds(), fds);
    fprintf(stderr, "ok\n");
    return 0;
}
