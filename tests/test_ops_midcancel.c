/* Cancelling the composite operations mkpath and pathsync in the middle of
 * their steps, deterministically: the test interposes mkdirat and fsync so
 * that a chosen call blocks until the test has cancelled the request.  The
 * request must then stop at its next cancel point with ECANCELED, and mkpath
 * must remove the directories it made (no half-made path stays behind). */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

static int block_at;       /* the call (1-based) to hold; 0: none */
static int ncalls, held;   /* calls seen, the held one has started */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void maybe_hold(void)
{
    pthread_mutex_lock(&gate_lock);
    if (++ncalls == block_at) {
        held = 1;
        pthread_cond_broadcast(&gate_cond);
        while (!gate_open)
            pthread_cond_wait(&gate_cond, &gate_lock);
    }
    pthread_mutex_unlock(&gate_lock);
}

__attribute__((visibility("default"))) int mkdirat(int dirfd, const char *path, mode_t mode)
{
    static int (*real)(int, const char *, mode_t);
    if (!real)
        real = (int (*)(int, const char *, mode_t))dlsym(RTLD_NEXT, "mkdirat");
    int r = real(dirfd, path, mode);
    maybe_hold();
    return r;
}

__attribute__((visibility("default"))) int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int r = real(fd);
    maybe_hold();
    return r;
}

static void arm(int at)
{
    pthread_mutex_lock(&gate_lock);
    block_at = at;
    ncalls = held = gate_open = 0;
    pthread_mutex_unlock(&gate_lock);
}

static void wait_held_then_cancel(evaio_req *req)
{
    pthread_mutex_lock(&gate_lock);
    while (!held)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    CHECK_EQ(evaio_cancel(req), 0); /* executing: marked */
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

static int64_t last_result;
static int last_errno, ndone;

static int cb(evaio_req *req)
{
    last_result = req->result;
    last_errno = req->errorno;
    CHECK(evaio_req_cancelled(req));
    ndone++;
    return 0;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int main(void)
{
    check_tmpdir();
    for (int style = 0; style < 2; style++) {
        fprintf(stderr, "-- mkpath cancelled after its second directory (style %d)\n", style);
        const char *top = check_path(style ? "m1" : "m0");
        char deep[4096];
        snprintf(deep, sizeof deep, "%s/a/b/c/d", top);
        /* The first mkdirat tries the whole path (ENOENT), then one per
         * component: the third call makes the second directory. */
        arm(3);
        evaio_req own, *req = &own;
        if (style == 0) {
            req = evaio_mkpath(deep, 0755, 0, cb, NULL);
            CHECK(req != NULL);
        } else {
            evaio_mkpath_init(&own, deep, 0755, cb, NULL);
            CHECK_EQ(evaio_start(&own), 0);
        }
        wait_held_then_cancel(req);
        CHECK_EQ(evaio_wait(), 0);
        CHECK_EQ(last_result, -1);
        CHECK_EQ(last_errno, ECANCELED);
        CHECK(!exists(top)); /* what it made, it removed */

        fprintf(stderr, "-- pathsync cancelled between the file and its directory\n");
        char file[4096];
        snprintf(file, sizeof file, "%s-file", top);
        int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        CHECK(fd >= 0);
        CHECK_EQ(close(fd), 0);
        arm(1); /* the file's fsync; the directory's must not follow */
        if (style == 0) {
            req = evaio_pathsync(file, 0, cb, NULL);
            CHECK(req != NULL);
        } else {
            evaio_pathsync_init(&own, file, cb, NULL);
            CHECK_EQ(evaio_start(&own), 0);
            req = &own;
        }
        wait_held_then_cancel(req);
        CHECK_EQ(evaio_wait(), 0);
        CHECK_EQ(last_result, -1);
        CHECK_EQ(last_errno, ECANCELED);
        CHECK_EQ(ncalls, 1);
    }
    arm(0);
    CHECK_EQ(ndone, 4);
    fprintf(stderr, "ok\n");
    return 0;
}
