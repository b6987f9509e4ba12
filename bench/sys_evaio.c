/* evaio: a context of its own with `threads` workers (max_parallel, and
 * max_idle so they stay between runs).  Requests are caller-owned
 * (evaio_OP_init + evaio_ctx_start, restarted from their callback), as
 * libuv's are, or with --wrappers made by the allocating wrappers.  The
 * loop is what an application does: poll(2) on the poll fd, then
 * evaio_ctx_poll. */
#include "bench.h"

#include <evaio.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STUCK_MS 10000 /* no result for this long: report the counters and abort */

struct slot {
    evaio_req req; /* unused with --wrappers */
    struct stat st;
    void *block;
    size_t i;
    unsigned idx;
};

static evaio_ctx *ctx;
static struct slot *slots;
static size_t nslots;

static void ev_start(unsigned threads, size_t n)
{
    ctx = evaio_ctx_new();
    if (!ctx)
        die("evaio_ctx_new: %s", strerror(errno));
    evaio_ctx_set_max_parallel(ctx, threads);
    evaio_ctx_set_max_idle(ctx, threads);
    nslots = n;
    slots = calloc(n, sizeof *slots);
    char *blocks = aligned_alloc(BLOCK, n * BLOCK);
    if (!slots || !blocks)
        die("out of memory");
    for (size_t k = 0; k < n; k++) {
        slots[k].idx = (unsigned)k;
        slots[k].block = blocks + k * BLOCK;
    }
}

static void ev_stop(void)
{
    if (evaio_ctx_free(ctx) != 0)
        die("evaio_ctx_free: %s", strerror(errno));
    free(slots[0].block);
    free(slots);
}

static int on_done(evaio_req *req)
{
    struct slot *s = req->data;
    switch (req->type) {
    case EVAIO_OP_NOP: check_nop("evaio", req->result, req->errorno); break;
    case EVAIO_OP_STAT: check_stat("evaio", s->i, req->result, req->errorno, s->st.st_size); break;
    case EVAIO_OP_READ: check_pread("evaio", s->i, req->result, req->errorno, s->block); break;
    case EVAIO_OP_BUSY: check_sleep("evaio", req->result, req->errorno); break;
    default: die("evaio: a callback for a request of type %d", req->type);
    }
    bench_complete(s->idx);
    return 0;
}

static void submit_owned(struct slot *s, enum op op)
{
    switch (op) {
    case OP_NOP: evaio_nop_init(&s->req, on_done, s); break;
    case OP_STAT: evaio_stat_init(&s->req, fx.paths[stat_file(s->i)], &s->st, on_done, s); break;
    case OP_PREAD:
        evaio_read_init(&s->req, fx.data_fd, pread_offset(s->i), BLOCK, s->block, on_done, s);
        break;
    case OP_SLEEP: evaio_busy_init(&s->req, cfg.sleep_secs, on_done, s); break;
    }
    if (evaio_ctx_start(ctx, &s->req) != 0)
        die("evaio_ctx_start: %s", strerror(errno));
}

static void submit_wrapped(struct slot *s, enum op op)
{
    evaio_req *r = NULL;
    int pri = EVAIO_PRI_DEFAULT;
    switch (op) {
    case OP_NOP: r = evaio_ctx_nop(ctx, pri, on_done, s); break;
    case OP_STAT: r = evaio_ctx_stat(ctx, fx.paths[stat_file(s->i)], &s->st, pri, on_done, s); break;
    case OP_PREAD:
        r = evaio_ctx_read(ctx, fx.data_fd, pread_offset(s->i), BLOCK, s->block, pri, on_done, s);
        break;
    case OP_SLEEP: r = evaio_ctx_busy(ctx, cfg.sleep_secs, pri, on_done, s); break;
    }
    if (!r)
        die("evaio wrapper: %s", strerror(errno));
}

static void ev_submit(enum op op, size_t i, unsigned k)
{
    struct slot *s = &slots[k];
    s->i = i;
    s->st.st_size = -1; /* poison: a callback without a real stat is caught */
    if (op == OP_PREAD)
        poison_block(s->block);
    if (cfg.wrappers)
        submit_wrapped(s, op);
    else
        submit_owned(s, op);
}

static void ev_wait(void)
{
    struct pollfd p = { .fd = evaio_ctx_poll_fd(ctx), .events = POLLIN };
    int r = poll(&p, 1, STUCK_MS);
    if (r < 0 && errno != EINTR)
        die("poll: %s", strerror(errno));
    if (r == 0)
        die("evaio: no result for %d ms: nreqs %u, nready %u, npending %u, nthreads %u%s",
            STUCK_MS, evaio_ctx_nreqs(ctx), evaio_ctx_nready(ctx), evaio_ctx_npending(ctx),
            evaio_ctx_nthreads(ctx),
            evaio_ctx_npending(ctx) ? " (results wait but the poll fd is not readable)" : "");
    r = evaio_ctx_poll(ctx);
    if (r != 0)
        die("evaio_ctx_poll returned %d (errno %d: %s)", r, errno, strerror(errno));
}

const struct sys sys_evaio = {
    .name = "evaio",
    .id = "evaio",
    .available = 1,
    .has_pool = 1,
    .start = ev_start,
    .stop = ev_stop,
    .submit = ev_submit,
    .wait = ev_wait,
};
