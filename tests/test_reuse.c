/* Caller-owned requests: reusable after their callback (re-initialised or
 * not), restartable from inside their own callback, refused with EBUSY while
 * in flight without being disturbed, and library-supplied output storage is
 * supplied afresh on each start. */
#include "check.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

static evaio_ctx *ctx;

/* A path in the test's temporary directory. */
static const char *tmp_file(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", check_tmpdir(), name);
    CHECK(n > 0 && (size_t)n < size);
    return buf;
}

/* ---- reuse after the callback -------------------------------------------- */

static int count;
static int count_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    count++;
    return 0;
}

static int64_t add_fn(evaio_req *req)
{
    return 1000 + (int64_t)(intptr_t)req->data;
}

static int64_t last_result;
static int result_cb(evaio_req *req)
{
    last_result = req->result;
    count++;
    return 0;
}

static void test_reuse_after_callback(void)
{
    evaio_req r;
    count = 0;
    for (int i = 0; i < 500; i++) {
        evaio_nop_init(&r, count_cb, NULL);
        evaio_req_set_pri(&r, i % 9 - 4);
        CHECK_EQ(evaio_ctx_start(ctx, &r), 0);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        CHECK_EQ(count, i + 1);
    }
    /* Restarting without re-initialising reruns the same operation. */
    for (int i = 0; i < 500; i++) {
        CHECK_EQ(evaio_ctx_start(ctx, &r), 0);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        CHECK_EQ(count, 500 + i + 1);
    }
    /* One struct, different operations in turn. */
    count = 0;
    for (int i = 0; i < 200; i++) {
        if (i % 2) {
            evaio_custom_init(&r, add_fn, result_cb, (void *)(intptr_t)i);
            CHECK_EQ(evaio_ctx_start(ctx, &r), 0);
            CHECK_EQ(evaio_ctx_wait(ctx), 0);
            CHECK_EQ(last_result, 1000 + i);
        } else {
            evaio_busy_init(&r, 0.0, result_cb, NULL);
            CHECK_EQ(evaio_ctx_start(ctx, &r), 0);
            CHECK_EQ(evaio_ctx_wait(ctx), 0);
            CHECK_EQ(last_result, 0);
        }
        CHECK_EQ(r.errorno, 0);
        CHECK_EQ(count, i + 1);
    }
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
}

/* ---- restart from inside the callback: read a file chunk by chunk ------- */

enum { FILE_SIZE = 10007, CHUNK = 1024 };

struct reader {
    int fd;
    int64_t offset;
    unsigned char got[FILE_SIZE + CHUNK];
    unsigned char chunk[CHUNK];
    int callbacks;
    int eof;
    int reinit; /* restart by re-initialising, or by editing the arguments */
};

static int chunk_cb(evaio_req *req)
{
    struct reader *rd = req->data;
    rd->callbacks++;
    CHECK(req->result >= 0);
    CHECK(req->result <= CHUNK);
    if (req->result == 0) {
        rd->eof = 1;
        return 0;
    }
    CHECK(rd->offset + req->result <= FILE_SIZE);
    memcpy(rd->got + rd->offset, req->args.read.buf, (size_t)req->result);
    rd->offset += req->result;
    if (rd->reinit) {
        evaio_read_init(req, rd->fd, rd->offset, CHUNK, rd->chunk, chunk_cb, rd);
        evaio_req_set_pri(req, rd->callbacks % 9 - 4);
    } else {
        req->args.read.offset = rd->offset;
    }
    int r = evaio_ctx_start(ctx, req);
    CHECK_EQ(r, 0);
    return 0;
}

/* Same, with a NULL buffer: the library allocates one per run and frees it
 * after the callback, so a restart without re-init must get a fresh one. */
static int auto_chunk_cb(evaio_req *req)
{
    struct reader *rd = req->data;
    rd->callbacks++;
    CHECK(req->result >= 0);
    if (req->result == 0) {
        rd->eof = 1;
        return 0;
    }
    CHECK(req->args.read.buf != NULL);
    CHECK(rd->offset + req->result <= FILE_SIZE);
    memcpy(rd->got + rd->offset, req->args.read.buf, (size_t)req->result);
    rd->offset += req->result;
    req->args.read.offset = rd->offset;
    CHECK_EQ(evaio_ctx_start(ctx, req), 0);
    return 0;
}

