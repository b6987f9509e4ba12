/* Unloading: dlclose of libevaio after use stops its worker threads and
 * frees the idle default context (its poll fd too), so nothing of the
 * library runs or stays open afterwards; loading it again works.  A user
 * context left alive at unload has its threads stopped (checked in a child,
 * which leaves with _exit: that context's memory is knowingly abandoned).
 *   test_unload PATH_TO_LIBEVAIO_SO */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

typedef struct evaio_req evaio_req;
typedef int (*cb_fn)(evaio_req *);

static int count(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int calls;
static int cb(evaio_req *req)
{
    (void)req;
    calls++;
    return 0;
}

/* Loads the library, runs requests on the default context (and, if asked,
 * leaves a context of its own alive), unloads it. */
static void use_and_unload(const char *lib, int leave_ctx)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    CHECK(h != NULL);
    evaio_req *(*stat_fn)(const char *, struct stat *, int, cb_fn, void *) = (evaio_req * (*)(const char *, struct stat *, int, cb_fn, void *)) dlsym(h, "evaio_stat");
    evaio_req *(*busy_fn)(double, int, cb_fn, void *) = (evaio_req * (*)(double, int, cb_fn, void *)) dlsym(h, "evaio_busy");
    int (*wait_fn)(void) = (int (*)(void))dlsym(h, "evaio_wait");
    void *(*ctx_new)(void) = (void *(*)(void))dlsym(h, "evaio_ctx_new");
    void (*set_min)(void *, unsigned) = (void (*)(void *, unsigned))dlsym(h, "evaio_ctx_set_min_parallel");
    CHECK(stat_fn && busy_fn && wait_fn && ctx_new && set_min);
    calls = 0;
    for (int i = 0; i < 8; i++)
        CHECK(busy_fn(0.01, 0, cb, NULL) != NULL);
    CHECK(stat_fn("/", NULL, 0, cb, NULL) != NULL);
    CHECK(wait_fn() == 0);
    CHECK(calls == 9);
    if (leave_ctx) {
        void *ctx = ctx_new();
        CHECK(ctx != NULL);
        set_min(ctx, 2);
    }
    CHECK(dlclose(h) == 0);
}

static void *nothing(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    const char *lib = argv[1];
    /* A first thread, so a sanitizer's helper thread exists before the
     * baseline is taken. */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, nothing, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    int tasks = count("/proc/self/task"), fds = count("/proc/self/fd");
    for (int round = 0; round < 3; round++) {
        use_and_unload(lib, 0);
        CHECK(count("/proc/self/task") == tasks); /* its threads are gone */
        CHECK(count("/proc/self/fd") == fds);     /* and its poll fd */
    }
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int before = count("/proc/self/task");
        use_and_unload(lib, 1);
        _exit(count("/proc/self/task") == before ? 0 : 3);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Unloading with requests queued behind a busy worker waits for the
     * one executing, not for the queue (10 s of it here). */
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        CHECK(h != NULL);
        evaio_req *(*busy_fn)(double, int, cb_fn, void *) = (evaio_req * (*)(double, int, cb_fn, void *)) dlsym(h, "evaio_busy");
        void (*set_max)(void *, unsigned) = (void (*)(void *, unsigned))dlsym(h, "evaio_ctx_set_max_parallel");
        unsigned (*nready)(void *) = (unsigned (*)(void *))dlsym(h, "evaio_ctx_nready");
        CHECK(busy_fn && set_max && nready);
        set_max(NULL, 1);
        for (int i = 0; i < 10; i++)
            CHECK(busy_fn(1.0, 0, cb, NULL) != NULL);
        while (nready(NULL) == 10)
            usleep(1000); /* the first one is executing */
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        CHECK(dlclose(h) == 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
        _exit(secs < 5.0 ? 0 : 4);
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fprintf(stderr, "ok\n");
    return 0;
}
