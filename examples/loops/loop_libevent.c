/* loop_libevent: evaio in a libevent loop.
 *
 * The tie: a persistent EV_READ event on evaio_ctx_poll_fd().  Without
 * EV_ET libevent watches it level-triggered, and evaio's fd stays readable
 * exactly while results wait, so after evaio_ctx_poll returns -1/EAGAIN (a
 * poll limit stopped it while results still wait) the event is active
 * again on the next loop iteration, after the timers due by then.  Nothing
 * else to do.  (With EV_ET, come back through a timer event added with a
 * zero timeout on EAGAIN: it runs on the next iteration.  event_active()
 * would run the callback again in the same pass, ahead of timers that
 * fall due meanwhile.)
 *
 * As with GLib, keep the event at the priority of the loop's other events:
 * libevent runs only the highest non-empty priority queue per iteration,
 * so a higher-priority evaio event, ready again at once, would starve them
 * whatever the limits.  This base has a single priority.
 *
 * What it does: see demo.h (`loop_libevent --help`).
 */
#define _GNU_SOURCE

#include "demo.h"

#include <event2/event.h>
#include <stdio.h>

static evaio_ctx *ctx;

static void stop_if_finished(struct event_base *base)
{
    if (demo_finished())
        event_base_loopbreak(base);
}

static void on_evaio(evutil_socket_t fd, short what, void *base)
{
    (void)fd;
    (void)what;
    /* 0 or -1/EAGAIN: the level-triggered event knows which. */
    demo_polled(evaio_ctx_poll(ctx));
    stop_if_finished(base);
}

static void on_timer(evutil_socket_t fd, short what, void *base)
{
    (void)fd;
    (void)what;
    demo_tick();
    stop_if_finished(base);
}

int main(int argc, char **argv)
{
    ctx = demo_init(argc, argv, NULL, NULL);
    struct event_base *base = event_base_new();
    if (!base) {
        fprintf(stderr, "loop_libevent: event_base_new failed\n");
        return 1;
    }

    /* At most 1024 callbacks or 5 ms per evaio_ctx_poll call. */
    evaio_ctx_set_max_poll_reqs(ctx, 1024);
    evaio_ctx_set_max_poll_time(ctx, 0.005);

    struct event *evaio = event_new(base, evaio_ctx_poll_fd(ctx), EV_READ | EV_PERSIST, on_evaio, base);
    if (!evaio || event_add(evaio, NULL) < 0) {
        fprintf(stderr, "loop_libevent: cannot watch evaio's fd\n");
        return 1;
    }
    demo_start();

    struct timeval period = { 0, (long)(DEMO_TICK * 1e6) };
    struct event *timer = event_new(base, -1, EV_PERSIST, on_timer, base);
    if (!timer || event_add(timer, &period) < 0) {
        fprintf(stderr, "loop_libevent: cannot add the timer\n");
        return 1;
    }
    if (event_base_dispatch(base) < 0) {
        fprintf(stderr, "loop_libevent: event_base_dispatch failed\n");
        return 1;
    }

    event_free(timer);
    event_free(evaio);
    event_base_free(base);
    return demo_end();
}
