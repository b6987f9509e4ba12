/* Clocks, CPU time, resident memory and fatal errors. */
#include "bench.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int in_child;

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru); /* every thread of the process: workers included */
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

uint64_t switches(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
}

long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* With open and read, not stdio: no allocation, as the memory workload
 * counts them. */
long current_rss_bytes(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die("/proc/self/statm: cannot open");
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    long size, resident;
    if (len <= 0)
        die("/proc/self/statm: cannot read");
    buf[len] = 0;
    if (sscanf(buf, "%ld %ld", &size, &resident) != 2)
        die("/proc/self/statm: cannot parse");
    return resident * sysconf(_SC_PAGESIZE);
}

void die(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("evaio-bench: FATAL: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (!in_child)
        fixture_remove(); /* a child leaves the files to the parent */
    abort();
}
