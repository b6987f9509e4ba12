/* Every descriptor the library opens is close-on-exec: none reaches a
 * program that the process (or another thread of it) executes.
 *
 *  1. Lasting descriptors: the poll fd of the default and of a new context,
 *     and the descriptors the ops hand over or keep (open, openat2, dup2,
 *     dup3, fcntl F_DUPFD, mkstemp, wd_open's handle, opendir's stream) are
 *     made, each from a close-on-exec source where it has one; each must
 *     have FD_CLOEXEC, and a child that execs this program again
 *     (`--list-fds`) must find nothing open but 0, 1 and 2.
 *  2. Transient descriptors (copy's source, temporary and directory, move
 *     across filesystems, slurp, readdir, scandir, rmtree, pathsync,
 *     mkpath, realpath, opendir+closedir): a thread execs children in a
 *     loop while the main thread keeps those ops running; no child may
 *     find any of them.  This one is a sampling: a leak shows up only when
 *     an exec falls while the descriptor is open, so the ops are chosen to
 *     keep them open a while (a 4 MiB copy) and the children are many.
 *
 * EVAIO_CLOEXEC_SPAWNS sets the number of children of part 2 (default 200).
 * Descriptors the test inherited from its parent are made close-on-exec
 * first: they are not the library's. */
#include "check.h" /* first: it sets _GNU_SOURCE */

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

/* ---- the child: what did it inherit? -------------------------------------- */

static int list_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        perror("/proc/self/fd");
        return 2;
    }
    int self = dirfd(d), leaked = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd <= 2 || fd == self)
            continue;
        char link[64], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = '\0';
        fprintf(stderr, "child: inherited descriptor %d -> %s\n", fd, target);
        leaked++;
    }
    closedir(d);
    return leaked ? 1 : 0;
}

/* ---- the parent ------------------------------------------------------------ */

static char self_exe[PATH_MAX];

