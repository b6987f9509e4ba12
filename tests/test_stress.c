/* Stress: N requests (nop, stat, read, busy(0); wrappers and caller-owned,
 * every priority) submitted by 8 threads to the default context while the
 * main thread alone polls, with random cancels from the submitters and from
 * the poller.  At the end every callback has run exactly once, each result
 * agrees with what the cancels of that request returned, the counters are
 * zero, and the fd count and the heap are where they were before.
 *
 *   EVAIO_STRESS_N     number of requests (default 200000; 100000 under
 *                      ASan, 50000 under TSan: see default_n)
 *   EVAIO_STRESS_SEED  the seed of the random choices (printed at the start)
 *
 * Full size, as docs/reliability.md documents:
 *   EVAIO_STRESS_N=1000000 build/default/tests/test_stress
 *
 * Rules of the cancels, which follow from evaio_cancel's contract:
 *  - a wrapper's request is freed after its callback, so a submitter
 *    cancels one only while holding the request's stripe lock, which the
 *    callback takes first: either the callback has not begun (the request
 *    is alive) or it has set hits[k] and the cancel is skipped;
 *  - the poller cancels from inside callbacks, so no other callback runs
 *    meanwhile: hits[k] == 0 there means the request is alive;
 *  - a caller-owned request is restarted only by its own submitter, after
 *    its callback has begun, so cancelling its storage is always safe.
 * Whatever each cancel returns is recorded; the callback's view is checked
 * against them at the end (1 <=> -1/ECANCELED; 0 => real result, marked). */
#include "check.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/stat.h>

/* GCC says __SANITIZE_*__, clang __has_feature. */
#if defined(__SANITIZE_THREAD__)
#define STRESS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STRESS_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(STRESS_TSAN)
#define STRESS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRESS_SANITIZED 1
#endif
#endif
#ifdef STRESS_SANITIZED
/* From <sanitizer/allocator_interface.h>, which not every compiler ships:
 * the bytes the sanitizer's allocator has handed out and not taken back. */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

enum {
    NSUBMITTERS = 8,
    NSLOTS = 256,        /* caller-owned requests per submitter */
    MAX_OUTSTANDING = 4096, /* per submitter: bounds memory at any N */
    RECENT = 64,         /* a submitter's recent requests, to cancel one */
    NSTRIPES = 1024,
    READ_LEN = 64,
    FILE_SIZE = 65536,
    MEM_SLACK = 64 * 1024, /* bytes; a leak of one allocation per request exceeds it */
};

enum kind { K_NOP, K_STAT, K_READ, K_BUSY, NKINDS };
static const char *const kind_names[NKINDS] = { "nop", "stat", "read", "busy" };

/* What a callback saw. */
enum outcome {
    O_NONE,
    O_REAL,        /* the operation's own result, not marked cancelled */
    O_REAL_MARKED, /* its own result, evaio_req_cancelled() == 1 */
    O_CANCELLED,   /* -1 / ECANCELED, marked */
    O_BAD,         /* anything else */
};

/* What the cancels of a request returned (bits, or-ed atomically). */
enum { C_ZERO = 1, C_EINVAL = 2, C_OTHER = 4 };

struct slot {
    evaio_req req; /* first: the callback finds the slot from the request */
    struct stat st;
    char buf[READ_LEN];
    size_t k;      /* the flight it carries now; written by its submitter only */
    int busy;      /* atomic: started, callback not yet begun */
};

static size_t n;            /* requests in the measured round */
static size_t per_thread;
static unsigned char *kinds;    /* per request: enum kind | 0x80 when caller-owned */
static unsigned char *hits;     /* callbacks run, under the stripe lock */
static unsigned char *outcome;  /* polling thread */
static unsigned char *nones;    /* atomic: cancels that returned 1 */
static unsigned char *cflags;   /* atomic: C_* of the other cancels */
static evaio_req **ptrs;        /* atomic: the request, published for the poller */
static size_t progress[NSUBMITTERS]; /* atomic: requests each submitter has started */
static unsigned outstanding[NSUBMITTERS]; /* atomic */
static struct slot (*slots)[NSLOTS];
static pthread_mutex_t stripes[NSTRIPES];
static size_t delivered;    /* atomic */
static pthread_t poller_self;
static char file_path[4096];
static int file_fd = -1;
static uint64_t seed;
static uint64_t poller_rng;
static unsigned long poller_cancels;    /* statistics: polling thread */
static unsigned long submitter_cancels; /* statistics: atomic */
static int first_bad_reported;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static unsigned char file_byte(size_t off)
{
    return (unsigned char)(off * 7 + 3 + (off >> 8));
}

