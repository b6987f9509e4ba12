/* Private to the runtime and the generated code: the context, the request
 * life cycle and the helpers that connect them.  Nothing here is exported. */
#ifndef EVAIO_INTERNAL_H
#define EVAIO_INTERNAL_H

#include "evaio.h"
#include "queue.h"
#include "notify.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>

#include "fault.h" /* (the test build's fault injection; empty otherwise) */

/* Request states (req->state_, accessed atomically).  A request may be
 * started only when IDLE; it is IDLE again when its callback starts, so a
 * callback may restart its own caller-owned request. */
enum {
    EVAIO__IDLE = 0,
    EVAIO__STARTING,   /* being started: not yet queued */
    EVAIO__QUEUED,     /* in the request queue (only changed under ctx->lock) */
    EVAIO__RUNNING,    /* on a worker */
    EVAIO__DONE,       /* in the result queue */
    EVAIO__GROUP_WAIT, /* a group poll reached, waiting for its members */
};

/* The cancel mark lives in the state word, so that a cancel and the start
 * of the callback (which swaps the word to IDLE) are one atomic decision:
 * either the cancel marked the flight the callback sees, or it finds IDLE. */
#define EVAIO__CANCEL_MARK 0x100
#define EVAIO__STATE_MASK 0xff

static inline int evaio__state(const evaio_req *req)
{
    return __atomic_load_n(&req->state_, __ATOMIC_ACQUIRE) & EVAIO__STATE_MASK;
}

