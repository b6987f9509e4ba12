/* busy: sleeps on a worker for a given time (tests and benchmarks). */
#include "op_executors.h"

#include <errno.h>
#include <math.h>
#include <time.h>

int64_t evaio__exec_busy(evaio_req *req, struct evaio_busy_args *a)
{
    (void)req;
    double secs = a->seconds;
    if (!(secs > 0)) /* negative or NaN */
        return 0;
    if (secs > 1e9)
        secs = 1e9;
    struct timespec ts = { (time_t)floor(secs), (long)((secs - floor(secs)) * 1e9) };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return 0;
}