static size_t read_offset(size_t k)
{
    return (k * 37) % (FILE_SIZE - READ_LEN);
}

static void record_cancel(size_t k, int ret, int err)
{
    if (ret == 1)
        __atomic_fetch_add(&nones[k], 1, __ATOMIC_RELAXED);
    else
        __atomic_fetch_or(&cflags[k], ret == 0 ? C_ZERO : ret == -1 && err == EINVAL ? C_EINVAL : C_OTHER,
                          __ATOMIC_RELAXED);
}

static int real_result_ok(evaio_req *req, enum kind kind, size_t k)
{
    if (req->errorno != 0)
        return 0;
    switch (kind) {
    case K_NOP:
    case K_BUSY:
        return req->result == 0;
    case K_STAT:
        return req->result == 0 && req->args.stat.buf && req->args.stat.buf->st_size == FILE_SIZE;
    case K_READ: {
        if (req->result != READ_LEN || !req->args.read.buf)
            return 0;
        const unsigned char *b = req->args.read.buf;
        size_t off = read_offset(k);
        for (size_t i = 0; i < READ_LEN; i++)
            if (b[i] != file_byte(off + i))
                return 0;
        return 1;
    }
    default:
        return 0;
    }
}

/* From a callback: cancel a random request that may be in flight. */
static void poller_cancel(void)
{
    uint64_t r = rng_next(&poller_rng);
    size_t t = r % NSUBMITTERS;
    size_t started = __atomic_load_n(&progress[t], __ATOMIC_ACQUIRE);
    size_t back = (size_t)(r >> 8) % 512 + 1;
    if (back > started)
        return;
    size_t k = t * per_thread + started - back;
    if (hits[k]) /* its callback has run: a wrapper's request is gone */
        return;
    evaio_req *req = __atomic_load_n(&ptrs[k], __ATOMIC_ACQUIRE);
    if (!req)
        return;
    errno = 0;
    int ret = evaio_cancel(req);
    record_cancel(k, ret, errno);
    poller_cancels++;
}

static int cb(evaio_req *req)
{
    size_t k = (size_t)(uintptr_t)req->data;
    CHECK(k < n);
    CHECK(pthread_equal(pthread_self(), poller_self));
    pthread_mutex_lock(&stripes[k % NSTRIPES]);
    unsigned char h = ++hits[k];
    pthread_mutex_unlock(&stripes[k % NSTRIPES]);
    CHECK_EQ(h, 1);

    enum kind kind = kinds[k] & 0x7f;
    int owned = (kinds[k] & 0x80) != 0;
    CHECK_EQ(req->type, kind == K_NOP ? EVAIO_OP_NOP : kind == K_STAT ? EVAIO_OP_STAT
                        : kind == K_READ ? EVAIO_OP_READ : EVAIO_OP_BUSY);
    if (owned)
        CHECK(((struct slot *)req)->k == k);
    int marked = evaio_req_cancelled(req);
    enum outcome o;
    if (req->result == -1 && req->errorno == ECANCELED)
        o = marked ? O_CANCELLED : O_BAD;
    else if (real_result_ok(req, kind, k))
        o = marked ? O_REAL_MARKED : O_REAL;
    else
        o = O_BAD;
    if (o == O_BAD && !first_bad_reported++)
        fprintf(stderr, "request %zu (%s, %s): result %lld errorno %d (%s) cancelled %d\n", k,
                kind_names[kind], owned ? "caller-owned" : "wrapper", (long long)req->result, req->errorno,
                strerror(req->errorno), marked);
    outcome[k] = (unsigned char)o;

    /* Cancels from the polling thread, racing the workers. */
    if (rng_next(&poller_rng) % 8 == 0)
        poller_cancel();

    size_t t = k / per_thread;
    __atomic_fetch_sub(&outstanding[t], 1, __ATOMIC_RELEASE);
    __atomic_fetch_add(&delivered, 1, __ATOMIC_RELEASE);
    if (owned) /* last: from here on its submitter may restart it */
        __atomic_store_n(&((struct slot *)req)->busy, 0, __ATOMIC_RELEASE);
    return 0;
}

