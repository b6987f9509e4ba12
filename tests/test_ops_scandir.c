/* scandir: directories and the rest, with the fewest stats.  The test
 * interposes readdir (to make the filesystem "not report" entry types) and
 * fstatat (to count the library's stats and how many run at once), so it
 * can check that known types cost no stat, that the link count stops the
 * stats as soon as every subdirectory is found, and that no more than
 * maxreq stats are in flight. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>

static int hide_types;          /* readdir reports DT_UNKNOWN */
static int nstats, inflight, most_inflight;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((visibility("default"))) struct dirent *readdir(DIR *dir)
{
    static struct dirent *(*real)(DIR *);
    if (!real)
        real = (struct dirent * (*)(DIR *)) dlsym(RTLD_NEXT, "readdir");
    struct dirent *e = real(dir);
    if (e && __atomic_load_n(&hide_types, __ATOMIC_RELAXED))
        e->d_type = DT_UNKNOWN;
    return e;
}

__attribute__((visibility("default"))) int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    static int (*real)(int, const char *, struct stat *, int);
    if (!real)
        real = (int (*)(int, const char *, struct stat *, int))dlsym(RTLD_NEXT, "fstatat");
    pthread_mutex_lock(&stats_lock);
    nstats++;
    if (++inflight > most_inflight)
        most_inflight = inflight;
    pthread_mutex_unlock(&stats_lock);
    check_sleep(0.002); /* long enough for stats in flight to overlap */
    int r = real(dirfd, path, st, flags);
    pthread_mutex_lock(&stats_lock);
    inflight--;
    pthread_mutex_unlock(&stats_lock);
    return r;
}

static void reset_stats(void)
{
    pthread_mutex_lock(&stats_lock);
    nstats = most_inflight = 0;
    pthread_mutex_unlock(&stats_lock);
}

struct result {
    int calls;
    int64_t result;
    int errorno;
    int ndirs;
    char dirs[4096], nondirs[4096]; /* the lists, names sorted, one per line */
};

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A NUL-separated list ended by an empty name, as sorted lines. */
static int flatten(const char *list, char *out, size_t size)
{
    const char *names[256];
    int n = 0;
    for (const char *p = list; *p; p += strlen(p) + 1) {
        CHECK(n < 256);
        names[n++] = p;
    }
    qsort(names, (size_t)n, sizeof *names, cmp);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        CHECK(strlen(out) + strlen(names[i]) + 2 < size);
        strcat(out, names[i]);
        strcat(out, "\n");
    }
    return n;
}

static int cb(evaio_req *req)
{
    struct result *r = req->data;
    r->calls++;
    CHECK_EQ(req->type, EVAIO_OP_SCANDIR);
    r->result = req->result;
    r->errorno = req->errorno;
    r->ndirs = req->args.scandir.ndirs;
    r->dirs[0] = r->nondirs[0] = 0;
    if (req->result >= 0) {
        int nd = flatten(req->args.scandir.dirs, r->dirs, sizeof r->dirs);
        int nn = flatten(req->args.scandir.nondirs, r->nondirs, sizeof r->nondirs);
        CHECK_EQ(nd, req->args.scandir.ndirs);
        CHECK_EQ(nd + nn, req->result);
    } else {
        CHECK(req->args.scandir.dirs == NULL && req->args.scandir.nondirs == NULL);
    }
    return 0;
}

static void run(int style, struct result *r, evaio_wd *wd, const char *path, int maxreq)
{
    static evaio_req own;
    memset(r, 0, sizeof *r);
    if (style == 0) {
        CHECK(evaio_scandir_at(wd, path, maxreq, 0, cb, r) != NULL);
    } else {
        evaio_scandir_init(&own, path, maxreq, cb, r);
        evaio_req_set_wd(&own, wd);
        CHECK_EQ(evaio_start(&own), 0);
    }
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(r->calls, 1);
    CHECK_EQ(evaio_nreqs(), 0);
}

static void make_file(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(close(fd), 0);
}

