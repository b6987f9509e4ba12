/* demo.c: the work the loop examples drive and the checks of its results;
 * see demo.h.  Everything here runs on the loop's thread: evaio runs the
 * callbacks inside evaio_ctx_poll, so none of this state needs a lock. */
#define _GNU_SOURCE

#include "demo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef EVAIO_SOURCE_DIR
#define EVAIO_SOURCE_DIR "." /* set by CMakeLists.txt */
#endif

#define CHUNK 16384 /* bytes per read request */
#define STALL 10.0  /* seconds results may wait unpolled before demo_tick gives up */

static struct {
    const char *prog, *file, *dir;
    evaio_ctx *ctx;
    unsigned long flood; /* N of --flood; 0 for the work */
    int no_limits;
    int started;
    unsigned long outstanding; /* submitted, callback not yet run */
    unsigned long errors;

    /* The file. */
    int fd;
    int64_t size;
    unsigned char *data;
    unsigned long reads, reads_left;
    int file_checked;
    /* The directory. */
    unsigned long entries, entries_done, entries_checked;
    char **names; /* as evaio's readdir gave them, for the comparison */

    /* The flood. */
    unsigned char *seen; /* per request: how often its callback ran */
    unsigned long delivered;
    double first_cb, last_cb;

    /* The loop. */
    double last_tick, max_gap;
    unsigned long ticks, ticks_in_delivery;
    int ticked_after_delivery;
    unsigned long polls, eagains;
    double last_poll;
} d;

double demo_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "%s: %s: %s\n", d.prog, what, strerror(err));
    exit(1);
}

static void mismatch(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", d.prog);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    d.errors++;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("malloc", ENOMEM);
    return p;
}

/* Every submission goes through here: a wrapper returns NULL (with errno)
 * only when the request could not be queued at all. */
static void submitted(evaio_req *req, const char *what)
{
    if (!req)
        die(what, errno);
    d.outstanding++;
}

/* ---- the work: a file ----------------------------------------------------- */

static int on_close(evaio_req *req);

static int on_read(evaio_req *req)
{
    d.outstanding--;
    if (req->result != (int64_t)req->args.read.length)
        mismatch(req->result < 0 ? "read of %s failed" : "short read of %s", d.file);
    if (--d.reads_left == 0)
        submitted(evaio_ctx_close(d.ctx, d.fd, 0, on_close, NULL), "close");
    return 0;
}

static int on_fstat(evaio_req *req)
{
    d.outstanding--;
    if (req->result < 0)
        die("fstat", req->errorno);
    /* NULL buffer: the library's struct stat lives until we return. */
    d.size = req->args.fstat.buf->st_size;
    d.data = xmalloc((size_t)d.size);
    /* All the chunks at once: the workers read them in parallel, and the
     * callbacks come back in whatever order they finish. */
    for (int64_t off = 0; off < d.size; off += CHUNK) {
        size_t len = d.size - off < CHUNK ? (size_t)(d.size - off) : CHUNK;
        submitted(evaio_ctx_read(d.ctx, d.fd, off, len, d.data + off, 0, on_read, NULL), "read");
        d.reads++;
        d.reads_left++;
    }
    if (!d.reads_left)
        submitted(evaio_ctx_close(d.ctx, d.fd, 0, on_close, NULL), "close");
    return 0;
}

static int on_open(evaio_req *req)
{
    d.outstanding--;
    if (req->result < 0)
        die(d.file, req->errorno);
    d.fd = (int)req->result;
    submitted(evaio_ctx_fstat(d.ctx, d.fd, NULL, 0, on_fstat, NULL), "fstat");
    return 0;
}

/* The file is closed: compare what evaio read with a synchronous read. */
static int on_close(evaio_req *req)
{
    d.outstanding--;
    if (req->result < 0)
        mismatch("close of %s failed", d.file);
    FILE *f = fopen(d.file, "rb");
    if (!f)
        die(d.file, errno);
    unsigned char *sync = xmalloc((size_t)d.size + 1);
    size_t n = fread(sync, 1, (size_t)d.size + 1, f);
    fclose(f);
    if (n != (size_t)d.size || memcmp(sync, d.data, n) != 0)
        mismatch("%s: evaio's reads differ from a synchronous read", d.file);
    free(sync);
    d.file_checked = 1;
    return 0;
}

