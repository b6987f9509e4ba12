/* treewalk_counts: runs examples/treewalk on a tree built here and checks
 * every count it prints against nftw(3) (FTW_PHYS: symlinks not followed)
 * and against what the builder made; also the exit codes for a missing root,
 * a file root, a symlink root and bad usage.
 *
 * usage: treewalk_test PATH-TO-TREEWALK */
#include "check.h"

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

struct counts {
    long long files, dirs, symlinks, other, bytes, errors;
};

static const char *treewalk;
static struct counts built; /* what make_tree made, counted as it went */

/* printf into buf, which must be big enough. */
__attribute__((format(printf, 3, 4))) static char *fmt(char *buf, size_t size, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(buf, size, format, ap);
    va_end(ap);
    CHECK(n >= 0 && (size_t)n < size);
    return buf;
}

/* --- building the tree ---------------------------------------------------- */

static void make_dir(const char *path)
{
    CHECK(mkdir(path, 0755) == 0);
    built.dirs++;
}

static void make_file(const char *path, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK(fd >= 0);
    char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    for (size_t left = size; left;) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        CHECK(write(fd, chunk, n) == (ssize_t)n);
        left -= n;
    }
    CHECK(close(fd) == 0);
    built.files++;
    built.bytes += (long long)size;
}

static void make_link(const char *target, const char *path)
{
    CHECK(symlink(target, path) == 0);
    built.symlinks++;
}

static char locked_dir[4096]; /* mode 000 while the test runs (non-root only) */

static void unlock_dir(void)
{
    if (locked_dir[0])
        chmod(locked_dir, 0755); /* so check.h's cleanup can remove it */
}

static void make_tree(const char *root)
{
    char p[4096];
#define AT(...) fmt(p, sizeof p, __VA_ARGS__)
    make_dir(root);
    make_file(AT("%s/empty.txt", root), 0);
    make_file(AT("%s/one.bin", root), 1);
    make_file(AT("%s/page.dat", root), 4096);
    make_file(AT("%s/big.dat", root), 100003);
    make_file(AT("%s/name with spaces", root), 17);
    make_dir(AT("%s/empty", root));
    make_dir(AT("%s/sub", root));
    make_file(AT("%s/sub/e", root), 123);
    make_dir(AT("%s/sub/deeper", root));
    make_file(AT("%s/sub/deeper/f", root), 7);
    make_dir(AT("%s/sub/deeper/deepest", root));
    make_file(AT("%s/sub/deeper/deepest/g", root), 65537);
    make_link("g", AT("%s/sub/deeper/deepest/link-to-g", root));
    make_link("sub", AT("%s/link-to-dir", root)); /* must not be followed */
    make_link("nowhere", AT("%s/dangling", root));
    CHECK(mkfifo(AT("%s/fifo", root), 0644) == 0);
    built.other++;

    /* Enough entries to keep the default 256 requests in flight and queue
     * the rest: 40 directories of 30 files of assorted sizes. */
    make_dir(AT("%s/many", root));
    for (int d = 0; d < 40; d++) {
        make_dir(AT("%s/many/d%02d", root, d));
        for (int f = 0; f < 30; f++) {
            make_file(AT("%s/many/d%02d/f%02d", root, d, f), (size_t)((d * 31 + f * 7) % 300));
        }
    }

    /* An unreadable directory: counted as a directory and as one error.
     * Root reads it anyway, so only an unprivileged run can check this. */
    if (geteuid() != 0) {
        make_dir(AT("%s/locked", root));
        make_file(AT("%s/locked/hidden", root), 5);
        built.files--; /* not visible to the walk */
        built.bytes -= 5;
        built.errors++;
        fmt(locked_dir, sizeof locked_dir, "%s/locked", root);
        atexit(unlock_dir); /* runs before check.h's cleanup */
        CHECK(chmod(locked_dir, 0) == 0);
    } else {
        fprintf(stderr, "note: running as root, permission errors not tested\n");
    }
#undef AT
}

/* --- the ground truth ------------------------------------------------------ */

static struct counts truth;

static int count_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    switch (flag) {
    case FTW_F:
        if (S_ISREG(st->st_mode)) {
            truth.files++;
            truth.bytes += (long long)st->st_size;
        } else {
            truth.other++;
        }
        break;
    case FTW_D: truth.dirs++; break;
    case FTW_DNR: truth.dirs++; truth.errors++; break; /* a directory we cannot list */
    case FTW_SL:
    case FTW_SLN: truth.symlinks++; break;
    default: truth.errors++; break; /* FTW_NS: could not stat */
    }
    return 0;
}

static struct counts ground_truth(const char *root)
{
    memset(&truth, 0, sizeof truth);
    CHECK(nftw(root, count_entry, 16, FTW_PHYS) == 0);
    return truth;
}

/* --- running treewalk ------------------------------------------------------ */

static char out[1 << 16], err[1 << 16];

static void slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs treewalk with up to three arguments (NULL-terminated); returns its
 * exit status with its stdout in `out` and its stderr in `err`.  The output
 * files live beside the tree, not in it. */
