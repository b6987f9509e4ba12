/* loop_libuv: evaio in a libuv loop.
 *
 * The tie: a uv_poll_t on evaio_ctx_poll_fd(), watching UV_READABLE.
 * libuv's Unix backends watch it level-triggered (epoll without EPOLLET,
 * kqueue without EV_CLEAR), and evaio's fd stays readable exactly while
 * results wait, so after evaio_ctx_poll returns -1/EAGAIN (a poll limit
 * stopped it while results still wait) the handle fires again on the next
 * loop iteration, after the timers due by then have run.  Nothing else to
 * do.  (An edge-triggered tie would start a uv_idle_t on EAGAIN, as
 * loop_libev.c --hook does with ev_idle.)
 *
 * libuv's own thread pool (uv_fs_*) is another way to do file I/O; this
 * is how a libuv program uses evaio's operations, contexts and limits.
 *
 * What it does: see demo.h (`loop_libuv --help`).
 */
#define _GNU_SOURCE

#include "demo.h"

#include <stdio.h>
#include <uv.h>

static evaio_ctx *ctx;
static uv_poll_t evaio_watcher;
static uv_timer_t timer;

static void stop_if_finished(void)
{
    /* With both handles closed, uv_run returns: nothing else is active. */
    if (demo_finished() && !uv_is_closing((uv_handle_t *)&timer)) {
        uv_close((uv_handle_t *)&evaio_watcher, NULL);
        uv_close((uv_handle_t *)&timer, NULL);
    }
}

static void on_evaio(uv_poll_t *handle, int status, int events)
{
    (void)handle;
    (void)events;
    if (status < 0) {
        fprintf(stderr, "loop_libuv: uv_poll: %s\n", uv_strerror(status));
        return;
    }
    /* 0 or -1/EAGAIN: the level-triggered handle knows which. */
    demo_polled(evaio_ctx_poll(ctx));
    stop_if_finished();
}

static void on_timer(uv_timer_t *t)
{
    (void)t;
    demo_tick();
    stop_if_finished();
}

int main(int argc, char **argv)
{
    ctx = demo_init(argc, argv, NULL, NULL);
    uv_loop_t loop;
    int e = uv_loop_init(&loop);
    if (e < 0) {
        fprintf(stderr, "loop_libuv: uv_loop_init: %s\n", uv_strerror(e));
        return 1;
    }

    /* At most 1024 callbacks or 5 ms per evaio_ctx_poll call. */
    evaio_ctx_set_max_poll_reqs(ctx, 1024);
    evaio_ctx_set_max_poll_time(ctx, 0.005);

    if ((e = uv_poll_init(&loop, &evaio_watcher, evaio_ctx_poll_fd(ctx))) < 0 ||
        (e = uv_poll_start(&evaio_watcher, UV_READABLE, on_evaio)) < 0) {
        fprintf(stderr, "loop_libuv: uv_poll: %s\n", uv_strerror(e));
        return 1;
    }
    demo_start();

    uv_update_time(&loop); /* demo_start may have taken a while */
    uint64_t ms = (uint64_t)(DEMO_TICK * 1e3);
    uv_timer_init(&loop, &timer);
    uv_timer_start(&timer, on_timer, ms, ms);
    if ((e = uv_run(&loop, UV_RUN_DEFAULT)) != 0 || (e = uv_loop_close(&loop)) != 0) {
        fprintf(stderr, "loop_libuv: handles left at the end (%d)\n", e);
        return 1;
    }
    return demo_end();
}