/* Changes the state, keeping the cancel mark. */
static inline void evaio__set_state(evaio_req *req, int state)
{
    int old = __atomic_load_n(&req->state_, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&req->state_, &old, (old & ~EVAIO__STATE_MASK) | state, 1,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        ;
}

/* Whether this flight was cancelled: the mark while in flight; during and
 * after the callback, what the callback was given. */
static inline int evaio__marked(const evaio_req *req)
{
    int s = __atomic_load_n(&req->state_, __ATOMIC_ACQUIRE);
    return s == EVAIO__IDLE ? req->cancelled_ : (s & EVAIO__CANCEL_MARK) != 0;
}

/* Group flags (req->grp_state_.flags); touched only on the polling thread. */
enum {
    EVAIO__GF_REACHED = 1 << 0, /* poll has reached the group once */
    EVAIO__GF_FEEDING = 1 << 1, /* the feeder is running: no re-entry */
};

/* Request flags (req->flags_).  Another thread may read them (a cancel, a
 * refused restart) while a worker sets AUTO_OUT: every change in flight is
 * atomic. */
enum {
    EVAIO__RF_ALLOCATED = 1 << 0, /* made by a wrapper: freed after the callback */
    EVAIO__RF_AUTO_OUT = 1 << 1,  /* a NULL output was filled with library storage */
    EVAIO__RF_DRIVEN = 1 << 2,    /* run by a driver as a group of sub-requests */
};

/* An operation run on the polling thread as a group of sub-requests (spec
 * field `drive`).  begin runs when poll first reaches the request and adds
 * the first members (evaio__drive_add); their callbacks add more.  end runs
 * once no member is outstanding, before the callback: it sets result and
 * errorno (ECANCELED when the request was cancelled) and releases what begin
 * took, except library memory in req->owned_, which is freed after the
 * callback. */
struct evaio__driver {
    void (*begin)(evaio_req *req);
    void (*end)(evaio_req *req);
};

/* A group, or a driven operation (which is one). */
static inline int evaio__is_group(const evaio_req *req)
{
    return req->type == EVAIO_OP_GROUP ||
           (__atomic_load_n(&req->flags_, __ATOMIC_RELAXED) & EVAIO__RF_DRIVEN);
}

/* Space for the request in a wrapper's single allocation is rounded up so the
 * output structs placed after it are aligned. */
#define EVAIO__ALIGN_UP(n) (((size_t)(n) + 15) & ~(size_t)15)

struct evaio_worker {
    pthread_t tid;
    evaio_ctx *ctx;
    int executing;           /* a request: taken, not yet pushed back */
    unsigned long seq;       /* requests it has taken */
    unsigned long seen_seq;  /* the watcher's: seq at its look ... */
    double seen_at;          /* ... and since when it has been that */
    struct evaio_worker *live_next, *live_prev; /* on ctx->workers while alive */
    struct evaio_worker *next; /* on ctx->exited_workers once it has exited */
};

#define EVAIO__CACHE_LINE 64

struct evaio_ctx {
    /* Request side and thread pool, under `lock`. */
    pthread_mutex_t lock;
    pthread_cond_t wake;          /* idle workers wait here */
    pthread_cond_t worker_exited; /* evaio_ctx_free and fork wait here */
    struct evaio_queue reqq;
    unsigned nthreads;            /* workers alive */
    unsigned nstarting;           /* of which not yet in their loop */
    unsigned nidle;               /* workers waiting on `wake` */
    unsigned nwakeups;            /* signals sent to `wake` not yet taken; <= nidle */
    unsigned nexec[EVAIO__NPRI];  /* requests executing on workers, by priority */
    /* Bit l: requests of level l queued; bit EVAIO__NPRI + l: executing.
     * Stored atomically after every change under `lock`, so evaio_start can
     * decide on a nowait attempt without taking the lock. */
    unsigned busy_levels;
    /* Pacing (pool.c): at most `cap` workers are woken for work while they
     * make progress; a watcher wakes more when they block. */
    pthread_cond_t watch;         /* the watcher waits here, with a timeout */
    unsigned cap;                 /* max_running, or processors minus the polling thread's, >= 1 */
    unsigned max_running;         /* the setting; 0: the default cap */
    unsigned nwatch;              /* 1 while a worker is the watcher */
    int watch_parked;             /* it found nothing queued: a submission signals it */
    int want_watcher;             /* a worker was woken or started to become it */
    unsigned long ntaken;         /* requests workers have taken, ever */
    unsigned long seen_taken;     /* submissions' look at ntaken ... */
    double seen_taken_at;         /* ... and since when it has been that */
    unsigned nspinning;           /* 0 or 1: a worker spinning before it sleeps; stored atomically */
    struct evaio_worker *workers; /* the live ones */
    unsigned min_parallel, max_parallel, max_idle;
    double idle_timeout;
    int stopping;
    int closing;                  /* evaio_ctx_free runs: starts refused; atomic */
    struct evaio_worker *exited_workers; /* to be joined */

    /* Result side, under `res_lock`.  Workers write it for every result: it
     * starts a cache line of its own, apart from the pool's fields above and
     * the polling thread's below, so that neither side's writes evict the
     * other's lines (the context is allocated cache-line aligned). */
    _Alignas(EVAIO__CACHE_LINE) pthread_mutex_t res_lock;
    struct evaio_queue resq;
    struct evaio_notify notify; /* readable exactly while results wait (resq or taken), between poll calls */
    evaio_hook want_poll, done_poll;
    void *hook_data;

    /* Only touched by the polling thread. */
    /* Results not yet delivered that poll took from resq, or that completed
     * on this thread from a callback (evaio__push_own_result). */
    _Alignas(EVAIO__CACHE_LINE) struct evaio_queue taken;
    unsigned ncallbacks; /* callbacks running now (nested through evaio_ctx_wait) */
    unsigned fork_gen;   /* forks this context went through (in the child) */
    unsigned nblocked;   /* groups that cannot complete until a running callback returns */
    evaio_req *parked;   /* groups poll parked, linked through next_/prev_ */

    /* fork.c */
    evaio_ctx *next_ctx; /* on the list of live contexts, under its lock */

    /* Accessed atomically, by every submitting thread too: a line of their
     * own, apart from the polling thread's. */
    _Alignas(EVAIO__CACHE_LINE) int need_min; /* min_parallel threads to start again at the first start after fork */
    unsigned nreqs;
    unsigned max_poll_reqs;
    double max_poll_time;
};

_Static_assert(sizeof(struct evaio_ctx) % EVAIO__CACHE_LINE == 0, "posix_memalign needs a whole number of lines");

/* The most elements of an array argument (iovec) a wrapper copies: more than
 * the system accepts in one call, which then fails with EINVAL by itself. */
#ifdef IOV_MAX
#define EVAIO__MAX_COPIED_ELEMS IOV_MAX
#else
#define EVAIO__MAX_COPIED_ELEMS 1024
#endif

/* For calls that return an error number instead of setting errno
 * (posix_fadvise, posix_fallocate): -1 with errno set, or 0. */
static inline int evaio__err(int rc)
{
    if (rc == 0)
        return 0;
    errno = rc;
    return -1;
}

struct evaio_wd {
    int fd;        /* an O_PATH (or read-only) directory descriptor */
    unsigned refs; /* the caller's, plus one per request in flight; atomic */
};

/* wd.c */
evaio_wd *evaio__wd_new(int fd);            /* takes over fd; NULL (ENOMEM) closes it */
void evaio__wd_retain(evaio_wd *wd);        /* NULL is allowed */
void evaio__wd_release(evaio_wd *wd);       /* closes the fd with the last reference */
int evaio__dirfd(const evaio_req *req);     /* the wd's fd, or AT_FDCWD */
/* For calls that have no *at form (statvfs, truncate, getxattr, ...): `path`
 * itself when it is absolute or dirfd is AT_FDCWD, else the same file named
 * through /proc/self/fd/DIRFD/PATH in buf (Linux).  NULL with errno set
 * (ENAMETOOLONG, or ENOSYS where there is no /proc/self/fd). */
const char *evaio__at_path(int dirfd, const char *path, char *buf, size_t size);

/* ctx.c */
void evaio__ctx_locks_init(evaio_ctx *ctx); /* lock and res_lock (also in a fork child) */
evaio_ctx *evaio__resolve(evaio_ctx *ctx); /* NULL -> default context (may fail: NULL) */
void evaio__default_lock(int how);          /* for fork: 1 lock, 0 unlock, -1 reset (child) */

/* fork.c */
void evaio__fork_register(evaio_ctx *ctx);
void evaio__fork_unregister(evaio_ctx *ctx);
void evaio__fork_stop_all(void);             /* stops every context's threads (unload) */

/* cancel.c */
void evaio__cancel_queued(evaio_ctx *ctx);   /* every queued request: ECANCELED */
double evaio__now(void);                   /* monotonic seconds */

/* request.c */
void evaio__req_init(evaio_req *req, int type, evaio_cb cb, void *data);
evaio_req *evaio__req_alloc(size_t size);
evaio_req *evaio__submit_allocated(evaio_ctx *ctx, evaio_req *req, int pri);
void *evaio__own(evaio_req *req, size_t size);

/* group.c: on the polling thread */
int evaio__grp_reached(evaio_req *grp); /* 1: park it, its members are outstanding */
void evaio__grp_member_done(evaio_req *grp);
void evaio__grp_detach(evaio_req *req); /* leaves its group's member list, before its callback */
void evaio__grp_start(evaio_req *grp);  /* resets a group's bookkeeping as it starts */
int evaio__drive_add(evaio_req *req, evaio_req *sub); /* a driver adds a started sub-request */
int evaio__grp_cancel(evaio_req *grp);
void evaio__grp_block(evaio_ctx *ctx, evaio_req *grp, int delta); /* grp and the groups above it */
void evaio__grp_end_paused(evaio_ctx *ctx); /* evaio_ctx_free: parked groups stop waiting for feeding */

/* pool.c: called with ctx->lock held after queueing work; -1 (errno) if the
 * work can never run because no worker exists and none could be started. */
void evaio__pool_init(evaio_ctx *ctx); /* pool fields of a new context or a fork child */
void evaio__pool_set_cap(evaio_ctx *ctx); /* from max_running */
void evaio__pool_apply_cap_locked(evaio_ctx *ctx); /* after max_running changed */
int evaio__pool_wake_locked(evaio_ctx *ctx);
/* Whether a request of priority pri or higher is queued, or executing on a
 * worker; they read busy_levels, no lock needed. */
int evaio__pool_queued(const evaio_ctx *ctx, int pri);
int evaio__pool_executing(const evaio_ctx *ctx, int pri);
int evaio__pool_spinning(const evaio_ctx *ctx); /* a worker spins for work */
/* The request queue and what workers execute change only through these
 * (pace.c), which keep busy_levels in step. */
void evaio__pool_queue_locked(evaio_ctx *ctx, evaio_req *req);
void evaio__pool_unqueue_locked(evaio_ctx *ctx, evaio_req *req); /* a request known to be queued */
evaio_req *evaio__pool_pop_locked(evaio_ctx *ctx);               /* the next queued one, not to execute */
evaio_req *evaio__pool_take_locked(evaio_ctx *ctx);              /* the next one, executed by a worker */
void evaio__pool_done_locked(evaio_ctx *ctx, int pri);           /* a taken one has been executed */
int evaio__pool_start_min_locked(evaio_ctx *ctx);
void evaio__pool_grow_locked(evaio_ctx *ctx); /* threads for queued work, after a limit rose */
void evaio__pool_stop(evaio_ctx *ctx);

/* poll.c */
void evaio__push_result(evaio_ctx *ctx, evaio_req *req);
/* A result completed on the submitting thread: straight into the poll
 * call's taken list when that thread is in ctx's callbacks, else pushed. */
void evaio__push_own_result(evaio_ctx *ctx, evaio_req *req);

/* generated/src/op_api.c and op_exec.c */
int evaio__op_prepare(evaio_req *req); /* 0 or the errno to fail the request with */
void evaio__execute(evaio_req *req);
const struct evaio__driver *evaio__op_driver(int type);
int evaio__op_has_nowait(int type);
int evaio__op_nowait(evaio_req *req); /* 1: completed on this thread */

/* The kernel's struct open_how (<linux/openat2.h>, Linux 5.6), whose layout
 * is ABI: declared here so that older kernel headers do not break the build. */
struct evaio__open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

/* nowait.c: attempts that never block; each declines with -1 and errno
 * EAGAIN (evaio__nowait_decline), and a worker then runs the request. */
int64_t evaio__nowait_decline(void);
/* The whole of [offset, offset+length) from the page cache (preadv2 with
 * RWF_NOWAIT); declines when any of it would need the disk, the offset is
 * the file position (-1), the descriptor is O_DIRECT, the call is not
 * supported, or the read is short. */
ssize_t evaio__pread_nowait(int fd, void *buf, size_t length, int64_t offset);
/* nop's attempt: 0 when nothing of its priority or higher executes on a
 * worker (its callback must come after theirs), else a decline. */
int64_t evaio__nop_nowait(const evaio_req *req);

/* nowait_stat.c: stat (nofollow 0), lstat (1) and fstat answered from the
 * dentry cache and in-memory inodes, when the request is the only one
 * outstanding on its context (evaio__alone); else a decline.  A name the
 * cache knows to be missing completes with ENOENT. */
int64_t evaio__stat_nowait(const evaio_req *req, int dirfd, const char *path, struct stat *buf, int nofollow);
int64_t evaio__fstat_nowait(const evaio_req *req, int fd, struct stat *buf);

/* poll.c: 1 when no request of req's context is outstanding besides those
 * whose callbacks this thread is running (and the groups waiting for them). */
int evaio__alone(const evaio_req *req);

#endif
