/* evaio-du: disk usage of a tree, like `du -s --apparent-size -B1`, walked
 * asynchronously with evaio.
 *
 * The walk is one evaio group whose feeder keeps at most --jobs requests in
 * flight: `scandir` splits each directory into subdirectories and the rest
 * (stat'ing only what the filesystem does not type), and `lstat` sizes every
 * entry.  Work waits on a stack, so the walk goes depth first and memory
 * stays near depth x fan-out.  Hard links are counted once, like du;
 * symlinks are never followed.  Errors (an unreadable directory, an entry
 * removed meanwhile) are reported and the walk goes on; the exit status is
 * then 1, as du's is.  On a terminal, a progress line shows entries, bytes
 * and the rate, and disappears at the end. */
#define _GNU_SOURCE

#include <evaio.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: evaio-du [OPTION]... [DIR]\n"
    "Prints the apparent size in bytes of DIR (default: the current directory)\n"
    "and everything below it, like `du -s --apparent-size -B1 DIR`.\n"
    "\n"
    "  -e, --entries       print the number of entries instead, DIR included\n"
    "                      (what `find DIR | wc -l` counts)\n"
    "  -j, --jobs N        requests in flight at most (default 512)\n"
    "  -t, --threads N     worker threads (default 4)\n"
    "  -v, --verbose       also print entries, files, directories and time to stderr\n"
    "      --no-progress   no progress line, even on a terminal\n"
    "  -h, --help          this text\n"
    "\n"
    "Symlinks are not followed; hard links count once. Unreadable directories\n"
    "are reported and counted themselves, and make the exit status 1.\n";

enum kind { STAT_ENTRY, STAT_DIR, SCAN };

struct work {
    struct work *next;
    enum kind kind;
    char path[];
};

/* Inodes with more than one link, to count each once: open addressing,
 * inode 0 (never a real one) marks a free slot. */
struct inode {
    dev_t dev;
    ino_t ino;
};

struct inode_set {
    struct inode *slots;
    size_t cap, used; /* cap is a power of two */
};

static struct {
    evaio_req *grp;
    struct work *todo;
    unsigned long long entries, files, dirs, bytes;
    int errors, done, no_memory;
    struct inode_set seen;
} du;

static struct inode *slot(struct inode_set *s, dev_t dev, ino_t ino)
{
    size_t i = (size_t)(((uint64_t)ino * 0x9e3779b97f4a7c15ull) ^ (uint64_t)dev) & (s->cap - 1);
    while (s->slots[i].ino && (s->slots[i].ino != ino || s->slots[i].dev != dev))
        i = (i + 1) & (s->cap - 1);
    return &s->slots[i];
}

static int seen_before(dev_t dev, ino_t ino)
{
    struct inode_set *s = &du.seen;
    if ((s->used + 1) * 2 > s->cap) {
        struct inode_set bigger = { calloc(s->cap ? s->cap * 2 : 1024, sizeof *s->slots),
                                    s->cap ? s->cap * 2 : 1024, s->used };
        if (!bigger.slots) {
            du.no_memory = 1;
            return 0;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i].ino)
                *slot(&bigger, s->slots[i].dev, s->slots[i].ino) = s->slots[i];
        free(s->slots);
        *s = bigger;
    }
    struct inode *e = slot(s, dev, ino);
    if (e->ino)
        return 1;
    *e = (struct inode){ dev, ino };
    s->used++;
    return 0;
}

static void push(enum kind kind, const char *dir, const char *name)
{
    size_t dlen = strlen(dir), nlen = name ? strlen(name) : 0;
    struct work *w = malloc(sizeof *w + dlen + nlen + 2);
    if (!w) {
        du.no_memory = 1;
        return;
    }
    w->kind = kind;
    memcpy(w->path, dir, dlen);
    if (name) {
        size_t at = dlen;
        if (!dlen || w->path[dlen - 1] != '/')
            w->path[at++] = '/';
        memcpy(w->path + at, name, nlen + 1);
    } else {
        w->path[dlen] = 0;
    }
    w->next = du.todo;
    du.todo = w;
}

static void report(const char *what, const char *path, int err)
{
    fprintf(stderr, "\r\033[Kevaio-du: %s '%s': %s\n", what, path, strerror(err));
    du.errors = 1;
}

static void feed(evaio_req *grp);

/* Resumes feeding after a callback queued work: the feeder may have ended
 * while the stack was empty.  From inside a member's callback, the group is
 * still waiting for that member, so it cannot complete before this. */
static void more_work(void)
{
    if (du.todo)
        evaio_grp_feed(du.grp, feed);
}

