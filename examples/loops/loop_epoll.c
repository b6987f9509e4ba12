/* loop_epoll: evaio in an epoll(7) loop, edge-triggered.
 *
 * The tie: evaio_ctx_poll_fd() registered with EPOLLIN | EPOLLET.  Level-
 * triggered (plain EPOLLIN) would work exactly as in loop_poll.c; this
 * example shows the edge-triggered way, which is also how the want_poll
 * hook behaves: evaio signals once per batch, when results start waiting,
 * and not again until they have all been delivered.  So when
 * evaio_ctx_poll returns -1/EAGAIN (a poll limit stopped it while results
 * still wait) no new event will come: the loop remembers `again`, lets
 * epoll_wait look at its other descriptors without blocking (timeout 0),
 * and calls evaio_ctx_poll once more, until it returns 0.
 *
 * The loop's timer is a timerfd in the same epoll set.
 *
 * What it does: see demo.h (`loop_epoll --help`).
 */
#define _GNU_SOURCE

#include "demo.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    evaio_ctx *ctx = demo_init(argc, argv, NULL, NULL);

    /* At most 1024 callbacks or 5 ms per evaio_ctx_poll call. */
    evaio_ctx_set_max_poll_reqs(ctx, 1024);
    evaio_ctx_set_max_poll_time(ctx, 0.005);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ep < 0 || tfd < 0) {
        perror("epoll_create1/timerfd_create");
        return 1;
    }
    int efd = evaio_ctx_poll_fd(ctx);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = efd };
    /* Adding a descriptor that is readable already reports it once. */
    if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0) {
        perror("epoll_ctl");
        return 1;
    }
    demo_start();

    long ns = (long)(DEMO_TICK * 1e9);
    struct itimerspec its = { .it_interval = { 0, ns }, .it_value = { 0, ns } };
    ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = tfd };
    if (timerfd_settime(tfd, 0, &its, NULL) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) < 0) {
        perror("timerfd_settime/epoll_ctl");
        return 1;
    }

    int again = 0; /* the last evaio_ctx_poll was stopped by a limit */
    while (!demo_finished()) {
        struct epoll_event evs[8];
        int n = epoll_wait(ep, evs, 8, again ? 0 : -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_wait");
            return 1;
        }
        int results = again;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == tfd) {
                uint64_t expirations;
                if (read(tfd, &expirations, sizeof expirations) == sizeof expirations)
                    demo_tick();
            } else if (evs[i].data.fd == efd) {
                results = 1; /* an edge: results started waiting */
            }
        }
        if (results) {
            /* Never read efd ourselves: evaio empties it when the last
             * waiting result is taken. */
            int r = demo_polled(evaio_ctx_poll(ctx));
            again = r == -1 && errno == EAGAIN;
        }
    }
    close(tfd);
    close(ep);
    return demo_end();
}
