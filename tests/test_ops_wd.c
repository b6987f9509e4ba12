/* Working directories: wd_open and wd_close, the generated _at forms and
 * evaio_req_set_wd.  Relative paths must resolve against the handle's
 * directory, not the process's current directory; both paths of rename do;
 * a handle keeps naming its directory after that is renamed; closing a handle
 * while requests use it is safe; every descriptor is accounted for. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

static int ncalls;
static evaio_req *last_req;
static int64_t last_result;
static int last_errno;
static evaio_wd *last_wd;
static struct stat last_st;

static int cb(evaio_req *req)
{
    ncalls++;
    last_req = req;
    last_result = req->result;
    last_errno = req->errorno;
    CHECK(req->result < 0 ? req->errorno != 0 : req->errorno == 0);
    if (req->type == EVAIO_OP_WD_OPEN) {
        last_wd = req->args.wd_open.handle;
        CHECK(req->result == 0 ? last_wd != NULL : last_wd == NULL);
    }
    if (req->type == EVAIO_OP_STAT && req->result == 0)
        last_st = *req->args.stat.buf;
    return 0;
}

/* Waits for exactly one more callback. */
static void wait_one(void)
{
    int before = ncalls;
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(ncalls, before + 1);
    CHECK_EQ(evaio_nreqs(), 0);
}