/* 5 subdirectories and 20 other entries (files, a symlink to a directory,
 * a FIFO). */
static char shm_dir[64];

static void remove_shm_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", shm_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", shm_dir);
}

/* On tmpfs, whose inode numbers follow creation order, so the subdirectories
 * made first come first in inode order and the link count can end the
 * stats early. */
static const char *make_dir(void)
{
    strcpy(shm_dir, "/dev/shm/evaio-scandir-XXXXXX");
    if (!mkdtemp(shm_dir))
        SKIP("no writable tmpfs at /dev/shm");
    atexit(remove_shm_dir);
    static char d[128];
    snprintf(d, sizeof d, "%s/d", shm_dir);
    CHECK_EQ(mkdir(d, 0755), 0);
    char p[4096];
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/sub%d", d, i);
        CHECK_EQ(mkdir(p, 0755), 0);
    }
    for (int i = 0; i < 18; i++) {
        snprintf(p, sizeof p, "%s/file%02d", d, i);
        make_file(p);
    }
    snprintf(p, sizeof p, "%s/link", d);
    CHECK_EQ(symlink("sub0", p), 0);
    snprintf(p, sizeof p, "%s/fifo", d);
    CHECK_EQ(mkfifo(p, 0600), 0);
    return d;
}

static const char expect_dirs[] = "sub0\nsub1\nsub2\nsub3\nsub4\n";

/* How many stats a one-at-a-time scan needs: every entry up to the last
 * subdirectory in inode order. */
static int needed_stats(const char *d)
{
    DIR *dir = opendir(d);
    CHECK(dir != NULL);
    struct { uint64_t ino; int is_dir; } e[64];
    int n = 0;
    struct dirent *ent;
    while ((ent = readdir(dir))) {
        if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
            continue;
        CHECK(n < 64);
        e[n].ino = ent->d_ino;
        e[n].is_dir = !strncmp(ent->d_name, "sub", 3);
        n++;
    }
    closedir(dir);
    int last = -1, dirs_before = 0;
    for (int i = 0; i < n; i++) { /* the rank of each directory by inode */
        if (!e[i].is_dir)
            continue;
        int rank = 0;
        for (int j = 0; j < n; j++)
            rank += e[j].ino < e[i].ino;
        last = rank > last ? rank : last;
        dirs_before++;
    }
    CHECK_EQ(dirs_before, 5);
    return last + 1;
}