/* ---- the work: a directory ------------------------------------------------ */

struct entry {
    char path[1]; /* DIR/NAME, allocated to size */
};

static int on_lstat(evaio_req *req)
{
    struct entry *e = req->data;
    d.outstanding--;
    d.entries_done++;
    struct stat st;
    if (lstat(e->path, &st) < 0) {
        mismatch("%s: synchronous lstat failed", e->path);
    } else if (req->result < 0) {
        mismatch("%s: evaio's lstat failed where lstat(2) succeeds", e->path);
    } else {
        const struct stat *a = req->args.lstat.buf;
        if (a->st_dev != st.st_dev || a->st_ino != st.st_ino || a->st_mode != st.st_mode ||
            a->st_nlink != st.st_nlink || a->st_size != st.st_size ||
            a->st_mtim.tv_sec != st.st_mtim.tv_sec || a->st_mtim.tv_nsec != st.st_mtim.tv_nsec)
            mismatch("%s: evaio's lstat differs from lstat(2) (changed meanwhile?)", e->path);
        else
            d.entries_checked++;
    }
    free(e);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names readdir(3) gives, without . and .., sorted; *n gets their count. */
static char **sync_names(unsigned long *n)
{
    DIR *dir = opendir(d.dir);
    if (!dir)
        die(d.dir, errno);
    unsigned long cap = 64;
    char **names = xmalloc(cap * sizeof *names);
    *n = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (*n == cap) {
            names = realloc(names, (cap *= 2) * sizeof *names);
            if (!names)
                die("realloc", ENOMEM);
        }
        names[(*n)++] = strdup(de->d_name);
    }
    closedir(dir);
    qsort(names, *n, sizeof *names, cmp_names);
    return names;
}

static int on_readdir(evaio_req *req)
{
    d.outstanding--;
    if (req->result < 0)
        die(d.dir, req->errorno);
    d.entries = (unsigned long)req->result;
    d.names = xmalloc(d.entries * sizeof *d.names);
    /* req->result names, each ended by a NUL, back to back; the library
     * frees them when we return, so what we keep is copied. */
    const char *name = req->args.readdir.names;
    size_t dlen = strlen(d.dir);
    for (unsigned long i = 0; i < d.entries; i++, name += strlen(name) + 1) {
        size_t nlen = strlen(name);
        d.names[i] = strdup(name);
        struct entry *e = xmalloc(sizeof *e + dlen + 1 + nlen);
        memcpy(e->path, d.dir, dlen);
        e->path[dlen] = '/';
        memcpy(e->path + dlen + 1, name, nlen + 1);
        /* The wrapper copies the path; NULL buffer: the library's. */
        submitted(evaio_ctx_lstat(d.ctx, e->path, NULL, 0, on_lstat, e), "lstat");
    }

    unsigned long n;
    char **sync = sync_names(&n);
    qsort(d.names, d.entries, sizeof *d.names, cmp_names);
    int same = n == d.entries;
    for (unsigned long i = 0; same && i < n; i++)
        same = !strcmp(sync[i], d.names[i]);
    if (!same)
        mismatch("%s: evaio's readdir lists other names than readdir(3)", d.dir);
    for (unsigned long i = 0; i < n; i++)
        free(sync[i]);
    free(sync);
    return 0;
}

/* ---- the flood ------------------------------------------------------------- */

static int on_flood(evaio_req *req)
{
    uintptr_t i = (uintptr_t)req->data;
    double t = demo_now();
    d.outstanding--;
    if (!d.delivered)
        d.first_cb = t;
    if (req->result != 0 || d.seen[i]++)
        d.errors++;
    /* The application's work on a result.  A fixed time rather than a fixed
     * computation, so that the delivery lasts at least N x DEMO_FLOOD_COST on
     * any machine, and the starvation it could cause is far above the noise
     * of a timer, however fast the machine is. */
    while ((d.last_cb = demo_now()) < t + DEMO_FLOOD_COST)
        ;
    d.delivered++;
    return 0;
}

/* ---- the interface -------------------------------------------------------- */

