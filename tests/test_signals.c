/* Signals and EINTR: a SIGALRM every 100 us at the polling thread (the
 * handler installed without SA_RESTART, so its system calls see EINTR) while
 * thousands of requests run: no result is lost or doubled, evaio_wait and a
 * poll(2) loop on the poll fd keep working, and no signal ever lands on a
 * worker thread. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

static pthread_t main_thread;
static volatile sig_atomic_t signals, on_worker;

static void on_alarm(int sig)
{
    (void)sig;
    signals++;
    if (!pthread_equal(pthread_self(), main_thread))
        on_worker = 1;
}

enum { N = 4000 };
static unsigned char calls[N];
static int total;

static int cb(evaio_req *req)
{
    int i = (int)(intptr_t)req->data;
    calls[i]++;
    total++;
    CHECK(req->result >= 0);
    return 0;
}

static void submit_round(void)
{
    memset(calls, 0, sizeof calls);
    total = 0;
    for (int i = 0; i < N; i++) {
        evaio_req *req;
        switch (i % 3) {
        case 0: req = evaio_nop(0, cb, (void *)(intptr_t)i); break;
        case 1: req = evaio_stat("/", NULL, 0, cb, (void *)(intptr_t)i); break;
        default: req = evaio_busy(0.0001, 0, cb, (void *)(intptr_t)i); break;
        }
        CHECK(req != NULL);
    }
}

static void check_round(void)
{
    CHECK_EQ(total, N);
    for (int i = 0; i < N; i++)
        CHECK_EQ(calls[i], 1);
    CHECK_EQ(evaio_nreqs(), 0);
}

int main(void)
{
    main_thread = pthread_self();
    evaio_ctx_set_max_parallel(NULL, 4);
    struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval every = { { 0, 100 }, { 0, 100 } };
    CHECK_EQ(setitimer(ITIMER_REAL, &every, NULL), 0);

    /* Rounds through evaio_wait and through a poll(2) loop, until plenty of
     * signals have arrived during them. */
    int rounds = 0, eintr = 0;
    while (rounds < 4 || signals < 500) {
        CHECK(rounds < 10000);
        submit_round();
        if (rounds % 2) {
            CHECK_EQ(evaio_wait(), 0);
        } else {
            int fd = evaio_poll_fd();
            while (evaio_nreqs()) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, -1) < 0) {
                    CHECK_EQ(errno, EINTR);
                    eintr++;
                    continue;
                }
                int r = evaio_poll();
                CHECK(r == 0);
            }
        }
        check_round();
        rounds++;
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    CHECK_EQ(setitimer(ITIMER_REAL, &off, NULL), 0);
    CHECK(!on_worker);
    fprintf(stderr, "%d rounds of %d requests, %d signals, %d poll(2) calls interrupted\n", rounds, N,
            (int)signals, eintr);

    /* Afterwards: a round trip, and the fd is not readable with nothing waiting. */
    submit_round();
    CHECK_EQ(evaio_wait(), 0);
    check_round();
    struct pollfd p = { .fd = evaio_poll_fd(), .events = POLLIN };
    CHECK_EQ(poll(&p, 1, 0), 0);
    fprintf(stderr, "ok\n");
    return 0;
}
