/* loop_libev: evaio in a libev loop, tied either way.
 *
 *   loop_libev [ARGS]         an ev_io watcher on evaio_ctx_poll_fd()
 *   loop_libev --hook [ARGS]  the want_poll hook -> ev_async_send, and an
 *                             ev_idle watcher while more results wait
 *
 * The fd tie: libev's backends are level-triggered, so after
 * evaio_ctx_poll returns -1/EAGAIN (a poll limit stopped it while results
 * still wait) the fd is still readable and the ev_io watcher fires again on
 * the loop's next iteration, after the watchers that were pending with it.
 * Nothing else to do.
 *
 * The hook tie (the one libeio was designed for): evaio calls want_poll
 * when results start waiting, once per batch, from a worker thread (or a
 * submitter's) and with an internal lock held, so the hook does nothing but
 * ev_async_send, the one libev call that is safe from another thread.  It is
 * edge-triggered: after -1/EAGAIN no new want_poll comes until every waiting
 * result has been delivered.  So the example starts an ev_idle watcher,
 * which calls evaio_ctx_poll again on every loop iteration, after the
 * loop's other pending watchers (idle watchers run only when nothing else
 * is pending, and an active one keeps the loop from blocking), and stops it
 * once evaio_ctx_poll returns 0.  The idle watcher spins while active: it
 * is only active while results wait.
 *
 * What it does: see demo.h (`loop_libev --help`).
 */
#define _GNU_SOURCE

#include "demo.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>

static evaio_ctx *ctx;
static ev_io evaio_fd_watcher;
static ev_async evaio_wake;
static ev_idle evaio_again;
static ev_timer timer;

static void stop_if_finished(struct ev_loop *loop)
{
    if (demo_finished())
        ev_break(loop, EVBREAK_ALL);
}

/* ---- the fd tie ---- */

static void on_evaio_fd(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)w;
    (void)revents;
    /* 0 or -1/EAGAIN: either way the level-triggered watcher knows best. */
    demo_polled(evaio_ctx_poll(ctx));
    stop_if_finished(loop);
}

/* ---- the hook tie ---- */

/* On a worker thread, under evaio's lock: only wake the loop. */
static void want_poll(evaio_ctx *c, void *data)
{
    (void)c;
    ev_async_send((struct ev_loop *)data, &evaio_wake);
}

static void poll_results(struct ev_loop *loop)
{
    int r = demo_polled(evaio_ctx_poll(ctx));
    if (r == -1 && errno == EAGAIN)
        ev_idle_start(loop, &evaio_again); /* more wait: again soon */
    else
        ev_idle_stop(loop, &evaio_again);  /* none wait: want_poll will tell */
    stop_if_finished(loop);
}

static void on_evaio_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)w;
    (void)revents;
    poll_results(loop);
}

static void on_evaio_again(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)w;
    (void)revents;
    poll_results(loop);
}

/* ---- the rest of the loop ---- */

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    demo_tick();
    stop_if_finished(loop);
}

int main(int argc, char **argv)
{
    int hook;
    ctx = demo_init(argc, argv, "--hook", &hook);
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    if (!loop) {
        fprintf(stderr, "loop_libev: ev_loop_new failed\n");
        return 1;
    }

    /* At most 1024 callbacks or 5 ms per evaio_ctx_poll call. */
    evaio_ctx_set_max_poll_reqs(ctx, 1024);
    evaio_ctx_set_max_poll_time(ctx, 0.005);

    if (hook) {
        ev_async_init(&evaio_wake, on_evaio_wake);
        ev_async_start(loop, &evaio_wake); /* before the hook can fire */
        ev_idle_init(&evaio_again, on_evaio_again);
        evaio_ctx_set_hooks(ctx, want_poll, NULL, loop);
    } else {
        ev_io_init(&evaio_fd_watcher, on_evaio_fd, evaio_ctx_poll_fd(ctx), EV_READ);
        ev_io_start(loop, &evaio_fd_watcher);
    }
    demo_start();

    ev_now_update(loop); /* demo_start may have taken a while */
    ev_timer_init(&timer, on_timer, DEMO_TICK, DEMO_TICK);
    ev_timer_start(loop, &timer);
    ev_run(loop, 0);

    int status = demo_end(); /* removes the hook before the loop goes */
    ev_loop_destroy(loop);
    return status;
}
