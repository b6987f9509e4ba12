/* evaio: asynchronous file I/O on worker threads, results delivered by
 * evaio_poll() on the caller's thread.  This is the one header users include;
 * the per-operation parts come from generated/include/evaio/.
 *
 * Conventions:
 *  - Every evaio_ctx_* function accepts NULL for the default context, which
 *    is created on first use.  The short forms (evaio_poll, evaio_start, the
 *    plain wrappers, ...) always use the default context.
 *  - Functions returning int return 0 (or a count) on success and -1 with
 *    errno set on failure; functions returning a pointer return NULL with
 *    errno set.
 */
#ifndef EVAIO_H
#define EVAIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

/* The one export macro: the library is built with hidden visibility. */
#if defined(EVAIO_BUILDING)
#define EVAIO_API __attribute__((visibility("default")))
#else
#define EVAIO_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define EVAIO_VERSION_MAJOR 0
#define EVAIO_VERSION_MINOR 1
#define EVAIO_VERSION_PATCH 0

#define EVAIO_PRI_MIN (-4)
#define EVAIO_PRI_MAX 4
#define EVAIO_PRI_DEFAULT 0

typedef struct evaio_ctx evaio_ctx;
typedef struct evaio_req evaio_req;
/* A working directory: an open directory that path operations resolve
 * relative paths against (see evaio_OP_at, evaio_req_set_wd).  Made by
 * evaio_wd_open, released by evaio_wd_close; requests in flight keep it open. */
typedef struct evaio_wd evaio_wd;
/* A directory stream for reading a directory in batches (opendir,
 * readdir_batch, closedir). */
typedef struct evaio_dir evaio_dir;

/* A completion callback.  A non-zero return stops the current poll call,
 * which returns that value.  It must return (not longjmp out of the poll
 * call): the call keeps state on this thread until it does. */
typedef int (*evaio_cb)(evaio_req *req);

/* The function a `custom` request runs on a worker thread.  Its return value
 * becomes req->result; when it returns a negative value, the errno it left
 * becomes req->errorno. */
typedef int64_t (*evaio_exec_fn)(evaio_req *req);

/* Hooks: called with an internal lock held, from whichever thread changed the
 * state (a worker or a submitter for want_poll, the polling thread for
 * done_poll).  They must only wake something up (write to a pipe,
 * ev_async_send, ...) and must not call into evaio.  Once
 * evaio_ctx_set_hooks(ctx, NULL, NULL, NULL) has returned, no old hook is
 * running or will run: do that before destroying what a hook wakes. */
typedef void (*evaio_hook)(evaio_ctx *ctx, void *hook_data);

/* Constants and structs of particular operations (flags, entry records);
 * each block names its operations. */

/* openat2: the `resolve` bits, Linux's RESOLVE_* values (<linux/openat2.h>). */
#define EVAIO_RESOLVE_NO_XDEV 0x01UL       /* no crossing of mount points */
#define EVAIO_RESOLVE_NO_MAGICLINKS 0x02UL /* no /proc/PID/fd-style links */
#define EVAIO_RESOLVE_NO_SYMLINKS 0x04UL   /* no symlinks at all (ELOOP) */
#define EVAIO_RESOLVE_BENEATH 0x08UL       /* never leave the working directory (EXDEV) */
#define EVAIO_RESOLVE_IN_ROOT 0x10UL       /* the working directory is "/" for the lookup */
#define EVAIO_RESOLVE_CACHED 0x20UL        /* only from the lookup cache, else EAGAIN */

/* rename2: the `flags`, Linux's RENAME_* values (renameat2(2)). */
#define EVAIO_RENAME_NOREPLACE (1 << 0) /* fail with EEXIST rather than replace */
#define EVAIO_RENAME_EXCHANGE (1 << 1)  /* swap the two names atomically */
#define EVAIO_RENAME_WHITEOUT (1 << 2)  /* leave a whiteout (overlay filesystems) */

/* setxattr, lsetxattr, fsetxattr: `flags` (0 creates or replaces).  The
 * values of XATTR_CREATE and XATTR_REPLACE in Linux's <sys/xattr.h>, so
 * either spelling works there. */
#define EVAIO_XATTR_CREATE 1  /* fail with EEXIST if the attribute exists */
#define EVAIO_XATTR_REPLACE 2 /* fail with ENODATA if it does not */