static void test_restart_in_callback(void)
{
    static char path_buf[8192];
    const char *path = tmp_file(path_buf, sizeof path_buf, "chunks");
    unsigned char content[FILE_SIZE];
    for (int i = 0; i < FILE_SIZE; i++)
        content[i] = (unsigned char)(i * 131 + (i >> 8));
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, content, FILE_SIZE), FILE_SIZE);

    static struct reader rd;
    for (int mode = 0; mode < 3; mode++) {
        memset(&rd, 0, sizeof rd);
        rd.fd = fd;
        rd.reinit = mode == 0;
        evaio_req r;
        if (mode < 2)
            evaio_read_init(&r, fd, 0, CHUNK, rd.chunk, chunk_cb, &rd);
        else
            evaio_read_init(&r, fd, 0, CHUNK, NULL, auto_chunk_cb, &rd);
        CHECK_EQ(evaio_ctx_start(ctx, &r), 0);
        /* wait covers the requests started by the callbacks. */
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        CHECK(rd.eof);
        CHECK_EQ(rd.offset, FILE_SIZE);
        CHECK_EQ(rd.callbacks, FILE_SIZE / CHUNK + 2); /* full chunks, the tail, EOF */
        CHECK(memcmp(rd.got, content, FILE_SIZE) == 0);
        CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    }
    close(fd);
}

/* ---- starting a request that is in flight ------------------------------- */

static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_started, gate_open;

static int64_t gate_fn(evaio_req *req)
{
    pthread_mutex_lock(&gate_mutex);
    gate_started++;
    pthread_cond_broadcast(&gate_cond);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_mutex);
    pthread_mutex_unlock(&gate_mutex);
    return 7 + (int64_t)(intptr_t)req->data;
}

static int in_flight_calls[3];
static int in_flight_cb(evaio_req *req)
{
    int i = (int)(intptr_t)req->data;
    CHECK(i >= 0 && i < 3);
    CHECK_EQ(req->result, 7 + i);
    CHECK_EQ(req->errorno, 0);
    CHECK_EQ(req->type, EVAIO_OP_CUSTOM);
    in_flight_calls[i]++;
    return 0;
}

static void expect_busy(evaio_req *r)
{
    errno = 0;
    CHECK_EQ(evaio_ctx_start(ctx, r), -1);
    CHECK_EQ(errno, EBUSY);
    errno = 0;
    CHECK_EQ(evaio_start(r), -1); /* on another context, too */
    CHECK_EQ(errno, EBUSY);
}

static void test_start_in_flight(void)
{
    /* A context of its own with one worker from the start, so `queued` is
     * certain to wait behind `running`. */
    evaio_ctx *main_ctx = ctx;
    ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);
    evaio_req running, queued, done;
    evaio_custom_init(&running, gate_fn, in_flight_cb, (void *)(intptr_t)0);
    evaio_custom_init(&queued, gate_fn, in_flight_cb, (void *)(intptr_t)1);
    evaio_custom_init(&done, gate_fn, in_flight_cb, (void *)(intptr_t)2);
    evaio_req_set_pri(&queued, 3);

    CHECK_EQ(evaio_ctx_start(ctx, &running), 0);
    pthread_mutex_lock(&gate_mutex);
    while (gate_started < 1)
        pthread_cond_wait(&gate_cond, &gate_mutex);
    pthread_mutex_unlock(&gate_mutex);
    CHECK_EQ(evaio_ctx_start(ctx, &queued), 0);
    CHECK_EQ(evaio_ctx_nready(ctx), 1);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 2);

    expect_busy(&running); /* executing */
    expect_busy(&queued);  /* queued */
    CHECK_EQ(evaio_ctx_nready(ctx), 1);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 2);
    CHECK_EQ(evaio_req_pri(&queued), 3);
    CHECK_EQ(evaio_nreqs(), 0); /* nothing leaked onto the default context */

    pthread_mutex_lock(&gate_mutex);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_mutex);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 2);
    expect_busy(&running); /* result waiting */
    expect_busy(&queued);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 2);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(in_flight_calls[0], 1);
    CHECK_EQ(in_flight_calls[1], 1);

    /* After the callback it starts again, and once only. */
    CHECK_EQ(evaio_ctx_start(ctx, &done), 0);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 1);
    expect_busy(&done);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(in_flight_calls[2], 1);
    CHECK_EQ(evaio_ctx_start(ctx, &running), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(in_flight_calls[0], 2);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    ctx = main_ctx;
}

/* ---- library-supplied stat storage, restarted without re-init ----------- */

