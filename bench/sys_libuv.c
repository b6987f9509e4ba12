/* libuv's thread pool: uv_queue_work (an empty work function for nop, a
 * 1 ms nanosleep for sleep), uv_fs_stat, uv_fs_read at an offset; the loop
 * is uv_run(UV_RUN_ONCE).  The pool's size is read from UV_THREADPOOL_SIZE
 * once per process, at its first use: each measurement is a child process
 * of its own, which sets it first. */
#include "bench.h"

#ifdef HAVE_LIBUV
#include <uv.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot {
    union {
        uv_work_t work;
        uv_fs_t fs;
    } u; /* first member: a request's address is its slot's */
    enum op op;
    void *block;
    size_t i;
    unsigned idx;
};

static uv_loop_t loop;
static struct slot *slots;

static void uvb_start(unsigned threads, size_t n)
{
    char v[16];
    snprintf(v, sizeof v, "%u", threads);
    if (setenv("UV_THREADPOOL_SIZE", v, 1) != 0)
        die("setenv: %s", strerror(errno));
    int r = uv_loop_init(&loop);
    if (r != 0)
        die("uv_loop_init: %s", uv_strerror(r));
    slots = calloc(n, sizeof *slots);
    char *blocks = aligned_alloc(BLOCK, n * BLOCK);
    if (!slots || !blocks)
        die("out of memory");
    for (size_t k = 0; k < n; k++) {
        slots[k].idx = (unsigned)k;
        slots[k].block = blocks + k * BLOCK;
    }
}

static void uvb_stop(void)
{
    int r = uv_loop_close(&loop);
    if (r != 0)
        die("uv_loop_close: %s", uv_strerror(r));
    free(slots[0].block);
    free(slots);
}

static void work_nop(uv_work_t *w)
{
    (void)w;
}

static void work_sleep(uv_work_t *w)
{
    (void)w;
    double secs = cfg.sleep_secs;
    struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void after_work(uv_work_t *w, int status)
{
    struct slot *s = (struct slot *)w;
    int err = status < 0 ? -status : 0;
    if (s->op == OP_NOP)
        check_nop("libuv", status, err);
    else
        check_sleep("libuv", status, err);
    bench_complete(s->idx);
}

static void after_fs(uv_fs_t *req)
{
    struct slot *s = (struct slot *)req;
    int64_t res = (int64_t)req->result;
    int err = res < 0 ? (int)-res : 0;
    if (s->op == OP_STAT)
        check_stat("libuv", s->i, res, err, res == 0 ? (int64_t)req->statbuf.st_size : -1);
    else
        check_pread("libuv", s->i, res, err, s->block);
    uv_fs_req_cleanup(req);
    bench_complete(s->idx);
}

static void uvb_submit(enum op op, size_t i, unsigned k)
{
    struct slot *s = &slots[k];
    s->op = op;
    s->i = i;
    int r = 0;
    switch (op) {
    case OP_NOP: r = uv_queue_work(&loop, &s->u.work, work_nop, after_work); break;
    case OP_SLEEP: r = uv_queue_work(&loop, &s->u.work, work_sleep, after_work); break;
    case OP_STAT: r = uv_fs_stat(&loop, &s->u.fs, fx.paths[stat_file(i)], after_fs); break;
    case OP_PREAD: {
        poison_block(s->block);
        uv_buf_t b = uv_buf_init(s->block, BLOCK);
        r = uv_fs_read(&loop, &s->u.fs, fx.data_fd, &b, 1, pread_offset(i), after_fs);
        break;
    }
    }
    if (r != 0)
        die("libuv: submitting: %s", uv_strerror(r));
}

static void uvb_wait(void)
{
    uv_run(&loop, UV_RUN_ONCE);
}

const struct sys sys_libuv = {
    .name = "libuv",
    .id = "libuv",
    .available = 1,
    .has_pool = 1,
    .start = uvb_start,
    .stop = uvb_stop,
    .submit = uvb_submit,
    .wait = uvb_wait,
};

#else

const struct sys sys_libuv = { .name = "libuv", .id = "libuv" }; /* not built: pkg-config found no libuv */

#endif
