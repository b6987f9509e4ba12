/* treewalk: walks a directory tree asynchronously with evaio.
 *
 *     treewalk [--max-inflight N] [PATH]
 *
 * Every directory is listed with evaio_readdir and every entry examined with
 * evaio_lstat, on evaio's worker threads.  Symlinks are counted, never
 * followed (the root itself is followed, as find -H does).  The main thread
 * only decides what to do next: it keeps at most N requests outstanding,
 * parks the rest on a work list, and sleeps in poll(2) on evaio_poll_fd()
 * until results wait, then runs their callbacks with evaio_poll().
 *
 * Without PATH it walks the evaio source tree it was built from.  Entries
 * that cannot be read (permission denied, removed during the walk, ...) are
 * reported on stderr and counted as errors; the walk goes on.
 *
 * Exit status: 0 when the root could be walked (even if some entries could
 * not), 1 when the root could not be examined or listed, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <evaio.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef EVAIO_SOURCE_DIR
#define EVAIO_SOURCE_DIR "." /* set by examples/CMakeLists.txt */
#endif

/* One unit of work: a path to examine (lstat) or to list (readdir).  Work
 * waits on a LIFO list until fewer than max_inflight requests are
 * outstanding.  A stack makes the walk roughly depth-first, so the list holds
 * about depth x fan-out paths instead of a whole breadth-first frontier. */
enum work_kind { WORK_LSTAT, WORK_READDIR };

struct work {
    struct work *next;
    enum work_kind kind;
    int is_root;   /* failures here make the whole walk fail */
    char path[];   /* owned by the work item, freed with it */
};

/* The walk's state.  Only the polling (main) thread touches it: callbacks
 * run inside evaio_poll(), never on a worker, so no locking is needed. */
static struct {
    struct work *todo;     /* waiting to be submitted */
    unsigned inflight;     /* submitted, callback not yet run */
    unsigned max_inflight;
    unsigned long long files, dirs, symlinks, other, bytes, errors;
    int root_failed;
} walk;

/* A new work item for DIR/NAME (or just DIR when NAME is NULL). */
static struct work *work_new(enum work_kind kind, const char *dir, const char *name)
{
    size_t dlen = strlen(dir), nlen = name ? strlen(name) : 0;
    size_t slash = name && dlen && dir[dlen - 1] != '/';
    struct work *w = malloc(sizeof *w + dlen + slash + nlen + 1);
    if (!w) {
        perror("treewalk: malloc");
        exit(1);
    }
    w->kind = kind;
    w->is_root = 0;
    memcpy(w->path, dir, dlen);
    if (slash)
        w->path[dlen] = '/';
    if (name)
        memcpy(w->path + dlen + slash, name, nlen);
    w->path[dlen + slash + nlen] = '\0';
    return w;
}

static void push(struct work *w)
{
    w->next = walk.todo;
    walk.todo = w;
}

static void report(const struct work *w, int err)
{
    fprintf(stderr, "treewalk: %s: %s\n", w->path, strerror(err));
    walk.errors++;
    if (w->is_root)
        walk.root_failed = 1;
}

/* Completion of an lstat (or of the root's stat): classify the entry. */
static int on_stat(evaio_req *req)
{
    struct work *w = req->data;
    walk.inflight--;
    if (req->result < 0) {
        report(w, req->errorno);
        free(w);
        return 0;
    }
    /* We passed a NULL buffer: the library supplies the struct stat, valid
     * until this callback returns. */
    const struct stat *st = req->type == EVAIO_OP_STAT ? req->args.stat.buf : req->args.lstat.buf;
    if (S_ISDIR(st->st_mode)) {
        walk.dirs++;
        w->kind = WORK_READDIR; /* reuse the item: list this directory next */
        push(w);
        return 0;
    }
    if (S_ISREG(st->st_mode)) {
        walk.files++;
        walk.bytes += (unsigned long long)st->st_size;
    } else if (S_ISLNK(st->st_mode)) {
        walk.symlinks++;
    } else {
        walk.other++; /* fifo, socket, device */
    }
    free(w);
    return 0; /* non-zero would stop evaio_poll() and be returned by it */
}

