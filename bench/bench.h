/* evaio-bench: declarations shared by the harness's files.  See
 * bench/README.md for what it measures and docs/performance.md for the
 * method.
 *
 * The pieces:
 *   main.c        options, the run's plan (workloads x systems x reps), output
 *   runner.c      runs one measurement in a forked child, returns its outcome
 *   workloads.c   the workload table and the drivers that time them
 *   memory.c      the memory workload: bytes and allocations per request
 *   fixture.c     the temporary files and the checks of every result
 *   sys_*.c       one system each: evaio, sync, 2 threads, libuv, io_uring
 *   stats.c       medians, percentiles
 *   report.c      the per-workload tables
 *   targets.c     the targets: measured ratio, PASS or MISS
 *   util.c        clocks, CPU time, RSS, fatal errors
 *   alloc_count.c counts malloc calls while the memory workload asks it to */
#ifndef EVAIO_BENCH_H
#define EVAIO_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_REPS 101
#define MAX_ENTRIES 6
#define MAX_WORKLOADS 16

/* ------------------------------------------------------------------------ */
/* Settings (main.c) */

struct bench_cfg {
    unsigned reps;
    unsigned threads;      /* pools' worker threads unless a workload says otherwise */
    unsigned many_threads; /* the "64 threads" of the sleep and thread-count workloads */
    size_t files;          /* small files for stat */
    size_t data_mib;       /* the file pread reads */
    size_t nop_n, nop_inflight;
    size_t stat_n, stat_inflight;
    size_t pread_n, pread_inflight;
    size_t lat_n;
    size_t sleep_n;
    double sleep_secs;
    size_t mem_n;
    int wrappers;          /* evaio: allocating wrappers instead of caller-owned requests */
    int uring_plain;       /* io_uring: a ring with default flags */
    unsigned child_timeout; /* seconds before a hung child is killed */
};
extern struct bench_cfg cfg;

/* ------------------------------------------------------------------------ */
/* Helpers (util.c) */

uint64_t now_ns(void);
uint64_t cpu_ns(void);        /* user + system time of the whole process */
uint64_t switches(void);      /* voluntary + involuntary context switches, all threads */
long peak_rss_kib(void);      /* ru_maxrss */
long current_rss_bytes(void); /* resident pages now (/proc/self/statm) */
extern int in_child;          /* set in forked children: they leave the files alone */
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);

/* ------------------------------------------------------------------------ */
/* The files and the checks (fixture.c) */

struct fixture {
    char *dir;
    char **paths;    /* paths[i]: small file i, of size file_size(i) */
    size_t nfiles;
    char *data_path; /* the pread file, filled by pattern_word() */
    int data_fd;
    uint64_t data_size;
};
extern struct fixture fx;

#define BLOCK 4096

void fixture_create(int want_files, int want_data);
void fixture_remove(void);     /* async-signal-safe */
int64_t file_size(size_t file); /* what small file `file` holds */
size_t stat_file(size_t i);     /* the file request i stats */
int64_t pread_offset(size_t i); /* the block request i reads */
void poison_block(void *buf);

/* Each check aborts the program, naming the system, on a wrong result.
 * `result` and `err` are as the system reported them (err: positive errno). */
void check_nop(const char *who, int64_t result, int err);
void check_sleep(const char *who, int64_t result, int err);
void check_stat(const char *who, size_t i, int64_t result, int err, int64_t size);
void check_pread(const char *who, size_t i, int64_t result, int err, const void *buf);

/* ------------------------------------------------------------------------ */
/* Systems (sys_*.c) */

enum op { OP_NOP, OP_STAT, OP_PREAD, OP_SLEEP };

/* An asynchronous system has submit + wait; a blocking one run + time_one.
 * Everything runs in a forked child, between start and stop. */