struct recent {
    size_t k;
    evaio_req *req;  /* a wrapper's request, or NULL */
    struct slot *slot; /* a caller-owned one */
};

static void submitter_cancel(struct recent *rc)
{
    errno = 0;
    if (rc->slot) {
        /* Ours to restart, so always alive; it may carry a later flight. */
        size_t k = rc->slot->k;
        int ret = evaio_cancel(&rc->slot->req);
        record_cancel(k, ret, errno);
    } else {
        pthread_mutex_t *m = &stripes[rc->k % NSTRIPES];
        pthread_mutex_lock(m);
        if (!hits[rc->k]) { /* the callback has not begun: it waits for the lock */
            int ret = evaio_cancel(rc->req);
            record_cancel(rc->k, ret, errno);
        }
        pthread_mutex_unlock(m);
    }
    __atomic_fetch_add(&submitter_cancels, 1, __ATOMIC_RELAXED);
}

static struct slot *free_slot(size_t t, size_t *cursor)
{
    for (size_t i = 0; i < NSLOTS; i++) {
        struct slot *s = &slots[t][(*cursor + i) % NSLOTS];
        if (!__atomic_load_n(&s->busy, __ATOMIC_ACQUIRE)) {
            *cursor = (*cursor + i + 1) % NSLOTS;
            return s;
        }
    }
    return NULL;
}

static void *submitter(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    uint64_t rng = seed ^ (0x1000 + t) * 0x9e3779b97f4a7c15u;
    struct recent recent[RECENT];
    size_t nrecent = 0, cursor = 0;
    for (size_t i = 0; i < per_thread; i++) {
        size_t k = t * per_thread + i;
        uint64_t r = rng_next(&rng);
        enum kind kind = (enum kind)(r % NKINDS);
        int pri = (int)((r >> 8) % 9) - 4;
        int want_owned = (r >> 16) % 2;
        while (__atomic_load_n(&outstanding[t], __ATOMIC_ACQUIRE) >= MAX_OUTSTANDING)
            sched_yield();
        struct slot *s = want_owned ? free_slot(t, &cursor) : NULL;
        kinds[k] = (unsigned char)(kind | (s ? 0x80 : 0));
        __atomic_fetch_add(&outstanding[t], 1, __ATOMIC_RELAXED);
        void *data = (void *)(uintptr_t)k;
        struct recent *rc = &recent[nrecent++ % RECENT];
        rc->k = k;
        if (s) {
            evaio_req *req = &s->req;
            switch (kind) {
            case K_NOP: evaio_nop_init(req, cb, data); break;
            case K_STAT: evaio_stat_init(req, file_path, &s->st, cb, data); break;
            case K_READ: evaio_read_init(req, file_fd, (int64_t)read_offset(k), READ_LEN, s->buf, cb, data); break;
            default: evaio_busy_init(req, 0, cb, data); break;
            }
            evaio_req_set_pri(req, pri);
            s->k = k;
            __atomic_store_n(&s->busy, 1, __ATOMIC_RELAXED);
            /* Published before the start: the poller's cancel may find it
             * not yet started (-1, EINVAL) or racing the start. */
            __atomic_store_n(&ptrs[k], req, __ATOMIC_RELEASE);
            int ret = evaio_start(req);
            if (ret)
                fprintf(stderr, "evaio_start: %s\n", strerror(errno));
            CHECK_EQ(ret, 0);
            rc->req = NULL;
            rc->slot = s;
        } else {
            evaio_req *req;
            switch (kind) {
            case K_NOP: req = evaio_nop(pri, cb, data); break;
            case K_STAT: req = evaio_stat(file_path, NULL, pri, cb, data); break;
            case K_READ: req = evaio_read(file_fd, (int64_t)read_offset(k), READ_LEN, NULL, pri, cb, data); break;
            default: req = evaio_busy(0, pri, cb, data); break;
            }
            if (!req)
                fprintf(stderr, "evaio_%s: %s\n", kind_names[kind], strerror(errno));
            CHECK(req != NULL);
            __atomic_store_n(&ptrs[k], req, __ATOMIC_RELEASE);
            rc->req = req;
            rc->slot = NULL;
        }
        __atomic_store_n(&progress[t], i + 1, __ATOMIC_RELEASE);
        /* Now and then, cancel one of our recent requests. */
        if ((r >> 20) % 16 == 0) {
            size_t have = nrecent < RECENT ? nrecent : RECENT;
            submitter_cancel(&recent[(r >> 24) % have]);
        }
    }
    return NULL;
}