static int run(const char *a1, const char *a2, const char *a3)
{
    static char out_path[4096], err_path[4096];
    fmt(out_path, sizeof out_path, "%s/stdout.txt", check_tmpdir());
    fmt(err_path, sizeof err_path, "%s/stderr.txt", check_tmpdir());
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(126);
        char *argv[] = { (char *)treewalk, (char *)a1, (char *)a2, (char *)a3, NULL };
        execv(treewalk, argv);
        _exit(127);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    slurp(out_path, out, sizeof out);
    slurp(err_path, err, sizeof err);
    if (!WIFEXITED(status)) {
        fprintf(stderr, "treewalk died (status %#x); stderr:\n%s", status, err);
        exit(1);
    }
    return WEXITSTATUS(status);
}

/* The value printed on the line "KEY: value". */
static long long field(const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = out; line && *line;) {
        long long v;
        if (!strncmp(line, key, klen) && line[klen] == ':' && sscanf(line + klen + 1, "%lld", &v) == 1)
            return v;
        if ((line = strchr(line, '\n')))
            line++;
    }
    fprintf(stderr, "no \"%s:\" line in treewalk's output:\n%s", key, out);
    exit(1);
}

static void check_counts(const struct counts *want)
{
    CHECK_EQ(field("files"), want->files);
    CHECK_EQ(field("directories"), want->dirs);
    CHECK_EQ(field("symlinks"), want->symlinks);
    CHECK_EQ(field("other"), want->other);
    CHECK_EQ(field("bytes"), want->bytes);
    CHECK_EQ(field("errors"), want->errors);
    CHECK(strstr(out, "elapsed:") != NULL);
}

static void check_walk(const char *root, const struct counts *want, const char *a1, const char *a2)
{
    int rc = a1 ? run(a1, a2, root) : run(root, NULL, NULL);
    if (rc != 0)
        fprintf(stderr, "treewalk %s %s %s: exit %d\n%s", a1 ? a1 : "", a2 ? a2 : "", root, rc, err);
    CHECK_EQ(rc, 0);
    check_counts(want);
    /* Each error is reported on stderr, one line each. */
    long long lines = 0;
    for (const char *c = err; *c; c++)
        lines += *c == '\n';
    CHECK_EQ(lines, want->errors);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: treewalk_test PATH-TO-TREEWALK\n");
        return 2;
    }
    treewalk = argv[1];

    char root[4096], missing[4096], slashed[4096], sub[4096], link[4096], file[4096];
    fmt(root, sizeof root, "%s/tree", check_tmpdir());
    fmt(missing, sizeof missing, "%s/does-not-exist", check_tmpdir());
    make_tree(root);
    struct counts want = ground_truth(root);
    /* The ground truth sees exactly what was built. */
    CHECK(!memcmp(&want, &built, sizeof want));
    CHECK_EQ(want.symlinks, 3);
    CHECK_EQ(want.other, 1);

    check_walk(root, &want, NULL, NULL);                /* default: 256 in flight */
    check_walk(root, &want, "--max-inflight", "1");     /* strictly one at a time */
    check_walk(root, &want, "--max-inflight", "7");
    check_walk(fmt(slashed, sizeof slashed, "%s/", root), &want, NULL, NULL); /* same */

    /* A subtree, and a symlink root, which is followed (like find -H). */
    fmt(sub, sizeof sub, "%s/sub", root);
    fmt(link, sizeof link, "%s/link-to-dir", root);
    struct counts want_sub = ground_truth(sub);
    CHECK_EQ(want_sub.dirs, 3);
    check_walk(sub, &want_sub, NULL, NULL);
    check_walk(link, &want_sub, NULL, NULL);

    /* A regular file as the root: one file. */
    fmt(file, sizeof file, "%s/big.dat", root);
    struct counts want_file = { .files = 1, .bytes = 100003 };
    check_walk(file, &want_file, NULL, NULL);

    /* A missing root: exit 1, the reason on stderr, nothing on stdout. */
    CHECK_EQ(run(missing, NULL, NULL), 1);
    CHECK(strstr(err, "does-not-exist") != NULL);
    CHECK(strstr(err, strerror(ENOENT)) != NULL);
    CHECK_EQ(strlen(out), 0);

    /* Bad usage: exit 2. */
    CHECK_EQ(run("--max-inflight", "0", root), 2);
    CHECK_EQ(run("--max-inflight", "-3", root), 2);
    CHECK_EQ(run("--no-such-option", root, NULL), 2);
    CHECK_EQ(run(root, root, NULL), 2);

    /* No argument: the source tree it was built from.  Builds may be
     * changing files under it meanwhile, so only the shape is checked. */
    CHECK_EQ(run(NULL, NULL, NULL), 0);
    char want_root[4200];
    fmt(want_root, sizeof want_root, "root:        %s\n", EVAIO_SOURCE_DIR);
    CHECK(strstr(out, want_root) != NULL);
    CHECK(field("files") > 10);
    CHECK(field("directories") > 3);
    return 0;
}