struct sys {
    const char *name;
    const char *id; /* --system takes it */
    int available;  /* built in (libuv and io_uring are optional) */
    int has_pool;   /* its worker threads bound concurrency: the sleep
                     * workload may then queue every request at once */
    void (*start)(unsigned threads, size_t slots);
    void (*stop)(void);
    /* Starts request i of op in slot `slot` (< slots). */
    void (*submit)(enum op op, size_t i, unsigned slot);
    /* Blocks until at least one request completed; checks each completed
     * one and calls bench_complete(slot) for it. */
    void (*wait)(void);
    /* Runs requests 0 .. n-1 of op, checking each. */
    void (*run)(enum op op, size_t n);
    /* Runs request i of op alone; returns its time in nanoseconds. */
    uint64_t (*time_one)(enum op op, size_t i);
};

enum { SYS_SYNC, SYS_THREADS, SYS_EVAIO, SYS_LIBUV, SYS_URING, NSYS };
extern const struct sys sys_sync, sys_threads, sys_evaio, sys_libuv, sys_uring;
const struct sys *sys_get(int id);

/* Called by an asynchronous system for every completed request. */
void bench_complete(unsigned slot);

/* ------------------------------------------------------------------------ */
/* Workloads (workloads.c, memory.c) */

enum kind {
    K_TPUT, /* requests per second, CPU per request */
    K_LAT,  /* one at a time: p50 and p99 */
    K_WALL, /* wall time of a fixed batch */
    K_MEM,  /* bytes and allocations per request */
};

struct entry {
    int sys;
    unsigned threads; /* 0: cfg.threads */
    int variant;      /* memory workload: which request kind */
};

struct workload {
    const char *id;    /* --only takes it */
    const char *title;
    enum kind kind;
    enum op op;
    size_t *n, *inflight; /* point into cfg */
    int needs_files, needs_data;
    int per_system_ratio; /* ratios against the same system's first entry, not evaio's */
    unsigned nentries;
    struct entry entries[MAX_ENTRIES];
};

extern const struct workload workloads[];
extern const unsigned nworkloads;

/* One measurement, as the child reports it. */
struct outcome {
    double a;      /* K_TPUT: req/s; K_LAT: p50 us; K_WALL: ms; K_MEM: RSS bytes per queued request */
    double b;      /* K_LAT: p99 us; K_MEM: allocations per request */
    double cpu_us; /* CPU time per request */
    double switches; /* context switches per request, all threads */
    double peak_rss_mib;
};

unsigned entry_threads(const struct entry *e);
struct outcome measure(const struct workload *w, const struct entry *e); /* in the child */
struct outcome measure_memory(const struct workload *w, const struct entry *e);
size_t memory_req_size(const struct entry *e);
const char *memory_label(const struct entry *e);

/* Counting allocations (alloc_count.c): every malloc, calloc and
 * realloc(NULL, ...) of the process between begin and end. */
void alloc_count_begin(void);
unsigned long alloc_count_end(void);

/* Runs measure() in a forked child (runner.c). */
struct outcome run_in_child(const struct workload *w, const struct entry *e);

/* ------------------------------------------------------------------------ */
/* Results, statistics and output (stats.c, report.c, targets.c) */

/* results[w][e][rep], filled by main.c */
extern struct outcome results[MAX_WORKLOADS][MAX_ENTRIES][MAX_REPS];
extern int entry_ran[MAX_WORKLOADS][MAX_ENTRIES];

struct summary {
    double med, min, max;
};
struct summary summarize(const double *v, unsigned n);
double percentile(uint64_t *samples, size_t n, double q); /* sorts; nearest rank */

/* The median over the reps of a field of one entry's outcomes, or -1 when
 * that entry did not run. */
enum field { F_A, F_B, F_CPU, F_RSS, F_SWITCHES };
struct summary entry_summary(int w, int e, enum field f);
int find_workload(const char *id);
int find_entry(int w, int sys, unsigned threads, int variant);

void report_header(int argc, char **argv);
void report_workload(int w);
void report_targets(void);
const char *fmt_rate(double per_sec, char *buf, size_t len);

#endif