static evaio_wd *open_wd(evaio_wd *base, const char *path)
{
    CHECK(evaio_wd_open_at(base, path, 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, 0);
    return last_wd;
}

static void close_wd(evaio_wd *wd)
{
    CHECK(evaio_wd_close(wd, 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, 0);
}

static void make_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(content, f);
    CHECK_EQ(fclose(f), 0);
}

/* Relative paths through a wd while the process's cwd is somewhere else
 * that has files of the same names. */
static void test_resolution(void)
{
    fprintf(stderr, "-- resolution against the wd, not the cwd\n");
    CHECK_EQ(mkdir(check_path("wd"), 0755), 0);
    CHECK_EQ(mkdir(check_path("cwd"), 0755), 0);
    make_file(check_path("wd/f"), "in the wd");
    make_file(check_path("cwd/f"), "in the cwd, longer");
    CHECK_EQ(chdir(check_path("cwd")), 0);

    evaio_wd *wd = open_wd(NULL, check_path("wd"));
    int dfd = evaio_wd_fd(wd);
    CHECK(dfd >= 0);
    CHECK(fcntl(dfd, F_GETFD) & FD_CLOEXEC);

    struct stat in_wd;
    CHECK_EQ(stat(check_path("wd/f"), &in_wd), 0);
    CHECK(evaio_stat_at(wd, "f", NULL, 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, 0);
    CHECK_EQ(last_st.st_ino, in_wd.st_ino);
    CHECK_EQ(last_st.st_size, strlen("in the wd"));

    /* Without a wd, the same relative name is the cwd's. */
    CHECK(evaio_stat("f", NULL, 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_st.st_size, strlen("in the cwd, longer"));

    /* An absolute path ignores the wd. */
    CHECK(evaio_stat_at(wd, check_path("cwd/f"), NULL, 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_st.st_size, strlen("in the cwd, longer"));

    /* Both paths of rename resolve against the wd. */
    CHECK(evaio_rename_at(wd, "f", "g", 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, 0);
    CHECK(access(check_path("wd/g"), F_OK) == 0);
    CHECK(access(check_path("wd/f"), F_OK) < 0 && errno == ENOENT);
    CHECK(access(check_path("cwd/f"), F_OK) == 0);
    CHECK(access(check_path("cwd/g"), F_OK) < 0 && errno == ENOENT);

    /* mkdir, open, lstat, readdir, unlink, rmdir through the wd. */
    CHECK(evaio_mkdir_at(wd, "sub", 0700, 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, 0);
    CHECK(evaio_open_at(wd, "sub/new", O_CREAT | O_WRONLY, 0600, 0, cb, NULL) != NULL);
    wait_one();
    CHECK(last_result >= 0);
    CHECK_EQ(close((int)last_result), 0);
    CHECK(access(check_path("wd/sub/new"), F_OK) == 0);
    CHECK(evaio_lstat_at(wd, "sub/new", NULL, 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, 0);
    CHECK(evaio_readdir_at(wd, "sub", 0, 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, 1);
    CHECK(evaio_unlink_at(wd, "sub/new", 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, 0);
    CHECK(evaio_rmdir_at(wd, "sub", 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, 0);
    CHECK(access(check_path("wd/sub"), F_OK) < 0 && errno == ENOENT);

    /* A missing name inside the wd fails like the syscall. */
    CHECK(evaio_stat_at(wd, "missing", NULL, 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, -1);
    CHECK_EQ(last_errno, ENOENT);

    /* Handles nest: wd_open relative to a wd. */
    CHECK_EQ(mkdir(check_path("wd/inner"), 0755), 0);
    make_file(check_path("wd/inner/x"), "x");
    evaio_wd *inner = open_wd(wd, "inner");
    CHECK(evaio_stat_at(inner, "x", NULL, 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, 0);
    CHECK_EQ(last_st.st_size, 1);
    close_wd(inner);

    /* The handle keeps naming its directory after a rename of it. */
    CHECK_EQ(rename(check_path("wd"), check_path("wd-moved")), 0);
    CHECK(evaio_stat_at(wd, "g", NULL, 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, 0);
    CHECK_EQ(last_st.st_ino, in_wd.st_ino);
    close_wd(wd);
    CHECK_EQ(chdir("/"), 0);
}

/* A caller-owned request takes a wd with evaio_req_set_wd after its init;
 * the init resets it, and it is ignored while in flight. */
static void test_set_wd(void)
{
    fprintf(stderr, "-- evaio_req_set_wd\n");
    CHECK_EQ(mkdir(check_path("own"), 0755), 0);
    make_file(check_path("own/file"), "12345");
    CHECK_EQ(chdir("/"), 0);
    evaio_wd *wd = open_wd(NULL, check_path("own"));

    evaio_req req;
    struct stat st;
    evaio_stat_init(&req, "file", &st, cb, NULL);
    CHECK(evaio_req_wd(&req) == NULL);
    evaio_req_set_wd(&req, wd);
    CHECK(evaio_req_wd(&req) == wd);
    CHECK_EQ(evaio_start(&req), 0);
    evaio_req_set_wd(&req, NULL); /* in flight: ignored */
    CHECK(evaio_req_wd(&req) == wd);
    wait_one();
    CHECK(last_req == &req);
    CHECK_EQ(last_result, 0);
    CHECK_EQ(st.st_size, 5);

    /* Started again, it still uses the wd. */
    memset(&st, 0, sizeof st);
    CHECK_EQ(evaio_start(&req), 0);
    wait_one();
    CHECK_EQ(last_result, 0);
    CHECK_EQ(st.st_size, 5);

    /* A new init forgets it: "file" is not in / . */
    evaio_stat_init(&req, "file", &st, cb, NULL);
    CHECK(evaio_req_wd(&req) == NULL);
    CHECK_EQ(evaio_start(&req), 0);
    wait_one();
    CHECK_EQ(last_result, -1);
    CHECK_EQ(last_errno, ENOENT);

    /* wd_open itself through both styles: init + set_wd nests too. */
    CHECK_EQ(mkdir(check_path("own/d"), 0755), 0);
    evaio_wd_open_init(&req, "d", cb, NULL);
    evaio_req_set_wd(&req, wd);
    CHECK_EQ(evaio_start(&req), 0);
    wait_one();
    CHECK_EQ(last_result, 0);
    evaio_wd *d = last_wd;
    struct stat a, b;
    CHECK_EQ(fstat(evaio_wd_fd(d), &a), 0);
    CHECK_EQ(stat(check_path("own/d"), &b), 0);
    CHECK_EQ(a.st_ino, b.st_ino);
    evaio_wd_close_init(&req, d, cb, NULL);
    CHECK_EQ(evaio_start(&req), 0);
    wait_one();
    CHECK_EQ(last_result, 0);
    close_wd(wd);
}

static void test_errors(void)
{
    fprintf(stderr, "-- wd_open / wd_close errors\n");
    make_file(check_path("plain"), "");
    CHECK(evaio_wd_open(check_path("plain"), 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_result, -1);
    CHECK_EQ(last_errno, ENOTDIR);
    CHECK(last_wd == NULL);

    CHECK(evaio_wd_open(check_path("nowhere"), 0, cb, NULL) != NULL);
    wait_one();
    CHECK_EQ(last_errno, ENOENT);
    CHECK(last_wd == NULL);

    errno = 0;
    CHECK(evaio_wd_open(NULL, 0, cb, NULL) == NULL);
    CHECK_EQ(errno, EFAULT);
    errno = 0;
    CHECK(evaio_wd_close(NULL, 0, cb, NULL) == NULL);
    CHECK_EQ(errno, EFAULT);
    errno = 0;
    CHECK_EQ(evaio_wd_fd(NULL), -1);
    CHECK_EQ(errno, EFAULT);

    /* Caller-owned: NULL fails through the callback. */
    evaio_req req;
    evaio_wd_close_init(&req, NULL, cb, NULL);
    CHECK_EQ(evaio_start(&req), 0);
    wait_one();
    CHECK_EQ(last_result, -1);
    CHECK_EQ(last_errno, EFAULT);
    evaio_wd_open_init(&req, NULL, cb, NULL);
    CHECK_EQ(evaio_start(&req), 0);
    wait_one();
    CHECK_EQ(last_errno, EFAULT);
}

/* wd_close while requests that use the handle are queued: they still run
 * against the directory, and the descriptor is closed after the last one. */
static int stats_ok, closes_ok;
static int count_cb(evaio_req *req)
{
    if (req->type == EVAIO_OP_STAT && req->result == 0 && req->args.stat.buf->st_size == 3)
        stats_ok++;
    if (req->type == EVAIO_OP_WD_CLOSE && req->result == 0) {
        /* It ran before the stats: they are still queued behind it. */
        CHECK_EQ(stats_ok, 0);
        closes_ok++;
    }
    return 0;
}

static void test_close_in_flight(void)
{
    fprintf(stderr, "-- wd_close with requests in flight\n");
    CHECK_EQ(mkdir(check_path("busy"), 0755), 0);
    make_file(check_path("busy/f"), "abc");
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);

    evaio_wd *wd = open_wd(NULL, check_path("busy"));
    int dfd = evaio_wd_fd(wd);

    /* One worker: a busy request first, then low-priority stats through the
     * wd, then wd_close at the highest priority, which runs before them. */
    CHECK(evaio_ctx_busy(ctx, 0.05, EVAIO_PRI_MAX, count_cb, NULL) != NULL);
    enum { N = 20 };
    for (int i = 0; i < N; i++)
        CHECK(evaio_ctx_stat_at(ctx, wd, "f", NULL, EVAIO_PRI_MIN, count_cb, NULL) != NULL);
    CHECK(evaio_ctx_wd_close(ctx, wd, EVAIO_PRI_MAX, count_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(closes_ok, 1);
    CHECK_EQ(stats_ok, N);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    /* The descriptor is gone once the last request finished. */
    errno = 0;
    CHECK_EQ(fcntl(dfd, F_GETFD), -1);
    CHECK_EQ(errno, EBADF);
}

int main(void)
{
    check_tmpdir();
    CHECK(evaio_default_ctx() != NULL); /* its poll fd lives on */
    int fds = check_count_fds();
    test_resolution();
    test_set_wd();
    test_errors();
    test_close_in_flight();
    CHECK_EQ(check_count_fds(), fds);
    fprintf(stderr, "ok\n");
    return 0;
}
