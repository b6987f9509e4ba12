/* Fault injection: linked with the test build of the library (evaio_fault),
 * in which the Nth allocation, thread creation or poll-fd creation from
 * now can be made to fail.  For each kind, N is swept from 1 until a whole
 * scenario runs without reaching the Nth call.  Every failure must surface
 * as a clear error — NULL + errno from a wrapper or evaio_ctx_new, -1 from
 * evaio_start, or an error result in the callback — with every started
 * request's callback run exactly once, nothing crashing or hanging, and the
 * library working normally (the same scenario, all successes) once the
 * fault stops.  Leaks are LeakSanitizer's to find, in the ASan build (the
 * heap statistics of a plain build move with glibc's per-thread arenas, so
 * they cannot judge). */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <fcntl.h>
#include <sys/stat.h>

/* From runtime/fault.c (the test build only). */
void evaio__fault_arm(int kind, unsigned long n);
unsigned long evaio__fault_calls(int kind);
int evaio__fault_fired(void);
enum { FAULT_ALLOC, FAULT_THREAD, FAULT_FD };
static const char *const kind_names[] = { "allocation", "thread creation", "poll fd creation" };

#define MAXREQ 64

struct run {
    int started, callbacks, failures, refused;
    int calls[MAXREQ];
};

static int plausible(int err)
{
    /* What a failed allocation, thread or fd creation may become; ENOENT
     * for the files an earlier faulty run could not create; EBADF for the
     * scenario's deliberate bad descriptors. */
    return err == ENOMEM || err == EAGAIN || err == EMFILE || err == ECANCELED || err == ENOENT ||
           err == EBADF;
}

static int cb(evaio_req *req)
{
    struct run *r = req->data;
    CHECK(r != NULL);
    r->callbacks++;
    if (req->result < 0) {
        if (!plausible(req->errorno))
            fprintf(stderr, "op %s: errno %d (%s)\n", evaio_op_name(req->type), req->errorno,
                    strerror(req->errorno));
        CHECK(plausible(req->errorno));
        r->failures++;
    }
    return 0;
}

/* A wrapper either starts the request or refuses it with a clear errno. */
static void started(struct run *r, evaio_req *req)
{
    if (req) {
        r->started++;
        return;
    }
    CHECK(errno == ENOMEM || errno == EAGAIN || errno == EMFILE);
    r->refused++;
}

static const char *dir;

/* Every kind of library work that allocates, starts threads or needs the
 * poll fd.  Returns 1 when the whole scenario succeeded. */
static int scenario(void)
{
    struct run r = { 0 };
    errno = 0;
    evaio_ctx *ctx = evaio_ctx_new();
    if (!ctx) {
        CHECK(errno == ENOMEM || errno == EMFILE);
        return 0;
    }
    evaio_ctx_set_max_parallel(ctx, 3);
    evaio_ctx_set_min_parallel(ctx, 1);
    char path[4096], tree[4096];
    snprintf(path, sizeof path, "%s/file", dir);
    snprintf(tree, sizeof tree, "%s/tree", dir);

    started(&r, evaio_ctx_stat(ctx, path, NULL, 0, cb, &r));
    started(&r, evaio_ctx_read(ctx, -1, 0, 4096, NULL, 0, cb, &r)); /* EBADF, after its buffer */
    started(&r, evaio_ctx_readdir(ctx, dir, EVAIO_READDIR_DENTS, 0, cb, &r));
    started(&r, evaio_ctx_slurp(ctx, path, 0, 0, NULL, 0, cb, &r));
    started(&r, evaio_ctx_scandir(ctx, dir, 2, 0, cb, &r));
    started(&r, evaio_ctx_mkpath(ctx, tree, 0755, 0, cb, &r));
    started(&r, evaio_ctx_realpath(ctx, path, 0, cb, &r));
    evaio_req *grp = evaio_ctx_grp(ctx, cb, &r);
    started(&r, grp);
    if (grp) {
        for (int i = 0; i < 3; i++) {
            evaio_req *m = evaio_ctx_lstat(ctx, path, NULL, 0, cb, &r);
            started(&r, m);
            if (m)
                CHECK_EQ(evaio_grp_add(grp, m), 0);
        }
    }
    /* Caller-owned, with library storage supplied on the worker. */
    static evaio_req own[4];
    for (int i = 0; i < 4; i++) {
        evaio_fstat_init(&own[i], -1, NULL, cb, &r);
        if (evaio_ctx_start(ctx, &own[i]) == 0) {
            r.started++;
        } else {
            CHECK(errno == EAGAIN || errno == ENOMEM);
            r.refused++;
        }
    }
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(r.callbacks, r.started); /* exactly one each */
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    /* The tree for next time, removed through a driven op that allocates. */
    started(&r, evaio_ctx_rmtree(ctx, tree, 0, cb, &r));
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(r.callbacks, r.started);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    /* Without faults everything succeeds but the deliberate EBADFs: the
     * read and the four fstats of fd -1. */
    return r.refused == 0 && r.failures == 5;
}

static int clean_run(void)
{
    return scenario();
}

int main(void)
{
    dir = check_tmpdir();
    char path[8192];
    snprintf(path, sizeof path, "%s/file", dir);
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "content", 7), 7);
    CHECK_EQ(close(fd), 0);

    /* Warm up (stdio, the default context's lazy parts), then the baseline. */
    CHECK(clean_run());
    CHECK(clean_run());
    int sweeps[3] = { 0 };
    for (int kind = 0; kind < 3; kind++) {
        for (unsigned long n = 1;; n++) {
            CHECK(n < 100000);
            evaio__fault_arm(kind, n);
            scenario();
            int fired = evaio__fault_fired();
            evaio__fault_arm(kind, 0);
            /* The fault is over: everything works again, and leaves the heap
             * as it found it. */
            if (!clean_run()) {
                fprintf(stderr, "after a %s failure at call %lu the scenario no longer succeeds\n",
                        kind_names[kind], n);
                CHECK(0);
            }
            if (!fired)
                break; /* the scenario makes fewer than n such calls */
            sweeps[kind]++;
        }
        fprintf(stderr, "%s: failed each of the %d calls in turn\n", kind_names[kind], sweeps[kind]);
    }
    CHECK(sweeps[FAULT_ALLOC] > 20);
    CHECK(sweeps[FAULT_THREAD] >= 1);
    CHECK(sweeps[FAULT_FD] >= 1);
    fprintf(stderr, "ok\n");
    return 0;
}