/* readdir and readdir_batch.  Request flags (readdir_batch takes only
 * EVAIO_READDIR_DENTS; any other bit fails with EINVAL):
 *  - DENTS: also return req->args.OP.dents, one struct evaio_dirent per name,
 *    in the same order as the names.
 *  - DIRS_FIRST (readdir): entries whose type says directory first, then those
 *    of unknown type (possible directories), then the rest; each group keeps
 *    the directory's order unless STAT_ORDER is given too.
 *  - STAT_ORDER (readdir): within each group, ascending inode numbers, an
 *    order in which stat-ing the entries tends to need fewer disk seeks.
 * Reported, never requested: readdir sets req->args.readdir.found to
 * EVAIO_READDIR_FOUND_UNKNOWN when some entry's type was EVAIO_DT_UNKNOWN. */
#define EVAIO_READDIR_DENTS 0x01
#define EVAIO_READDIR_DIRS_FIRST 0x02
#define EVAIO_READDIR_STAT_ORDER 0x04
#define EVAIO_READDIR_FOUND_UNKNOWN 0x80
/* Entry types: the values of the DT_* constants of Linux and the BSDs. */
#define EVAIO_DT_UNKNOWN 0
#define EVAIO_DT_FIFO 1
#define EVAIO_DT_CHR 2
#define EVAIO_DT_DIR 4
#define EVAIO_DT_BLK 6
#define EVAIO_DT_REG 8
#define EVAIO_DT_LNK 10
#define EVAIO_DT_SOCK 12
#define EVAIO_DT_WHT 14
/* One directory entry (EVAIO_READDIR_DENTS).  Lives, like the names, until
 * the callback returns. */
struct evaio_dirent {
    const char *name;   /* NUL-terminated, inside req->args.OP.names */
    uint64_t ino;       /* inode number, as the directory reports it */
    unsigned char type; /* EVAIO_DT_*; EVAIO_DT_UNKNOWN when the filesystem does not say */
};
/* mtouch: fault the pages in for writing, without changing their contents. */
#define EVAIO_MTOUCH_WRITE 0x01

/* copy: `flags` (0 replaces an existing destination atomically). */
#define EVAIO_COPY_NOREPLACE 1 /* fail with EEXIST if the destination exists */
#define EVAIO_COPY_SYNC 2      /* fsync the copy and its directory before reporting success */
/* move: `flags` (0 replaces an existing destination). */
#define EVAIO_MOVE_NOREPLACE 1 /* fail with EEXIST if the destination exists */

/* (end of operation constants) */

#include "evaio/op_types.h" /* enum evaio_op, per-op argument structs */

struct evaio_req {
    /* Public, read by the callback. */
    int64_t result;   /* what the operation returned; -1 on failure */
    int errorno;      /* errno of a failure, 0 on success */
    int type;         /* enum evaio_op */
    void *data;       /* the caller's pointer */
    evaio_cb cb;      /* may be NULL: the result is then dropped */

    /* Private to the runtime: do not touch. */
    int pri_;
    int state_;       /* state and cancel mark, accessed atomically */
    int flags_;
    int cancelled_;   /* the flight whose callback runs was cancelled */
    evaio_req *next_, *prev_; /* intrusive queue links */
    evaio_ctx *ctx_;
    void *owned_;     /* library-allocated output freed after the callback */
    evaio_wd *wd_;    /* working directory for relative paths; NULL: the cwd */
    evaio_req *grp_;  /* the group this request is a member of */
    evaio_req *grp_next_, *grp_prev_; /* its siblings in that group */
    struct evaio_grp_state_ {         /* a group's own bookkeeping */
        evaio_req *members;           /* outstanding members, a list */
        void (*feed)(evaio_req *grp); /* the feeder, NULL when not feeding */
        unsigned nmembers;            /* outstanding: callback not yet run */
        unsigned limit;               /* feed while nmembers < limit */
        unsigned long nadded;         /* members ever added, to see a feeder add none */
        unsigned blocking;            /* callbacks or feeders running below it */
        int flags;
    } grp_state_;

    /* Arguments and outputs, one named struct per operation:
     * req->args.stat.buf, req->args.readdir.names, ... */
    union evaio_op_args args;
};

/* Fork: the child of a fork() gets every context empty (no request of the
 * parent's, no thread until it submits; the poll fd keeps its number and
 * every setting is kept).  A caller-owned request that was queued or waiting
 * is IDLE again in the child; one that was executing on a worker stays in
 * flight there: set it up again with its _init before reusing it. */

