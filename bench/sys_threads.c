/* Two plain threads: the synchronous loop split by hand between two
 * threads, thread t doing requests t, t + 2, t + 4, ...  On a 2-core
 * machine this is the most any thread pool can do: the limit. The threads
 * are created inside the timed run (tens of microseconds against a run of
 * a tenth of a second or more). */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NTHREADS 2

struct half {
    pthread_t tid;
    unsigned t;
    enum op op;
    size_t n;
    void *block;
};

static struct half halves[NTHREADS];

static void *run_half(void *arg)
{
    struct half *h = arg;
    for (size_t i = h->t; i < h->n; i += NTHREADS) {
        if (h->op == OP_STAT) {
            struct stat st;
            st.st_size = -1;
            int r = stat(fx.paths[stat_file(i)], &st);
            check_stat("2 threads", i, r, r ? errno : 0, st.st_size);
        } else {
            poison_block(h->block);
            ssize_t r = pread(fx.data_fd, h->block, BLOCK, pread_offset(i));
            check_pread("2 threads", i, r, r < 0 ? errno : 0, h->block);
        }
    }
    return NULL;
}

static void threads_start(unsigned threads, size_t slots)
{
    (void)threads;
    (void)slots;
    for (unsigned t = 0; t < NTHREADS; t++) {
        halves[t].t = t;
        halves[t].block = aligned_alloc(BLOCK, BLOCK);
        if (!halves[t].block)
            die("out of memory");
    }
}

static void threads_stop(void)
{
    for (unsigned t = 0; t < NTHREADS; t++)
        free(halves[t].block);
}

static void threads_run(enum op op, size_t n)
{
    if (op != OP_STAT && op != OP_PREAD)
        die("2 threads: no such workload");
    for (unsigned t = 0; t < NTHREADS; t++) {
        halves[t].op = op;
        halves[t].n = n;
        int r = pthread_create(&halves[t].tid, NULL, run_half, &halves[t]);
        if (r != 0)
            die("pthread_create: %s", strerror(r));
    }
    for (unsigned t = 0; t < NTHREADS; t++)
        pthread_join(halves[t].tid, NULL);
}

const struct sys sys_threads = {
    .name = "2 threads",
    .id = "threads",
    .available = 1,
    .start = threads_start,
    .stop = threads_stop,
    .run = threads_run,
};
