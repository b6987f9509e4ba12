/* Requests completed on the submitting thread (spec field `nowait`): nop,
 * and read at an offset from the page cache.  They skip the worker only when
 * nothing of their priority or higher is queued or executing, so priorities,
 * first-in first-out order and nop's ordering promise hold; everything else
 * (a pipe, a short read, a library buffer, the file position) still goes to a
 * worker and reports the same result as before. */
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/uio.h>

static int order[16], norder;

static int record_cb(evaio_req *req)
{
    CHECK(norder < 16);
    order[norder++] = (int)(intptr_t)req->data;
    return 0;
}

static int pos(int id)
{
    for (int i = 0; i < norder; i++)
        if (order[i] == id)
            return i;
    CHECK(!"callback not run");
    return -1;
}

/* An idle context: a nop completes inside evaio_ctx_start, no thread. */
static void test_nop_idle(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_req own;
    evaio_nop_init(&own, record_cb, (void *)1);
    norder = 0;
    CHECK_EQ(evaio_ctx_start(ctx, &own), 0);
    CHECK_EQ(evaio_ctx_npending(ctx), 1); /* already waiting for poll */
    CHECK_EQ(evaio_ctx_nreqs(ctx), 1);
    CHECK(evaio_ctx_nop(ctx, 3, record_cb, (void *)2) != NULL);
    CHECK_EQ(evaio_ctx_npending(ctx), 2);
    CHECK_EQ(norder, 0); /* callbacks only from poll */
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(norder, 2);
    CHECK_EQ(order[0], 2); /* higher priority delivered first */
    CHECK_EQ(order[1], 1);
    CHECK_EQ(own.result, 0);
    CHECK_EQ(own.errorno, 0);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);

    /* Cancelled after it completed: only marked, like any finished request. */
    evaio_nop_init(&own, record_cb, (void *)3);
    CHECK_EQ(evaio_ctx_start(ctx, &own), 0);
    CHECK_EQ(evaio_cancel(&own), 0);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(own.result, 0);
    CHECK(evaio_req_cancelled(&own));
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* A worker busy at priority 0: a nop of priority 0 or lower waits behind it
 * (its callback comes after), one of a higher priority does not. */
static void test_nop_behind_busy(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);
    check_gate_reset();
    norder = 0;
    CHECK(evaio_ctx_custom(ctx, check_gate_hold, 0, record_cb, (void *)10) != NULL);
    CHECK_GATE_HOLDS(1);

    CHECK(evaio_ctx_nop(ctx, 0, record_cb, (void *)11) != NULL);
    CHECK(evaio_ctx_nop(ctx, -2, record_cb, (void *)12) != NULL);
    CHECK_EQ(evaio_ctx_nready(ctx), 2); /* queued, not completed */
    CHECK(evaio_ctx_nop(ctx, 1, record_cb, (void *)13) != NULL);
    CHECK_EQ(evaio_ctx_nready(ctx), 2);
    CHECK_EQ(evaio_ctx_npending(ctx), 1); /* the priority-1 nop is done */
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(norder, 1);
    CHECK_EQ(order[0], 13);

    /* A queued request at the nop's priority also keeps it in line. */
    CHECK(evaio_ctx_busy(ctx, 0, 2, record_cb, (void *)14) != NULL);
    CHECK(evaio_ctx_nop(ctx, 2, record_cb, (void *)15) != NULL);
    CHECK_EQ(evaio_ctx_nready(ctx), 4);

    check_gate_release();
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(norder, 6);
    /* Completion order within a priority (results waiting together are
     * delivered by priority, so only same-priority pairs are compared). */
    CHECK(pos(10) < pos(11)); /* the nop of priority 0 after the held request */
    CHECK(pos(14) < pos(15)); /* the nop of priority 2 after the busy one */
    CHECK_EQ(order[5], 12);   /* priority -2: started last, so delivered last */
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* Whether this system reads the file's first bytes from the page cache with
 * RWF_NOWAIT (not every filesystem supports it): the library must then do
 * so too, and otherwise give the same answer through a worker. */
static int cache_read_supported(int fd)
{
#ifdef RWF_NOWAIT
    char b[16];
    struct iovec iov = { b, sizeof b };
    return preadv2(fd, &iov, 1, 0, RWF_NOWAIT) == (ssize_t)sizeof b;
#else
    (void)fd;
    return 0;
#endif
}

