/* The plain synchronous loop: each request is a blocking call on the
 * calling thread, checked before the next one starts. */
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void *block; /* the pread buffer */

static void sync_start(unsigned threads, size_t slots)
{
    (void)threads;
    (void)slots;
    block = aligned_alloc(BLOCK, BLOCK);
    if (!block)
        die("out of memory");
}

static void sync_stop(void)
{
    free(block);
}

static void one(enum op op, size_t i)
{
    switch (op) {
    case OP_STAT: {
        struct stat st;
        st.st_size = -1;
        int r = stat(fx.paths[stat_file(i)], &st);
        check_stat("sync", i, r, r ? errno : 0, st.st_size);
        break;
    }
    case OP_PREAD: {
        poison_block(block);
        ssize_t r = pread(fx.data_fd, block, BLOCK, pread_offset(i));
        check_pread("sync", i, r, r < 0 ? errno : 0, block);
        break;
    }
    default: die("sync: no such workload");
    }
}

static void sync_run(enum op op, size_t n)
{
    for (size_t i = 0; i < n; i++)
        one(op, i);
}

/* The time of the call alone; the check follows, untimed. */
static uint64_t sync_time_one(enum op op, size_t i)
{
    if (op != OP_STAT)
        die("sync: no latency workload for this op");
    struct stat st;
    st.st_size = -1;
    uint64_t t0 = now_ns();
    int r = stat(fx.paths[stat_file(i)], &st);
    uint64_t t = now_ns() - t0;
    check_stat("sync", i, r, r ? errno : 0, st.st_size);
    return t;
}

const struct sys sys_sync = {
    .name = "sync",
    .id = "sync",
    .available = 1,
    .start = sync_start,
    .stop = sync_stop,
    .run = sync_run,
    .time_one = sync_time_one,
};
