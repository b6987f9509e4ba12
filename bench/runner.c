/* Runs one measurement in a forked child and returns its outcome.
 *
 * A child per measurement gives every system the same fresh start, a peak
 * RSS of its own (ru_maxrss of the child; it starts from the parent's small
 * resident set, the same for all), and lets libuv read its pool size, which
 * it does once per process.  The child reports through a pipe; a child that
 * fails a check prints why and aborts, and the parent stops there too.  A
 * child that hangs is killed by its alarm. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_all(int fd, const void *p, size_t len)
{
    const char *c = p;
    while (len) {
        ssize_t r = write(fd, c, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("writing to the parent: %s", strerror(errno));
        c += r;
        len -= (size_t)r;
    }
}

static size_t read_all(int fd, void *p, size_t len)
{
    char *c = p;
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, c + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

struct outcome run_in_child(const struct workload *w, const struct entry *e)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        die("pipe2: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        in_child = 1;
        close(p[0]);
        alarm(cfg.child_timeout);
        struct outcome o = measure(w, e);
        write_all(p[1], &o, sizeof o);
        _exit(0);
    }
    close(p[1]);
    struct outcome o;
    size_t got = read_all(p[0], &o, sizeof o);
    close(p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid: %s", strerror(errno));
    const char *sys = sys_get(e->sys)->name;
    if (WIFSIGNALED(status))
        die("%s on %s: the child died of signal %d%s", sys, w->id, WTERMSIG(status),
            WTERMSIG(status) == SIGALRM ? " (timeout: see --child-timeout)" : "");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != sizeof o)
        die("%s on %s: the child failed", sys, w->id);
    return o;
}