static int count_open_fds(void)
{
    int count = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            count++;
    return count;
}

static size_t heap_in_use(void)
{
#ifdef STRESS_SANITIZED
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

/* One round of `count` requests; the arrays are sized for the largest. */
static void run_round(size_t count)
{
    n = count;
    per_thread = count / NSUBMITTERS;
    CHECK(per_thread > 0);
    n = per_thread * NSUBMITTERS;
    memset(kinds, 0, n);
    memset(hits, 0, n);
    memset(outcome, 0, n);
    memset(nones, 0, n);
    memset(cflags, 0, n);
    memset(ptrs, 0, n * sizeof *ptrs);
    memset(progress, 0, sizeof progress);
    memset(outstanding, 0, sizeof outstanding);
    delivered = 0;
    poller_cancels = submitter_cancels = 0;

    pthread_t subs[NSUBMITTERS];
    for (size_t t = 0; t < NSUBMITTERS; t++)
        CHECK_EQ(pthread_create(&subs[t], NULL, submitter, (void *)(uintptr_t)t), 0);

    int fd = evaio_poll_fd();
    size_t last = (size_t)-1;
    double last_progress = check_now();
    while (__atomic_load_n(&delivered, __ATOMIC_ACQUIRE) < n) {
        size_t now = __atomic_load_n(&delivered, __ATOMIC_ACQUIRE);
        if (now != last) {
            last = now;
            last_progress = check_now();
        } else if (check_now() - last_progress > 60) {
            fprintf(stderr, "no callback for 60 s: delivered %zu of %zu, nreqs %u nready %u npending %u\n", now,
                    n, evaio_nreqs(), evaio_ctx_nready(NULL), evaio_ctx_npending(NULL));
            CHECK(!"every request is delivered");
        }
        errno = 0;
        int r = evaio_poll();
        CHECK(r == 0 || (r == -1 && errno == EAGAIN));
        if (r == 0) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            poll(&p, 1, 10); /* short: submitters may not have submitted yet */
        }
    }
    for (size_t t = 0; t < NSUBMITTERS; t++)
        CHECK_EQ(pthread_join(subs[t], NULL), 0);
    CHECK_EQ(evaio_poll(), 0);

    /* Every callback once; each agrees with what its cancels returned. */
    size_t count_by[O_BAD + 1] = { 0 }, bad = 0;
    for (size_t k = 0; k < n; k++) {
        const char *why = NULL;
        unsigned ones = nones[k], fl = cflags[k];
        enum outcome o = outcome[k];
        if (hits[k] != 1)
            why = "callback did not run exactly once";
        else if (o == O_BAD)
            why = "wrong result in the callback";
        else if (fl & C_OTHER)
            why = "a cancel returned something other than 1, 0 or -1/EINVAL";
        else if (ones > 1)
            why = "two cancels of one request returned 1";
        else if ((o == O_CANCELLED) != (ones == 1))
            why = "cancel returned 1 exactly when the callback reports ECANCELED: violated";
        else if (o == O_REAL_MARKED && !(fl & C_ZERO))
            why = "marked cancelled, yet no cancel returned 0";
        else if (o == O_REAL && (fl & C_ZERO))
            why = "a cancel returned 0, yet the callback was not marked cancelled";
        if (why) {
            if (!bad)
                fprintf(stderr, "request %zu (%s, %s): %s: hits %d outcome %d ones %u flags %u\n", k,
                        kind_names[kinds[k] & 0x7f], kinds[k] & 0x80 ? "caller-owned" : "wrapper", why, hits[k],
                        o, ones, fl);
            bad++;
        }
        if (o <= O_BAD)
            count_by[o]++;
    }
    fprintf(stderr,
            "%zu requests: %zu real, %zu real but marked, %zu cancelled before running; %lu cancels by "
            "submitters, %lu by the poller\n",
            n, count_by[O_REAL], count_by[O_REAL_MARKED], count_by[O_CANCELLED], submitter_cancels,
            poller_cancels);
    if (bad)
        fprintf(stderr, "%zu requests broke the rules (seed %llu)\n", bad, (unsigned long long)seed);
    CHECK_EQ(bad, 0);
    CHECK_EQ(evaio_nreqs(), 0);
    CHECK_EQ(evaio_ctx_nready(NULL), 0);
    CHECK_EQ(evaio_ctx_npending(NULL), 0);
    for (size_t t = 0; t < NSUBMITTERS; t++)
        for (size_t i = 0; i < NSLOTS; i++)
            CHECK_EQ(slots[t][i].busy, 0);
}