static off_t want_size;
static int stat_calls;
static struct stat *seen_bufs[4];
static int stat_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    CHECK_EQ(req->errorno, 0);
    CHECK(req->args.stat.buf != NULL);
    CHECK_EQ(req->args.stat.buf->st_size, want_size);
    CHECK(S_ISREG(req->args.stat.buf->st_mode));
    seen_bufs[stat_calls % 4] = req->args.stat.buf;
    stat_calls++;
    return 0;
}

static void test_stat_auto_buffer(void)
{
    static char path_buf[8192];
    const char *path = tmp_file(path_buf, sizeof path_buf, "grows");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);

    evaio_req r;
    evaio_stat_init(&r, path, NULL, stat_cb, NULL);
    stat_calls = 0;
    for (int i = 0; i < 100; i++) {
        CHECK_EQ(ftruncate(fd, (off_t)i * 37), 0);
        want_size = (off_t)i * 37;
        /* No re-init: the buffer of the last run was freed after its
         * callback; the library must supply a new one, not write there. */
        CHECK_EQ(evaio_ctx_start(ctx, &r), 0);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        CHECK_EQ(stat_calls, i + 1);
    }

    /* Re-initialised with the caller's own buffer: the result lands there. */
    struct stat mine;
    memset(&mine, 0, sizeof mine);
    CHECK_EQ(ftruncate(fd, 4242), 0);
    want_size = 4242;
    evaio_stat_init(&r, path, &mine, stat_cb, NULL);
    CHECK_EQ(evaio_ctx_start(ctx, &r), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK(seen_bufs[(stat_calls - 1) % 4] == &mine);
    CHECK_EQ(mine.st_size, 4242);
    CHECK(r.args.stat.buf == &mine);
    /* ... and stays there on a restart without re-init. */
    CHECK_EQ(ftruncate(fd, 99), 0);
    want_size = 99;
    CHECK_EQ(evaio_ctx_start(ctx, &r), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(mine.st_size, 99);
    CHECK(r.args.stat.buf == &mine);

    /* Back to library storage. */
    evaio_stat_init(&r, path, NULL, stat_cb, NULL);
    for (int i = 0; i < 10; i++) {
        CHECK_EQ(evaio_ctx_start(ctx, &r), 0);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        CHECK(seen_bufs[(stat_calls - 1) % 4] != &mine);
    }
    CHECK_EQ(mine.st_size, 99);
    close(fd);
}

/* ---- a wrapper's request is the library's: no restart ----------------- */

static int wrapper_calls, wrapper_restart_errno;
static int wrapper_restart_cb(evaio_req *req)
{
    wrapper_calls++;
    errno = 0;
    CHECK_EQ(evaio_ctx_start(ctx, req), -1); /* it is freed after this callback */
    wrapper_restart_errno = errno;
    evaio_req_set_pri(req, 4);
    return 0;
}

static void test_wrapper_not_restartable(void)
{
    wrapper_calls = 0;
    CHECK(evaio_ctx_nop(ctx, 0, wrapper_restart_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(wrapper_calls, 1);
    CHECK_EQ(wrapper_restart_errno, EINVAL);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
}

/* ---- the priority of a request in flight cannot change ------------------ */

static void test_set_pri_in_flight(void)
{
    evaio_ctx *main_ctx = ctx;
    ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);
    gate_started = gate_open = 0;
    evaio_req running, queued;
    evaio_custom_init(&running, gate_fn, in_flight_cb, (void *)(intptr_t)0);
    evaio_custom_init(&queued, gate_fn, in_flight_cb, (void *)(intptr_t)1);
    evaio_req_set_pri(&queued, -2);
    CHECK_EQ(evaio_ctx_start(ctx, &running), 0);
    pthread_mutex_lock(&gate_mutex);
    while (gate_started < 1)
        pthread_cond_wait(&gate_cond, &gate_mutex);
    pthread_mutex_unlock(&gate_mutex);
    CHECK_EQ(evaio_ctx_start(ctx, &queued), 0);
    /* The queue holds it at -2; changing that now is ignored. */
    evaio_req_set_pri(&queued, 4);
    CHECK_EQ(evaio_req_pri(&queued), -2);
    pthread_mutex_lock(&gate_mutex);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_mutex);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    /* Once its callback has run it is the caller's again. */
    evaio_req_set_pri(&queued, 4);
    CHECK_EQ(evaio_req_pri(&queued), 4);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    ctx = main_ctx;
}

int main(void)
{
    ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 4);
    test_reuse_after_callback();
    test_restart_in_callback();
    test_start_in_flight();
    test_stat_auto_buffer();
    test_wrapper_not_restartable();
    memset(in_flight_calls, 0, sizeof in_flight_calls);
    test_set_pri_in_flight();
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    return 0;
}