static void test_read(void)
{
    int fds_before = check_count_fds();
    const char *path = check_path("data");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    char data[8192];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + 1);
    CHECK_EQ(write(fd, data, sizeof data), (ssize_t)sizeof data);
    int inline_ok = cache_read_supported(fd);

    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    char buf[4096];
    evaio_req req;

    /* A cached range: on this thread where the system allows it. */
    memset(buf, 0, sizeof buf);
    evaio_read_init(&req, fd, 4096, 4096, buf, NULL, NULL);
    CHECK_EQ(evaio_ctx_start(ctx, &req), 0);
    CHECK_EQ(evaio_ctx_npending(ctx) == 1 && evaio_ctx_nthreads(ctx) == 0, inline_ok);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(req.result, 4096);
    CHECK_EQ(req.errorno, 0);
    CHECK(memcmp(buf, data + 4096, 4096) == 0);
    CHECK_EQ(evaio_ctx_nthreads(ctx), inline_ok ? 0 : 1);

    /* A length no call can take: the attempt (preadv2: EINVAL) declines,
     * and the answer is the worker's read's, which refuses the range
     * (EFAULT), as it did before there were attempts.  (Before any request
     * has gone to a worker: one spinning for work would take it.) */
    evaio_read_init(&req, fd, 0, SIZE_MAX, buf, NULL, NULL);
    CHECK_EQ(evaio_ctx_start(ctx, &req), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(req.result, -1);
    CHECK_EQ(req.errorno, EFAULT);

    /* A short read (the end of the file) is left to a worker whole. */
    memset(buf, 0, sizeof buf);
    evaio_read_init(&req, fd, 6000, 4096, buf, NULL, NULL);
    CHECK_EQ(evaio_ctx_start(ctx, &req), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(req.result, 8192 - 6000);
    CHECK(memcmp(buf, data + 6000, 8192 - 6000) == 0);
    CHECK(evaio_ctx_nthreads(ctx) >= 1); /* (a second may be the pool's watcher) */

    /* The file position: read(2) on a worker, advancing it. */
    CHECK_EQ(lseek(fd, 100, SEEK_SET), 100);
    evaio_read_init(&req, fd, -1, 50, buf, NULL, NULL);
    CHECK_EQ(evaio_ctx_start(ctx, &req), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(req.result, 50);
    CHECK(memcmp(buf, data + 100, 50) == 0);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 150);

    /* A library buffer is allocated on a worker. */
    evaio_read_init(&req, fd, 0, 4096, NULL, NULL, NULL);
    CHECK_EQ(evaio_ctx_start(ctx, &req), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(req.result, 4096);

    /* Errors come from the worker's read, as before: a pipe, a bad fd. */
    int p[2];
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    evaio_read_init(&req, p[0], 0, 16, buf, NULL, NULL);
    CHECK_EQ(evaio_ctx_start(ctx, &req), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(req.result, -1);
    CHECK_EQ(req.errorno, ESPIPE);
    CHECK_EQ(close(p[0]), 0);
    CHECK_EQ(close(p[1]), 0);
    evaio_read_init(&req, p[0], 0, 16, buf, NULL, NULL); /* closed now */
    CHECK_EQ(evaio_ctx_start(ctx, &req), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(req.result, -1);
    CHECK_EQ(req.errorno, EBADF);

    /* O_DIRECT bypasses the page cache, and RWF_NOWAIT would still read the
     * device: such a read always goes to a worker. */
    int dfd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (dfd < 0) {
        CHECK_EQ(errno, EINVAL); /* a filesystem without O_DIRECT (tmpfs) */
        fprintf(stderr, "O_DIRECT not supported by %s: that case is not run\n", path);
    } else {
        evaio_ctx *dctx = evaio_ctx_new();
        CHECK(dctx != NULL);
        void *aligned = aligned_alloc(4096, 4096);
        CHECK(aligned != NULL);
        evaio_read_init(&req, dfd, 4096, 4096, aligned, NULL, NULL);
        CHECK_EQ(evaio_ctx_start(dctx, &req), 0);
        CHECK_EQ(evaio_ctx_wait(dctx), 0);
        CHECK_EQ(req.result, 4096);
        CHECK(memcmp(aligned, data + 4096, 4096) == 0);
        CHECK_EQ(evaio_ctx_nthreads(dctx), 1); /* it needed a worker */
        free(aligned);
        CHECK_EQ(evaio_ctx_free(dctx), 0);
        CHECK_EQ(close(dfd), 0);
    }

    CHECK_EQ(evaio_ctx_free(ctx), 0);
    CHECK_EQ(close(fd), 0);
    CHECK_EQ(check_count_fds(), fds_before);
}

/* A read behind a queued request of its priority waits its turn even when
 * its range is cached (requests start in priority and FIFO order); one that
 * only follows an executing request (started before it) need not. */
static void test_read_in_line(void)
{
    const char *path = check_path("line");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "0123456789abcdef", 16), 16);
    int inline_ok = cache_read_supported(fd);
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);
    check_gate_reset();
    norder = 0;
    CHECK(evaio_ctx_custom(ctx, check_gate_hold, 0, record_cb, (void *)20) != NULL);
    CHECK_GATE_HOLDS(1);
    char buf[16], buf2[16];
    CHECK(evaio_ctx_read(ctx, fd, 0, 16, buf, 0, record_cb, (void *)21) != NULL);
    CHECK_EQ(evaio_ctx_nready(ctx), inline_ok ? 0 : 1);
    CHECK(evaio_ctx_busy(ctx, 0, 0, record_cb, (void *)22) != NULL);
    CHECK(evaio_ctx_read(ctx, fd, 0, 16, buf2, 0, record_cb, (void *)23) != NULL);
    CHECK_EQ(evaio_ctx_nready(ctx), inline_ok ? 2 : 3);
    check_gate_release();
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(norder, 4);
    if (inline_ok)
        CHECK_EQ(order[0], 21); /* completed before the held request */
    CHECK(pos(20) < pos(22));
    CHECK(pos(22) < pos(23)); /* the second read started after the busy one */
    CHECK(memcmp(buf, "0123456789abcdef", 16) == 0);
    CHECK(memcmp(buf2, "0123456789abcdef", 16) == 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    CHECK_EQ(close(fd), 0);
}

/* A nop needs no worker: it completes even when no thread can start (here:
 * max_parallel workers all held, none may be added). */
static void test_nop_no_worker_needed(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);
    check_gate_reset();
    norder = 0;
    CHECK(evaio_ctx_custom(ctx, check_gate_hold, -1, record_cb, (void *)30) != NULL);
    CHECK_GATE_HOLDS(1);
    for (int i = 0; i < 3; i++)
        CHECK(evaio_ctx_nop(ctx, 0, record_cb, (void *)(intptr_t)(31 + i)) != NULL);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(norder, 3);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(order[i], 31 + i);
    check_gate_release();
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(order[3], 30);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* Results taken by a poll call (here: left by a poll stopped by
 * max_poll_reqs) do not hold back a higher-priority result that arrives
 * later: of the results waiting at one moment, higher priorities first. */
static void test_priority_after_batch(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    norder = 0;
    for (int i = 1; i <= 3; i++)
        CHECK(evaio_ctx_nop(ctx, 0, record_cb, (void *)(intptr_t)i) != NULL);
    CHECK_EQ(evaio_ctx_npending(ctx), 3);
    evaio_ctx_set_max_poll_reqs(ctx, 1);
    errno = 0;
    CHECK_EQ(evaio_ctx_poll(ctx), -1);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(evaio_ctx_npending(ctx), 2);
    CHECK(evaio_ctx_nop(ctx, 4, record_cb, (void *)99) != NULL);
    CHECK_EQ(evaio_ctx_npending(ctx), 3);
    evaio_ctx_set_max_poll_reqs(ctx, 0);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(norder, 4);
    CHECK_EQ(order[0], 1);
    CHECK_EQ(order[1], 99);
    CHECK_EQ(order[2], 2);
    CHECK_EQ(order[3], 3);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* A callback that restarts a nop gets it delivered by the same poll call
 * (it completes at once): a chain that never ends keeps that call busy, and
 * max_poll_reqs is what bounds it, as for any stream of results. */
static int chain_left;
static int chain_cb(evaio_req *req)
{
    norder++;
    if (chain_left-- > 0)
        CHECK(evaio_ctx_nop(req->data, 0, chain_cb, req->data) != NULL);
    return 0;
}

static void test_restart_chain(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    norder = 0;
    chain_left = 1000;
    CHECK(evaio_ctx_nop(ctx, 0, chain_cb, ctx) != NULL);
    evaio_ctx_set_max_poll_reqs(ctx, 10);
    errno = 0;
    CHECK_EQ(evaio_ctx_poll(ctx), -1);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(norder, 10);
    evaio_ctx_set_max_poll_reqs(ctx, 0);
    CHECK_EQ(evaio_ctx_poll(ctx), 0); /* the rest of the chain, in one call */
    CHECK_EQ(norder, 1001);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* A read completed at once from a callback joins the results this poll
 * call delivers, but after a result of its priority that was already
 * waiting (it completed first): completion order within a priority.  The
 * waiting result is a cancelled request's, pushed by evaio_cancel, while
 * the only worker is held (so none spins for the read). */
static int order_fd;
static char order_buf[16];
static evaio_req *order_queued;

static int order_first_cb(evaio_req *req)
{
    evaio_ctx *ctx = req->data;
    CHECK_EQ(evaio_cancel(order_queued), 1); /* its result waits now */
    CHECK_EQ(evaio_ctx_npending(ctx), 1);
    CHECK(evaio_ctx_read(ctx, order_fd, 0, 16, order_buf, 0, record_cb, (void *)32) != NULL);
    return 0;
}

static void test_order_from_callback(void)
{
    const char *path = check_path("order");
    order_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(order_fd >= 0);
    CHECK_EQ(write(order_fd, "0123456789abcdef", 16), 16);
    int inline_ok = cache_read_supported(order_fd);
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);
    norder = 0;
    check_gate_reset();
    CHECK(evaio_ctx_custom(ctx, check_gate_hold, 0, record_cb, (void *)30) != NULL);
    CHECK_GATE_HOLDS(1);
    order_queued = evaio_ctx_nop(ctx, 0, record_cb, (void *)31); /* behind the held request */
    CHECK(order_queued != NULL);
    CHECK_EQ(evaio_ctx_nready(ctx), 1);
    CHECK(evaio_ctx_nop(ctx, 1, order_first_cb, ctx) != NULL); /* completes at once */
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(norder, inline_ok ? 2 : 1);
    CHECK_EQ(order[0], 31); /* cancelled before the read completed */
    if (inline_ok)
        CHECK_EQ(order[1], 32);
    check_gate_release();
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(norder, 3);
    CHECK(memcmp(order_buf, "0123456789abcdef", 16) == 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    CHECK_EQ(close(order_fd), 0);
}

/* A nop that completes at once from a callback goes straight to the poll
 * call's own list; a limit that stops the call then leaves the fd readable
 * (it was set, and stays so), and want_poll is not called again. */
static int nwant, ndone;
static void count_want(evaio_ctx *ctx, void *data) { (void)ctx, (void)data; nwant++; }
static void count_done(evaio_ctx *ctx, void *data) { (void)ctx, (void)data; ndone++; }

static int limited_cb(evaio_req *req)
{
    CHECK(evaio_ctx_nop(req->data, 0, record_cb, (void *)51) != NULL);
    return 0;
}

static void test_fd_after_limit(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_hooks(ctx, count_want, count_done, NULL);
    evaio_ctx_set_max_poll_reqs(ctx, 1);
    norder = nwant = ndone = 0;
    CHECK(evaio_ctx_nop(ctx, 0, limited_cb, ctx) != NULL);
    CHECK_EQ(nwant, 1);
    errno = 0;
    CHECK_EQ(evaio_ctx_poll(ctx), -1);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(evaio_ctx_npending(ctx), 1);
    struct pollfd p = { .fd = evaio_ctx_poll_fd(ctx), .events = POLLIN };
    CHECK_EQ(poll(&p, 1, 0), 1);
    CHECK_EQ(nwant, 1);
    CHECK_EQ(ndone, 0);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(norder, 1);
    CHECK_EQ(order[0], 51);
    CHECK_EQ(poll(&p, 1, 0), 0);
    CHECK_EQ(nwant, 1);
    CHECK_EQ(ndone, 1);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* A callback that waits (nested evaio_ctx_wait clears the poll fd when
 * nothing is left), then starts a nop that completes at once and stops the
 * poll call: the nop's result waits, so the fd must be readable. */
static int waiting_stop_cb(evaio_req *req)
{
    evaio_ctx *ctx = req->data;
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK(evaio_ctx_nop(ctx, 0, record_cb, (void *)41) != NULL);
    return 1;
}

static void test_fd_after_stop(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    norder = 0;
    CHECK(evaio_ctx_nop(ctx, 0, waiting_stop_cb, ctx) != NULL);
    CHECK_EQ(evaio_ctx_poll(ctx), 1);
    CHECK_EQ(evaio_ctx_npending(ctx), 1);
    struct pollfd p = { .fd = evaio_ctx_poll_fd(ctx), .events = POLLIN };
    CHECK_EQ(poll(&p, 1, 0), 1);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(norder, 1);
    CHECK_EQ(order[0], 41);
    CHECK_EQ(poll(&p, 1, 0), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

int main(void)
{
    check_gate_open();
    test_nop_idle();
    test_nop_behind_busy();
    test_read();
    test_read_in_line();
    test_nop_no_worker_needed();
    test_priority_after_batch();
    test_restart_chain();
    test_order_from_callback();
    test_fd_after_stop();
    test_fd_after_limit();
    return 0;
}