int main(void)
{
    check_tmpdir();
    const char *d = make_dir();
    struct stat st;
    CHECK_EQ(stat(d, &st), 0);
    CHECK_EQ(st.st_nlink, 7); /* this filesystem counts subdirectories */
    struct result r;

    for (int style = 0; style < 2; style++) {
        fprintf(stderr, "-- types known: no stat at all (style %d)\n", style);
        reset_stats();
        run(style, &r, NULL, d, 4);
        CHECK_EQ(r.result, 25);
        CHECK_EQ(r.ndirs, 5);
        CHECK(!strcmp(r.dirs, expect_dirs));
        CHECK(strstr(r.nondirs, "link\n") && strstr(r.nondirs, "fifo\n") && strstr(r.nondirs, "file17\n"));
        CHECK_EQ(nstats, 0);

        fprintf(stderr, "-- types unknown, one stat at a time: stops at the last subdirectory\n");
        hide_types = 1;
        reset_stats();
        run(style, &r, NULL, d, 1);
        CHECK_EQ(r.result, 25);
        CHECK(!strcmp(r.dirs, expect_dirs));
        CHECK_EQ(needed_stats(d), 5); /* the subdirectories have the lowest inodes */
        CHECK_EQ(nstats, 5);          /* and the 20 others were never stat'ed */
        CHECK_EQ(most_inflight, 1);

        fprintf(stderr, "-- types unknown, maxreq 3: never more than 3 stats at once\n");
        evaio_ctx_set_max_parallel(NULL, 8);
        reset_stats();
        run(style, &r, NULL, d, 3);
        CHECK(!strcmp(r.dirs, expect_dirs));
        CHECK(most_inflight <= 3);
        /* (How many stats run depends on which finish first: a slow one on a
         * directory lets the other slots go on with later entries.) */
        hide_types = 0;

        fprintf(stderr, "-- errors\n");
        run(style, &r, NULL, check_path("missing"), 4);
        CHECK_EQ(r.result, -1);
        CHECK_EQ(r.errorno, ENOENT);
        char file[256];
        snprintf(file, sizeof file, "%s/file00", d);
        run(style, &r, NULL, file, 4);
        CHECK_EQ(r.errorno, ENOTDIR);
        run(style, &r, NULL, d, 0);
        CHECK_EQ(r.errorno, EINVAL);
    }
    errno = 0;
    CHECK(evaio_scandir(NULL, 4, 0, cb, &r) == NULL);
    CHECK_EQ(errno, EFAULT);
    evaio_req req;
    memset(&r, 0, sizeof r);
    evaio_scandir_init(&req, NULL, 4, cb, &r);
    CHECK_EQ(evaio_start(&req), 0);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(r.errorno, EFAULT);

    fprintf(stderr, "-- an empty directory, through a wd\n");
    char empty[256];
    snprintf(empty, sizeof empty, "%s/sub0/empty", d);
    CHECK_EQ(mkdir(empty, 0755), 0);
    CHECK_EQ(chdir("/"), 0);
    evaio_wd_open_init(&req, d, NULL, NULL);
    CHECK_EQ(evaio_start(&req), 0);
    CHECK_EQ(evaio_wait(), 0);
    evaio_wd *wd = req.args.wd_open.handle;
    CHECK(wd != NULL);
    for (int style = 0; style < 2; style++) {
        run(style, &r, wd, "sub0/empty", 4);
        CHECK_EQ(r.result, 0);
        CHECK_EQ(r.ndirs, 0);
        run(style, &r, wd, "sub0", 4);
        CHECK_EQ(r.result, 1);
        CHECK(!strcmp(r.dirs, "empty\n"));
    }
    CHECK(evaio_wd_close(wd, 0, NULL, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0);

    fprintf(stderr, "-- cancelled between its stats\n");
    {
        evaio_ctx *ctx = evaio_ctx_new();
        CHECK(ctx != NULL);
        evaio_ctx_set_max_poll_reqs(ctx, 1);
        hide_types = 1;
        reset_stats();
        memset(&r, 0, sizeof r);
        evaio_req *c = evaio_ctx_scandir(ctx, d, 1, 0, cb, &r);
        CHECK(c != NULL);
        /* One result per poll: the request itself (its driver begins), the
         * listing, then the first of the 5 stats it needs. */
        for (int handled = 0; handled < 3;) {
            struct pollfd p = { .fd = evaio_ctx_poll_fd(ctx), .events = POLLIN };
            CHECK(poll(&p, 1, -1) >= 0 || errno == EINTR);
            if (!evaio_ctx_npending(ctx))
                continue;
            int rc = evaio_ctx_poll(ctx);
            CHECK(rc == 0 || (rc == -1 && errno == EAGAIN));
            handled++;
        }
        CHECK_EQ(r.calls, 0);
        CHECK_EQ(evaio_cancel(c), 1);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        CHECK_EQ(r.calls, 1);
        CHECK_EQ(r.errorno, ECANCELED);
        CHECK(nstats <= 2); /* the first, and at most the one it had started */
        hide_types = 0;
        CHECK_EQ(evaio_ctx_free(ctx), 0);
    }

    fprintf(stderr, "-- cancelled before poll reaches it\n");
    memset(&r, 0, sizeof r);
    evaio_req *c = evaio_scandir(d, 4, 0, cb, &r);
    CHECK(c != NULL);
    CHECK_EQ(evaio_cancel(c), 1);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(r.calls, 1);
    CHECK_EQ(r.errorno, ECANCELED);
    fprintf(stderr, "ok\n");
    return 0;
}
