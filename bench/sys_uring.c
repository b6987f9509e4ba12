/* io_uring through liburing: IORING_OP_NOP for nop, IORING_OP_STATX
 * (STATX_BASIC_STATS, what stat() returns) for stat, IORING_OP_READ at an
 * offset for pread, and for the sleep workload IORING_OP_TIMEOUT with a
 * 1 ms timespec: io_uring has no worker that sleeps, a timeout is its
 * analogue, and the workload keeps as many in flight as the pools have
 * threads.  Operations the kernel cannot complete at once (statx always)
 * go to its io-wq workers, limited to the same number of threads as the
 * pools (io_uring_register_iowq_max_workers).  One ring; requests are prepared as completions free their slots and submitted in
 * one io_uring_submit_and_wait per round. */
#include "bench.h"

#ifdef HAVE_LIBURING
#include <liburing.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct slot {
    struct statx stx;
    enum op op;
    void *block;
    size_t i;
};

static struct io_uring ring;
static struct slot *slots;
static struct __kernel_timespec sleep_ts;

static void ur_start(unsigned threads, size_t n)
{
    unsigned entries = 1;
    while (entries < n)
        entries *= 2;
    /* Only this thread submits and reaps: the setup liburing recommends for
     * such a loop (Linux 6.1 on); the ring's work runs when the thread waits
     * for completions.  Without it (--uring-plain) stat throughput drops by
     * about a third here. */
    unsigned flags = cfg.uring_plain ? 0 : IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int r = io_uring_queue_init(entries, &ring, flags);
    if (r < 0)
        die("io_uring_queue_init(%u): %s%s", entries, strerror(-r),
            r == -EINVAL && flags ? " (a kernel before 6.1? try --uring-plain)" : "");
    unsigned workers[2] = { threads, threads }; /* bounded, unbounded */
    r = io_uring_register_iowq_max_workers(&ring, workers);
    if (r < 0)
        die("io_uring_register_iowq_max_workers: %s", strerror(-r));
    slots = calloc(n, sizeof *slots);
    char *blocks = aligned_alloc(BLOCK, n * BLOCK);
    if (!slots || !blocks)
        die("out of memory");
    for (size_t k = 0; k < n; k++)
        slots[k].block = blocks + k * BLOCK;
    sleep_ts.tv_sec = (long long)cfg.sleep_secs;
    sleep_ts.tv_nsec = (long long)((cfg.sleep_secs - (double)sleep_ts.tv_sec) * 1e9);
}

static void ur_stop(void)
{
    io_uring_queue_exit(&ring);
    free(slots[0].block);
    free(slots);
}

static void ur_submit(enum op op, size_t i, unsigned k)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (!sqe)
        die("io_uring: submission queue full");
    struct slot *s = &slots[k];
    s->op = op;
    s->i = i;
    switch (op) {
    case OP_NOP: io_uring_prep_nop(sqe); break;
    case OP_STAT:
        s->stx.stx_size = (uint64_t)-1;
        io_uring_prep_statx(sqe, AT_FDCWD, fx.paths[stat_file(i)], 0, STATX_BASIC_STATS, &s->stx);
        break;
    case OP_PREAD:
        poison_block(s->block);
        io_uring_prep_read(sqe, fx.data_fd, s->block, BLOCK, (uint64_t)pread_offset(i));
        break;
    case OP_SLEEP: io_uring_prep_timeout(sqe, &sleep_ts, 0, 0); break;
    }
    io_uring_sqe_set_data64(sqe, k);
}

static void complete(unsigned k, int res)
{
    struct slot *s = &slots[k];
    int err = res < 0 ? -res : 0;
    switch (s->op) {
    case OP_NOP: check_nop("io_uring", res, err); break;
    case OP_STAT: check_stat("io_uring", s->i, res, err, res == 0 ? (int64_t)s->stx.stx_size : -1); break;
    case OP_PREAD: check_pread("io_uring", s->i, res, err, s->block); break;
    case OP_SLEEP: /* a timeout that expires reports -ETIME: its success */
        check_sleep("io_uring", res == -ETIME ? 0 : res, res == -ETIME ? 0 : err);
        break;
    }
    bench_complete(k);
}

static void ur_wait(void)
{
    int r;
    while ((r = io_uring_submit_and_wait(&ring, 1)) < 0)
        if (r != -EINTR)
            die("io_uring_submit_and_wait: %s", strerror(-r));
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
        complete((unsigned)io_uring_cqe_get_data64(cqe), cqe->res); /* may prepare new SQEs */
        seen++;
    }
    io_uring_cq_advance(&ring, seen);
}

const struct sys sys_uring = {
    .name = "io_uring",
    .id = "io_uring",
    .available = 1,
    .start = ur_start,
    .stop = ur_stop,
    .submit = ur_submit,
    .wait = ur_wait,
};

#else

const struct sys sys_uring = { .name = "io_uring", .id = "io_uring" }; /* not built: pkg-config found no liburing */

#endif