static void usage(const char *flag, int status)
{
    char extra[64] = "";
    if (flag)
        snprintf(extra, sizeof extra, "[%s] ", flag);
    fprintf(status ? stderr : stdout,
            "usage: %s %s[FILE [DIR]]\n"
            "       %s %s--flood N [--no-limits]\n"
            "Reads FILE (default: %s/spec/ops.toml) and lstat-s every entry of DIR\n"
            "(default: %s/runtime) through evaio, checking against synchronous calls;\n"
            "or delivers N results while a %g ms timer ticks, and checks it kept ticking\n"
            "(--no-limits: checks that it did not, without poll limits).\n",
            d.prog, extra, d.prog, extra, EVAIO_SOURCE_DIR, EVAIO_SOURCE_DIR, DEMO_TICK * 1e3);
    exit(status);
}

evaio_ctx *demo_init(int argc, char **argv, const char *flag, int *given)
{
    const char *slash = strrchr(argv[0], '/');
    d.prog = slash ? slash + 1 : argv[0];
    d.fd = -1;
    if (given)
        *given = 0;
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (flag && !strcmp(argv[i], flag)) {
            *given = 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(flag, 0);
        } else if (!strcmp(argv[i], "--flood") && i + 1 < argc) {
            char *end;
            errno = 0;
            d.flood = strtoul(argv[++i], &end, 10);
            if (errno || *end || argv[i][0] == '-' || d.flood < 1 || d.flood > 100000000)
                usage(flag, 2);
        } else if (!strcmp(argv[i], "--no-limits")) {
            d.no_limits = 1;
        } else if (argv[i][0] == '-' || npos == 2) {
            usage(flag, 2);
        } else if (npos++ == 0) {
            d.file = argv[i];
        } else {
            d.dir = argv[i];
        }
    }
    if ((d.no_limits && !d.flood) || (d.flood && npos))
        usage(flag, 2);
    if (!d.file)
        d.file = EVAIO_SOURCE_DIR "/spec/ops.toml";
    if (!d.dir)
        d.dir = EVAIO_SOURCE_DIR "/runtime";

    /* A context of our own: its settings (the poll limits the example sets,
     * the hooks) are nobody else's business. */
    d.ctx = evaio_ctx_new();
    if (!d.ctx)
        die("evaio_ctx_new", errno);
    return d.ctx;
}

void demo_start(void)
{
    d.started = 1;
    if (!d.flood) {
        submitted(evaio_ctx_open(d.ctx, d.file, O_RDONLY, 0, 0, on_open, NULL), "open");
        submitted(evaio_ctx_readdir(d.ctx, d.dir, 0, 0, on_readdir, NULL), "readdir");
    } else {
        if (d.no_limits) {
            evaio_ctx_set_max_poll_reqs(d.ctx, 0);
            evaio_ctx_set_max_poll_time(d.ctx, 0);
        }
        d.seen = calloc(d.flood, 1);
        if (!d.seen)
            die("calloc", ENOMEM);
        for (unsigned long i = 0; i < d.flood; i++)
            submitted(evaio_ctx_nop(d.ctx, 0, on_flood, (void *)(uintptr_t)i), "nop");
        double deadline = demo_now() + 120;
        while (evaio_ctx_npending(d.ctx) < d.flood) {
            if (demo_now() > deadline) {
                fprintf(stderr, "%s: only %u of %lu results arrived within 120 s\n", d.prog,
                        evaio_ctx_npending(d.ctx), d.flood);
                exit(1);
            }
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
        }
    }
    d.last_tick = d.last_poll = demo_now(); /* the first gap runs from here to the first tick */
}

int demo_polled(int r)
{
    int err = errno;
    d.polls++;
    d.last_poll = demo_now();
    if (r == -1 && err == EAGAIN) {
        d.eagains++;
    } else if (r != 0) {
        fprintf(stderr, "%s: evaio_ctx_poll returned %d (%s)\n", d.prog, r,
                r == -1 ? strerror(err) : "no callback returns that");
        exit(1);
    }
    errno = err;
    return r;
}