/* Completion of a readdir: queue an lstat for every entry. */
static int on_readdir(evaio_req *req)
{
    struct work *w = req->data;
    walk.inflight--;
    if (req->result < 0) {
        report(w, req->errorno);
    } else {
        /* req->result names, each ended by a NUL byte, back to back; the
         * library frees them after this callback, so copy what we keep. */
        const char *name = req->args.readdir.names;
        for (int64_t i = 0; i < req->result; i++) {
            push(work_new(WORK_LSTAT, w->path, name));
            name += strlen(name) + 1;
        }
    }
    free(w);
    return 0;
}

/* Submits waiting work until max_inflight requests are outstanding.  The
 * wrappers copy the path, allocate the request and free it after its
 * callback, so the only thing we keep per request is our work item. */
static void submit_work(void)
{
    while (walk.todo && walk.inflight < walk.max_inflight) {
        struct work *w = walk.todo;
        walk.todo = w->next;
        evaio_req *req;
        if (w->kind == WORK_READDIR)
            req = evaio_readdir(w->path, 0, EVAIO_PRI_DEFAULT, on_readdir, w);
        else if (w->is_root)
            req = evaio_stat(w->path, NULL, EVAIO_PRI_DEFAULT, on_stat, w);
        else
            req = evaio_lstat(w->path, NULL, EVAIO_PRI_DEFAULT, on_stat, w);
        if (!req) { /* out of memory, or no worker thread could start */
            fprintf(stderr, "treewalk: cannot queue a request: %s\n", strerror(errno));
            exit(1);
        }
        walk.inflight++;
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int usage(FILE *to, int status)
{
    fprintf(to, "usage: treewalk [--max-inflight N] [PATH]\n"
                "Walks PATH (default: %s) and counts what it finds.\n", EVAIO_SOURCE_DIR);
    return status;
}

int main(int argc, char **argv)
{
    const char *root = NULL;
    walk.max_inflight = 256;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--max-inflight") && i + 1 < argc) {
            char *end;
            errno = 0;
            unsigned long n = strtoul(argv[++i], &end, 10);
            if (errno || *end || argv[i][0] == '-' || n < 1 || n > 1000000)
                return usage(stderr, 2);
            walk.max_inflight = (unsigned)n;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            return usage(stdout, 0);
        } else if ((argv[i][0] == '-' && argv[i][1]) || root) {
            return usage(stderr, 2);
        } else {
            root = argv[i];
        }
    }
    if (!root)
        root = EVAIO_SOURCE_DIR;

    /* Also creates the default context: fails only if that cannot be done.
     * Its pool runs at most 4 workers (evaio_ctx_set_max_parallel changes
     * that); max_inflight bounds the requests queued for them. */
    int fd = evaio_poll_fd();
    if (fd < 0) {
        perror("treewalk: evaio_poll_fd");
        return 1;
    }

    double start = now();
    struct work *first = work_new(WORK_LSTAT, root, NULL);
    first->is_root = 1;
    push(first);
    submit_work();

    /* The event loop.  A real program would watch its other descriptors in
     * the same poll(2) call; evaio's fd is readable exactly while results
     * wait, and evaio_poll() runs their callbacks right here. */
    while (walk.inflight) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("treewalk: poll");
            return 1;
        }
        /* -1/EAGAIN would only mean a poll limit stopped it (we set none). */
        if (evaio_poll() < 0 && errno != EAGAIN) {
            perror("treewalk: evaio_poll");
            return 1;
        }
        submit_work(); /* the callbacks freed slots and found new work */
    }
    double elapsed = now() - start;

    if (walk.root_failed)
        return 1; /* already reported on stderr */
    printf("root:        %s\n", root);
    printf("files:       %llu\n", walk.files);
    printf("directories: %llu\n", walk.dirs);
    printf("symlinks:    %llu\n", walk.symlinks);
    printf("other:       %llu\n", walk.other);
    printf("bytes:       %llu\n", walk.bytes);
    printf("errors:      %llu\n", walk.errors);
    printf("elapsed:     %.3f s\n", elapsed);
    return 0;
}