static int stat_done(evaio_req *req)
{
    struct work *w = req->data;
    if (req->result < 0) {
        report("cannot access", w->path, req->errorno);
    } else {
        const struct stat *st = req->args.lstat.buf;
        du.entries++;
        if (S_ISDIR(st->st_mode))
            du.dirs++;
        else
            du.files++;
        if (st->st_nlink < 2 || S_ISDIR(st->st_mode) || !seen_before(st->st_dev, st->st_ino))
            du.bytes += (unsigned long long)st->st_size;
        if (S_ISDIR(st->st_mode))
            push(SCAN, w->path, NULL);
    }
    free(w);
    more_work();
    return 0;
}

static int scan_done(evaio_req *req)
{
    struct work *w = req->data;
    struct evaio_scandir_args *a = &req->args.scandir;
    if (req->result < 0) {
        report("cannot read directory", w->path, req->errorno);
    } else {
        for (const char *n = a->nondirs; *n; n += strlen(n) + 1)
            push(STAT_ENTRY, w->path, n);
        for (const char *n = a->dirs; *n; n += strlen(n) + 1)
            push(STAT_DIR, w->path, n);
    }
    free(w);
    more_work();
    return 0;
}

/* The group's feeder: one request per call while the group is below its
 * limit; a call that starts none ends feeding until more work arrives. */
static void feed(evaio_req *grp)
{
    struct work *w = du.todo;
    if (!w)
        return;
    du.todo = w->next;
    evaio_req *req = w->kind == SCAN ? evaio_scandir(w->path, 8, 0, scan_done, w)
                                     : evaio_lstat(w->path, NULL, 0, stat_done, w);
    if (!req) {
        report("cannot start a request for", w->path, errno);
        free(w);
        return;
    }
    evaio_grp_add(grp, req);
}

static int walk_done(evaio_req *grp)
{
    (void)grp;
    du.done = 1;
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress(double start)
{
    double secs = now() - start;
    fprintf(stderr, "\r\033[K%llu entries, %.1f MiB, %.0f entries/s", du.entries,
            (double)du.bytes / (1024.0 * 1024.0), secs > 0 ? (double)du.entries / secs : 0.0);
}

static unsigned parse_count(const char *arg, const char *opt)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (errno || *end || !*arg || v == 0 || v > 1000000) {
        fprintf(stderr, "evaio-du: %s: a number from 1 to 1000000, not '%s'\n", opt, arg);
        exit(2);
    }
    return (unsigned)v;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        { "entries", no_argument, NULL, 'e' },  { "jobs", required_argument, NULL, 'j' },
        { "threads", required_argument, NULL, 't' }, { "verbose", no_argument, NULL, 'v' },
        { "no-progress", no_argument, NULL, 'P' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int entries = 0, verbose = 0, show_progress = isatty(2);
    /* A wide window: the polling thread takes larger batches of results
     * per wake-up (64 in flight: 0.43 s on a warm /usr, 512: 0.35 s; see
     * docs/performance.md), for a few MiB more. */
    unsigned jobs = 512, threads = 4;
    for (int c; (c = getopt_long(argc, argv, "ej:t:vh", options, NULL)) != -1;) {
        switch (c) {
        case 'e': entries = 1; break;
        case 'j': jobs = parse_count(optarg, "--jobs"); break;
        case 't': threads = parse_count(optarg, "--threads"); break;
        case 'v': verbose = 1; break;
        case 'P': show_progress = 0; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (argc - optind > 1) {
        fputs(usage, stderr);
        return 2;
    }
    const char *root = optind < argc ? argv[optind] : ".";

    evaio_ctx_set_max_parallel(NULL, threads);
    /* This thread does most of the per-entry work; workers woken up to
     * --threads keep it supplied with results instead of letting it sleep
     * and be woken every few (docs/performance.md). */
    evaio_ctx_set_max_running(NULL, threads);
    double start = now();
    du.grp = evaio_grp(walk_done, NULL);
    if (!du.grp) {
        perror("evaio-du: evaio_grp");
        return 1;
    }
    /* The root is lstat'ed like every entry, and scanned if a directory. */
    push(STAT_DIR, root, NULL);
    evaio_grp_limit(du.grp, jobs);
    evaio_grp_feed(du.grp, feed);

    int fd = evaio_poll_fd();
    double next_progress = start + 0.1;
    while (!du.done) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, show_progress ? 100 : -1) < 0 && errno != EINTR) {
            perror("evaio-du: poll");
            return 1;
        }
        if (evaio_poll() > 0)
            break;
        if (show_progress && now() >= next_progress) {
            progress(start);
            next_progress = now() + 0.1;
        }
    }
    if (show_progress)
        fputs("\r\033[K", stderr);
    if (du.no_memory) {
        fputs("evaio-du: out of memory: the totals are incomplete\n", stderr);
        du.errors = 1;
    }
    printf("%llu\t%s\n", entries ? du.entries : du.bytes, root);
    if (verbose)
        fprintf(stderr, "%llu entries (%llu directories, %llu others), %llu bytes, %.3f s\n", du.entries,
                du.dirs, du.files, du.bytes, now() - start);
    free(du.seen.slots);
    return du.errors ? 1 : 0;
}