void demo_tick(void)
{
    double t = demo_now();
    d.ticks++;
    /* A loop that misses a wake-up, or treats -1/EAGAIN as "nothing left",
     * leaves results waiting with nobody to call evaio_ctx_poll: say so
     * rather than hang until the test's timeout. */
    if (evaio_ctx_npending(d.ctx) && t - d.last_poll > STALL) {
        fprintf(stderr, "%s: %u results have waited %.0f s without an evaio_ctx_poll call\n",
                d.prog, evaio_ctx_npending(d.ctx), t - d.last_poll);
        exit(1);
    }
    if (d.flood && !d.ticked_after_delivery) {
        /* Every gap from demo_start up to the first tick after the last
         * result: together they cover the whole delivery. */
        if (t - d.last_tick > d.max_gap)
            d.max_gap = t - d.last_tick;
        if (d.delivered == d.flood)
            d.ticked_after_delivery = 1;
        else if (d.delivered)
            d.ticks_in_delivery++;
    }
    d.last_tick = t;
}

int demo_finished(void)
{
    if (!d.started || d.outstanding)
        return 0;
    return !d.flood || d.ticked_after_delivery;
}

static void end_work(void)
{
    if (!d.file_checked)
        mismatch("%s: never read to the end", d.file);
    if (d.entries_done != d.entries)
        mismatch("%s: not every entry's lstat came back", d.dir);
    printf("%s: read %lld bytes of %s in %lu parallel reads: %s\n", d.prog, (long long)d.size,
           d.file, d.reads, d.errors ? "see above" : "same as a synchronous read");
    printf("%s: lstat-ed %lu entries of %s: %lu the same as lstat(2)\n", d.prog, d.entries,
           d.dir, d.entries_checked);
}

static void end_flood(void)
{
    for (unsigned long i = 0; i < d.flood; i++) {
        if (d.seen[i] != 1) {
            fprintf(stderr, "%s: flood request %lu: callback ran %d times\n", d.prog, i, d.seen[i]);
            d.errors++;
            break;
        }
    }
    double span = d.last_cb - d.first_cb;
    double bound = span / 2 < 1.0 ? span / 2 : 1.0;
    printf("%s: delivered %lu results in %.3f s\n", d.prog, d.delivered, span);
    printf("%s: the %g ms timer ticked %lu times during the delivery; longest gap %.1f ms "
           "(starved if >= %.1f ms)\n",
           d.prog, DEMO_TICK * 1e3, d.ticks_in_delivery, d.max_gap * 1e3, bound * 1e3);
    /* Sanity: the delivery cannot be shorter than its callbacks' work. */
    if (span < (double)(d.flood - 1) * DEMO_FLOOD_COST) {
        fprintf(stderr, "%s: the delivery took less than its callbacks' work\n", d.prog);
        d.errors++;
    }
    if (d.no_limits) {
        /* The control: without limits one evaio_poll call delivers the lot. */
        if (d.max_gap < bound) {
            fprintf(stderr, "%s: without poll limits the timer was not starved: "
                            "this test cannot tell starvation\n", d.prog);
            d.errors++;
        } else if (d.eagains) {
            fprintf(stderr, "%s: evaio_poll said EAGAIN without a limit\n", d.prog);
            d.errors++;
        } else {
            printf("%s: without poll limits the timer starved, as expected\n", d.prog);
        }
    } else if (d.max_gap >= bound) {
        fprintf(stderr, "%s: the timer was starved for %.1f ms\n", d.prog, d.max_gap * 1e3);
        d.errors++;
    } else if (!d.eagains) {
        fprintf(stderr, "%s: no evaio_poll call was stopped by a limit\n", d.prog);
        d.errors++;
    }
    free(d.seen);
}

int demo_end(void)
{
    if (!demo_finished()) {
        fprintf(stderr, "%s: the loop stopped before the work was done\n", d.prog);
        return 1;
    }
    if (d.flood)
        end_flood();
    else
        end_work();
    printf("%s: %lu evaio_poll calls, %lu stopped by a limit; %lu timer ticks in all\n", d.prog,
           d.polls, d.eagains, d.ticks);
    if (d.names) {
        for (unsigned long i = 0; i < d.entries; i++)
            free(d.names[i]);
        free(d.names);
    }
    free(d.data);
    /* Hooks off first: the loop they would wake may be gone already. */
    evaio_ctx_set_hooks(d.ctx, NULL, NULL, NULL);
    if (evaio_ctx_free(d.ctx) < 0)
        die("evaio_ctx_free", errno);
    if (d.errors)
        fprintf(stderr, "%s: FAILED (%lu errors)\n", d.prog, d.errors);
    return d.errors ? 1 : 0;
}