/* Contexts.  evaio_ctx_free shuts a context down: new starts fail with
 * ESHUTDOWN, queued requests are cancelled (ECANCELED), executing ones are
 * awaited, and every outstanding callback runs on the calling thread (call
 * it where you poll the context) before the threads stop and the memory is
 * freed.  It fails with EBUSY from inside one of the context's callbacks and
 * EINVAL for NULL or the default context, which lives until the library is
 * unloaded. */
EVAIO_API evaio_ctx *evaio_ctx_new(void);
EVAIO_API int evaio_ctx_free(evaio_ctx *ctx);
EVAIO_API evaio_ctx *evaio_default_ctx(void);

/* Starting a caller-owned request set up by an evaio_OP_init function.  It
 * may be started again once its callback has begun, from that callback too.
 * Fails with EBUSY if the request is already in flight, EINVAL for a
 * request a wrapper made (the library frees it), EAGAIN if no worker thread
 * could be started, ESHUTDOWN while evaio_ctx_free runs; the request is
 * then left as it was. */
EVAIO_API int evaio_ctx_start(evaio_ctx *ctx, evaio_req *req);
EVAIO_API int evaio_start(evaio_req *req);
/* Sets a request's priority before it is started; clamped to -4..4, and
 * ignored while the request is in flight. */
EVAIO_API void evaio_req_set_pri(evaio_req *req, int pri);
EVAIO_API int evaio_req_pri(const evaio_req *req);
/* Resolves the request's relative paths against `wd` (NULL: the current
 * directory) from its next start; call it after evaio_OP_init, which resets
 * it.  Ignored while the request is in flight.  The request keeps the
 * directory open from its start until it completes. */
EVAIO_API void evaio_req_set_wd(evaio_req *req, evaio_wd *wd);
EVAIO_API evaio_wd *evaio_req_wd(const evaio_req *req);
/* The directory descriptor a working directory holds (O_PATH where the
 * system has it), for use with *at calls of one's own.  Valid until the
 * handle is closed; do not close it. */
EVAIO_API int evaio_wd_fd(const evaio_wd *wd);
/* Cancellation.  A request that has not started executing never will: its
 * callback runs once with result -1 and errorno ECANCELED (returns 1).  One
 * that is executing, or has finished but whose callback has not run yet,
 * is only marked: its callback sees the real result (returns 0).  A group
 * (see below) cancels its members and stops its feeder, and its own
 * callback reports -1 / ECANCELED (returns 1).  Cancelling a request that is
 * not in flight, i.e. not started or whose callback has begun (so also from
 * inside its own callback), fails with EINVAL; cancelling twice is harmless.
 * A wrapper's request may be cancelled until its callback returns, after
 * which it is freed.  Any thread may cancel a request; a group, or a driven
 * operation (rmtree, scandir: groups too), is cancelled on the polling
 * thread, like every group function. */
EVAIO_API int evaio_cancel(evaio_req *req);
/* In a callback: whether evaio_cancel was called on this request in the
 * flight that just completed. */
EVAIO_API int evaio_req_cancelled(const evaio_req *req);

/* Groups: a request that completes after all its members.  evaio_grp makes
 * one (library-allocated, started at once); evaio_grp_init + evaio_start a
 * caller-owned one.  Its callback runs once, after every member's callback;
 * when poll reaches a group that has no member outstanding (and no paused
 * feeder) it completes then, so add members before returning to the loop.
 * A group's result and errorno are the caller's to set, from member
 * callbacks say (both start at 0).  Groups nest.  The group functions are
 * called on the polling thread (in callbacks, or between polls). */
#define EVAIO_OP_GROUP 0 /* req->type of a group: not an operation of the spec */
#define EVAIO_GRP_LIMIT_DEFAULT 4
typedef void (*evaio_feed_cb)(evaio_req *grp);
EVAIO_API evaio_req *evaio_grp(evaio_cb cb, void *data);
EVAIO_API evaio_req *evaio_ctx_grp(evaio_ctx *ctx, evaio_cb cb, void *data);
EVAIO_API void evaio_grp_init(evaio_req *grp, evaio_cb cb, void *data);
/* Adds a started request (of the group's context) whose callback has not
 * run.  EINVAL: grp is not a group in flight, req is not in flight, is grp
 * or would contain grp; EBUSY: req is already in a group.  A member added
 * to a cancelled group is cancelled at once. */
