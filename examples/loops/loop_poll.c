/* loop_poll: evaio in a plain poll(2) loop.
 *
 * The tie: evaio_ctx_poll_fd() in the pollfd array, watched for POLLIN.
 * poll(2) is level-triggered and evaio's fd stays readable exactly while
 * results wait, so a poll limit needs no special handling here: after
 * evaio_ctx_poll returns -1/EAGAIN the next poll(2) returns at once, and
 * the loop serves its timer (and would serve any other descriptor) before
 * it calls evaio_ctx_poll again.
 *
 * What it does: see demo.h (`loop_poll --help`).
 */
#define _GNU_SOURCE

#include "demo.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    evaio_ctx *ctx = demo_init(argc, argv, NULL, NULL);

    /* At most 1024 callbacks or 5 ms per evaio_ctx_poll call, whichever
     * comes first: the loop's other work waits no longer than that. */
    evaio_ctx_set_max_poll_reqs(ctx, 1024);
    evaio_ctx_set_max_poll_time(ctx, 0.005);

    struct pollfd pfd = { .fd = evaio_ctx_poll_fd(ctx), .events = POLLIN };
    demo_start();

    /* The loop: one descriptor and one periodic timer, kept by hand. */
    double next_tick = demo_now() + DEMO_TICK;
    while (!demo_finished()) {
        double wait = next_tick - demo_now();
        int timeout = wait > 0 ? (int)ceil(wait * 1e3) : 0;
        if (poll(&pfd, 1, timeout) < 0) {
            if (errno == EINTR)
                continue;
            perror("poll");
            return 1;
        }
        double now = demo_now();
        if (now >= next_tick) {
            demo_tick();
            next_tick += DEMO_TICK;
            if (next_tick < now) /* late: no burst of catch-up ticks */
                next_tick = now + DEMO_TICK;
        }
        if (pfd.revents & POLLIN) {
            /* 0: no result waits now.  -1/EAGAIN: a limit stopped it while
             * results still wait; the fd is still readable, so the next
             * poll(2) returns at once and brings us back here. */
            demo_polled(evaio_ctx_poll(ctx));
        }
    }
    return demo_end();
}