/* CI sizes: a few seconds at most in each build. */
static size_t default_n(void)
{
#if defined(STRESS_TSAN)
    return 50000;
#elif defined(STRESS_SANITIZED)
    return 100000;
#else
    return 200000;
#endif
}

static size_t env_size(const char *name, size_t dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end) {
        fprintf(stderr, "%s=%s: not a number\n", name, s);
        exit(1);
    }
    return (size_t)v;
}

int main(void)
{
    size_t total = env_size("EVAIO_STRESS_N", default_n());
    if (getenv("EVAIO_STRESS_SEED") && *getenv("EVAIO_STRESS_SEED"))
        seed = env_size("EVAIO_STRESS_SEED", 0);
    else
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    CHECK(total >= NSUBMITTERS);
    fprintf(stderr, "test_stress: EVAIO_STRESS_N=%zu EVAIO_STRESS_SEED=%llu\n", total,
            (unsigned long long)seed);
    poller_rng = seed ^ 0xabcdef;
    poller_self = pthread_self();
    for (int i = 0; i < NSTRIPES; i++)
        pthread_mutex_init(&stripes[i], NULL);

    /* The file that stat and read use. */
    snprintf(file_path, sizeof file_path, "%s", check_path("data"));
    {
        int w = open(file_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        CHECK(w >= 0);
        static unsigned char data[FILE_SIZE];
        for (size_t i = 0; i < FILE_SIZE; i++)
            data[i] = file_byte(i);
        CHECK_EQ(write(w, data, FILE_SIZE), FILE_SIZE);
        CHECK_EQ(close(w), 0);
    }
    file_fd = open(file_path, O_RDONLY | O_CLOEXEC);
    CHECK(file_fd >= 0);

    size_t warm = total < 8000 ? total : 8000;
    size_t cap = total > warm ? total : warm;
    kinds = calloc(cap, 1);
    hits = calloc(cap, 1);
    outcome = calloc(cap, 1);
    nones = calloc(cap, 1);
    cflags = calloc(cap, 1);
    ptrs = calloc(cap, sizeof *ptrs);
    slots = calloc(NSUBMITTERS, sizeof *slots);
    CHECK(kinds && hits && outcome && nones && cflags && ptrs && slots);

    /* The default context and everything made on first use (its poll fd,
     * its workers, the threads' stacks, stdio's buffers) before the
     * baseline: a warm-up round of the same shape. */
    CHECK(evaio_default_ctx() != NULL);
    evaio_ctx_set_max_poll_reqs(NULL, 97); /* the EAGAIN path too */
    run_round(warm);

    int fds_before = count_open_fds();
    size_t heap_before = heap_in_use();
    double t0 = check_now();
    run_round(total);
    double secs = check_now() - t0;
    int fds_after = count_open_fds();
    size_t heap_after = heap_in_use();

    fprintf(stderr, "%.2f s, %.0f requests/s; fds %d -> %d; heap in use %zu -> %zu bytes\n", secs,
            (double)n / secs, fds_before, fds_after, heap_before, heap_after);
    CHECK_EQ(fds_after, fds_before);
    if (heap_after > heap_before + MEM_SLACK) {
        fprintf(stderr, "heap grew by %zu bytes over %zu requests (seed %llu)\n", heap_after - heap_before, n,
                (unsigned long long)seed);
        CHECK(!"the heap returns to where it was");
    }

    free(kinds);
    free(hits);
    free(outcome);
    free(nones);
    free(cflags);
    free(ptrs);
    free(slots);
    close(file_fd);
    return 0;
}