EVAIO_API int evaio_grp_add(evaio_req *grp, evaio_req *req);
/* The feeder is called, at once and whenever a member finishes, while the
 * group has fewer than `limit` outstanding members; a call that adds no
 * member ends feeding.  Limit 0 pauses feeding (a paused group with a feeder
 * does not complete); NULL removes the feeder. */
EVAIO_API void evaio_grp_feed(evaio_req *grp, evaio_feed_cb feed);
EVAIO_API void evaio_grp_limit(evaio_req *grp, unsigned limit);
EVAIO_API unsigned evaio_grp_outstanding(const evaio_req *grp);

/* Name of an operation ("stat"; "group" for EVAIO_OP_GROUP), or NULL for an
 * unknown type. */
EVAIO_API const char *evaio_op_name(int type);
/* sizeof(evaio_req), for bindings that allocate requests themselves. */
EVAIO_API size_t evaio_req_size(void);

/* Delivering results.  evaio_poll runs waiting callbacks on the calling
 * thread and returns 0 when no result is left waiting, -1 with errno EAGAIN
 * when max_poll_reqs or max_poll_time stopped it while results still wait,
 * or the first non-zero value a callback returned.  (So that a caller can
 * tell a callback's stop from a limit, callbacks should stop a poll with a
 * positive value.)  Both limits are 0 (none) by default: an event loop that
 * must keep its other watchers responsive sets them.  A request started from
 * a callback that completes at once (a nop, a read from the page cache, a
 * lone stat from the dentry cache) is delivered by the same call: the
 * limits also bound such chains. */
EVAIO_API int evaio_ctx_poll(evaio_ctx *ctx);
EVAIO_API int evaio_poll(void);
/* A file descriptor that is readable exactly while results wait (between
 * poll calls; within one it may stay readable while callbacks' requests
 * refill the queue): it becomes readable again for each new batch of
 * results, so an edge-triggered watcher works too.  It belongs to the
 * library: never read, write or close it. */
EVAIO_API int evaio_ctx_poll_fd(evaio_ctx *ctx);
EVAIO_API int evaio_poll_fd(void);
/* Blocks, polling, until no request is outstanding (from inside a callback:
 * none but the callbacks running).  Returns 0, the first non-zero value a
 * callback returned (requests may then remain), or -1 if poll(2) failed. */
EVAIO_API int evaio_ctx_wait(evaio_ctx *ctx);
EVAIO_API int evaio_wait(void);

/* Settings. */
EVAIO_API void evaio_ctx_set_hooks(evaio_ctx *ctx, evaio_hook want_poll,
                                   evaio_hook done_poll, void *hook_data);
EVAIO_API void evaio_ctx_set_max_poll_reqs(evaio_ctx *ctx, unsigned n);   /* 0 = no limit */
EVAIO_API void evaio_ctx_set_max_poll_time(evaio_ctx *ctx, double secs); /* 0 = no limit */
EVAIO_API void evaio_ctx_set_min_parallel(evaio_ctx *ctx, unsigned n);
EVAIO_API void evaio_ctx_set_max_parallel(evaio_ctx *ctx, unsigned n);   /* at least 1 */
EVAIO_API void evaio_ctx_set_max_idle(evaio_ctx *ctx, unsigned n);
EVAIO_API void evaio_ctx_set_idle_timeout(evaio_ctx *ctx, double secs);
/* Workers woken to run queued requests while the running ones make
 * progress; a worker that blocks (disk, network, a sleep) gets a stand-in,
 * up to max_parallel.  0 (the default) means the number of processors minus
 * one, at least 1, which leaves one for the polling thread: waking more for
 * short requests costs more than it gains.  Raise it when the polling thread
 * is mostly idle and requests are short and many; a value above
 * max_parallel acts as max_parallel. */
EVAIO_API void evaio_ctx_set_max_running(evaio_ctx *ctx, unsigned n);

/* Counters. */
EVAIO_API unsigned evaio_ctx_nreqs(evaio_ctx *ctx);    /* outstanding: callback not yet run */
EVAIO_API unsigned evaio_ctx_nready(evaio_ctx *ctx);   /* queued, not started */
EVAIO_API unsigned evaio_ctx_npending(evaio_ctx *ctx); /* done, callback not yet run */
EVAIO_API unsigned evaio_ctx_nthreads(evaio_ctx *ctx); /* worker threads alive */
EVAIO_API unsigned evaio_nreqs(void);

#include "evaio/op_api.h" /* evaio_OP, evaio_ctx_OP, evaio_OP_init */

#ifdef __cplusplus
}
#endif

#endif