/* Runs this program with --list-fds; returns its exit status (0: clean). */
static int spawn_lister(void)
{
    char *argv[] = { self_exe, (char *)"--list-fds", NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, self_exe, NULL, NULL, argv, environ);
    CHECK_EQ(rc, 0);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        CHECK_EQ(errno, EINTR);
    CHECK(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void expect_cloexec(int fd, const char *what)
{
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || !(flags & FD_CLOEXEC)) {
        fprintf(stderr, "%s: descriptor %d is %s\n", what, fd, flags < 0 ? "not open" : "not close-on-exec");
        exit(1);
    }
}

struct res {
    int calls;
    int64_t result;
    int err;
    evaio_wd *wd;
    evaio_dir *dir;
};

static int res_cb(evaio_req *req)
{
    struct res *r = req->data;
    r->calls++;
    r->result = req->result;
    r->err = req->errorno;
    if (req->type == EVAIO_OP_WD_OPEN)
        r->wd = req->args.wd_open.handle;
    if (req->type == EVAIO_OP_OPENDIR)
        r->dir = req->args.opendir.dir;
    return 0;
}

/* Waits for the request a wrapper returned, and returns its result. */
static int64_t finish(evaio_req *req, struct res *r, const char *what)
{
    if (!req) {
        fprintf(stderr, "%s: not submitted: %s\n", what, strerror(errno));
        exit(1);
    }
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(r->calls, 1);
    if (r->result < 0 && r->err != ENOSYS) {
        fprintf(stderr, "%s failed: %s\n", what, strerror(r->err));
        exit(1);
    }
    return r->result;
}

#define RUN(what, call) (memset(&res, 0, sizeof res), finish((call), &res, what))

static char tmp_buf[8][PATH_MAX];
static const char *tmp(int slot, const char *name)
{
    int n = snprintf(tmp_buf[slot], sizeof tmp_buf[slot], "%s/%s", check_tmpdir(), name);
    CHECK(n > 0 && (size_t)n < sizeof tmp_buf[slot]);
    return tmp_buf[slot];
}

static void write_file(const char *path, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    char block[65536];
    memset(block, 'x', sizeof block);
    for (size_t done = 0; done < size; done += sizeof block)
        CHECK_EQ(write(fd, block, sizeof block), (ssize_t)sizeof block);
    CHECK_EQ(close(fd), 0);
}

/* ---- 1. lasting descriptors ------------------------------------------------ */

static void test_lasting(void)
{
    struct res res;
    int fds[16], nfds = 0;

    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    expect_cloexec(evaio_ctx_poll_fd(ctx), "a new context's poll fd");
    expect_cloexec(evaio_poll_fd(), "the default context's poll fd");

    const char *file = tmp(0, "lasting-file");
    write_file(file, 16);

    /* open without O_CLOEXEC: the library adds it. */
    int fd = (int)RUN("open", evaio_open(file, O_RDWR, 0, 0, res_cb, &res));
    expect_cloexec(fd, "open");
    fds[nfds++] = fd;

    int64_t r = RUN("openat2", evaio_openat2(file, O_RDONLY, 0, 0, 0, res_cb, &res));
    if (r >= 0) {
        expect_cloexec((int)r, "openat2");
        fds[nfds++] = (int)r;
    } else {
        fprintf(stderr, "openat2: ENOSYS here, not checked\n");
    }

    /* dup2 and dup3 onto free numbers, and F_DUPFD: dup2(2) and F_DUPFD
     * would clear the flag, the library must not. */
    int target = fcntl(fd, F_DUPFD_CLOEXEC, 100);
    CHECK(target >= 100);
    CHECK_EQ(close(target), 0);
    CHECK_EQ(RUN("dup2", evaio_dup2(fd, target, 0, res_cb, &res)), target);
    expect_cloexec(target, "dup2");
    fds[nfds++] = target;
    CHECK_EQ(RUN("dup3", evaio_dup3(fd, target + 1, 0, 0, res_cb, &res)), target + 1);
    expect_cloexec(target + 1, "dup3");
    fds[nfds++] = target + 1;
    r = RUN("fcntl F_DUPFD", evaio_fcntl(fd, F_DUPFD, 0, 0, res_cb, &res));
    expect_cloexec((int)r, "fcntl F_DUPFD");
    fds[nfds++] = (int)r;

    char pattern[PATH_MAX];
    snprintf(pattern, sizeof pattern, "%s", tmp(1, "stemp-XXXXXX"));
    r = RUN("mkstemp", evaio_mkstemp(pattern, 0, 0, res_cb, &res));
    expect_cloexec((int)r, "mkstemp");
    fds[nfds++] = (int)r;

    RUN("wd_open", evaio_wd_open(check_tmpdir(), 0, res_cb, &res));
    evaio_wd *wd = res.wd;
    CHECK(wd != NULL);
    expect_cloexec(evaio_wd_fd(wd), "wd_open");

    RUN("opendir", evaio_opendir(check_tmpdir(), 0, res_cb, &res));
    evaio_dir *dir = res.dir;
    CHECK(dir != NULL);
    /* The stream's descriptor has no accessor: only the child sees it. */

    /* Workers alive in both contexts, then exec. */
    evaio_ctx_set_min_parallel(ctx, 2);
    CHECK_EQ(spawn_lister(), 0);

    RUN("closedir", evaio_closedir(dir, 0, res_cb, &res));
    RUN("wd_close", evaio_wd_close(wd, 0, res_cb, &res));
    for (int i = 0; i < nfds; i++)
        CHECK_EQ(close(fds[i]), 0);
    evaio_ctx_set_min_parallel(ctx, 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    fprintf(stderr, "lasting descriptors: %d kinds, all close-on-exec\n", nfds + 4);
}

/* ---- 2. transient descriptors ---------------------------------------------- */

static int spawning = 1; /* cleared by the spawner when it is done */
static int spawn_failures, spawn_count;

static void *spawner(void *arg)
{
    int n = *(int *)arg;
    for (int i = 0; i < n; i++) {
        if (spawn_lister() != 0)
            spawn_failures++;
        spawn_count++;
    }
    __atomic_store_n(&spawning, 0, __ATOMIC_RELEASE);
    return NULL;
}

/* One request per kind of op in flight: each resubmits itself from its
 * callback until the spawner is done. */
enum { K_COPY, K_MOVE, K_SLURP, K_READDIR, K_SCANDIR, K_RMTREE, K_PATHSYNC, K_MKPATH, K_REALPATH, K_OPENDIR, K_COUNT };
static const char *const kind_names[K_COUNT] = { "copy", "move", "slurp", "readdir", "scandir", "rmtree",
                                                 "pathsync", "mkpath", "realpath", "opendir+closedir" };
static unsigned long kind_runs[K_COUNT];
static char big[PATH_MAX], copy_dst[PATH_MAX], tree_ls[PATH_MAX], tree_rm[PATH_MAX], deep[PATH_MAX],
    deep_dots[PATH_MAX], move_a[PATH_MAX], move_b[PATH_MAX], shm_dir[PATH_MAX];
static int move_back;

static void submit_kind(int k);

static int kind_cb(evaio_req *req)
{
    int k = (int)(intptr_t)req->data;
    if (req->result < 0) {
        fprintf(stderr, "%s failed: %s\n", kind_names[k], strerror(req->errorno));
        exit(1);
    }
    kind_runs[k]++;
    if (k == K_OPENDIR)
        CHECK(evaio_closedir(req->args.opendir.dir, 0, NULL, NULL) != NULL);
    if (k == K_MOVE)
        move_back ^= 1;
    if (__atomic_load_n(&spawning, __ATOMIC_ACQUIRE))
        submit_kind(k);
    return 0;
}

static void make_tree(const char *root)
{
    char p[PATH_MAX];
    CHECK(mkdir(root, 0700) == 0);
    for (int i = 0; i < 20; i++) {
        snprintf(p, sizeof p, "%s/d%d", root, i);
        CHECK_EQ(mkdir(p, 0700), 0);
        snprintf(p, sizeof p, "%s/d%d/f", root, i);
        write_file(p, 0);
    }
}

static void submit_kind(int k)
{
    void *data = (void *)(intptr_t)k;
    evaio_req *req = NULL;
    switch (k) {
    case K_COPY:
        req = evaio_copy(big, copy_dst, 0, 0, kind_cb, data);
        break;
    case K_MOVE: /* back and forth, across filesystems where /dev/shm is one */
        req = evaio_move(move_back ? move_b : move_a, move_back ? move_a : move_b, 0, 0, kind_cb, data);
        break;
    case K_SLURP:
        req = evaio_slurp(big, 0, 0, NULL, 0, kind_cb, data);
        break;
    case K_READDIR:
        req = evaio_readdir(tree_ls, 0, 0, kind_cb, data);
        break;
    case K_SCANDIR:
        req = evaio_scandir(tree_ls, 4, 0, kind_cb, data);
        break;
    case K_RMTREE: /* made again first: it is small */
        make_tree(tree_rm);
        req = evaio_rmtree(tree_rm, 0, kind_cb, data);
        break;
    case K_PATHSYNC:
        req = evaio_pathsync(copy_dst, 0, kind_cb, data);
        break;
    case K_MKPATH:
        req = evaio_mkpath(deep, 0700, 0, kind_cb, data);
        break;
    case K_REALPATH:
        req = evaio_realpath(deep_dots, 0, kind_cb, data);
        break;
    case K_OPENDIR:
        req = evaio_opendir(tree_ls, 0, kind_cb, data);
        break;
    }
    CHECK(req != NULL);
}

static void remove_shm_dir(void)
{
    if (shm_dir[0])
        nftw(shm_dir, check_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_transient(int spawns)
{
    snprintf(big, sizeof big, "%s", tmp(0, "big"));
    snprintf(copy_dst, sizeof copy_dst, "%s", tmp(0, "big-copy"));
    snprintf(tree_ls, sizeof tree_ls, "%s", tmp(0, "tree-listed"));
    snprintf(tree_rm, sizeof tree_rm, "%s", tmp(0, "tree-removed"));
    snprintf(deep, sizeof deep, "%s", tmp(0, "deep/a/b/c"));
    snprintf(deep_dots, sizeof deep_dots, "%s", tmp(0, "deep/a/../a/b/./c"));
    snprintf(move_a, sizeof move_a, "%s", tmp(0, "moved"));
    write_file(big, 4 << 20);
    write_file(copy_dst, 0);
    write_file(move_a, 1 << 20);
    make_tree(tree_ls);
    CHECK_EQ(mkdir(tmp(0, "deep"), 0700), 0);
    CHECK_EQ(mkdir(tmp(0, "deep/a"), 0700), 0);
    CHECK_EQ(mkdir(tmp(0, "deep/a/b"), 0700), 0);
    CHECK_EQ(mkdir(tmp(0, "deep/a/b/c"), 0700), 0);

    /* move copies and unlinks across filesystems: /dev/shm, if it is one. */
    struct stat st_tmp, st_shm;
    CHECK_EQ(stat(check_tmpdir(), &st_tmp), 0);
    snprintf(shm_dir, sizeof shm_dir, "/dev/shm/evaio-test-XXXXXX");
    if (stat("/dev/shm", &st_shm) == 0 && st_shm.st_dev != st_tmp.st_dev && mkdtemp(shm_dir)) {
        atexit(remove_shm_dir);
        CHECK((size_t)snprintf(move_b, sizeof move_b, "%s/moved", shm_dir) < sizeof move_b);
    } else {
        shm_dir[0] = '\0';
        snprintf(move_b, sizeof move_b, "%s", tmp(0, "moved-back"));
        fprintf(stderr, "no /dev/shm on another filesystem: move is a rename here\n");
    }

    for (int k = 0; k < K_COUNT; k++)
        submit_kind(k);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, spawner, &spawns), 0);
    CHECK_EQ(evaio_wait(), 0); /* the callbacks stop resubmitting once the spawner is done */
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(spawn_count, spawns);
    for (int k = 0; k < K_COUNT; k++)
        fprintf(stderr, "  %s: %lu runs\n", kind_names[k], kind_runs[k]);
    if (spawn_failures) {
        fprintf(stderr, "%d of %d children inherited descriptors\n", spawn_failures, spawns);
        exit(1);
    }
    fprintf(stderr, "transient descriptors: %d children, none inherited any\n", spawns);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--list-fds") == 0)
        return list_fds();

    /* Descriptors from our parent (a build tool's jobserver, say) are not
     * the library's: keep them out of the children. */
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        SKIP("no /proc/self/fd");
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd > 2 && fd != dirfd(d))
            fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    closedir(d);

    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    CHECK(n > 0);
    self_exe[n] = '\0';
    /* Nothing inherited so far. */
    CHECK_EQ(spawn_lister(), 0);

    const char *env = getenv("EVAIO_CLOEXEC_SPAWNS");
    int spawns = env && atoi(env) > 0 ? atoi(env) : 200;

    test_lasting();
    test_transient(spawns);
    return 0;
}
