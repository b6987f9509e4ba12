/* A program built against an installed evaio, the way a user would: it
 * includes <evaio.h> only and checks a stat, a failing stat and a nop.
 *
 * usage: consumer PATH    (PATH: an existing file) */
#define _POSIX_C_SOURCE 200809L

#include <evaio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures;

#define EXPECT(cond)                                                      \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "consumer: %d: failed: %s\n", __LINE__, #cond); \
            failures++;                                                   \
        }                                                                 \
    } while (0)

static struct stat want;
static int stat_done, missing_done, nop_done;

static int on_stat(evaio_req *req)
{
    EXPECT(req->type == EVAIO_OP_STAT);
    EXPECT(req->result == 0 && req->errorno == 0);
    const struct stat *st = req->args.stat.buf;
    EXPECT(st->st_ino == want.st_ino && st->st_dev == want.st_dev);
    EXPECT(st->st_size == want.st_size);
    EXPECT(req->data == &stat_done);
    stat_done++;
    return 0;
}

static int on_missing(evaio_req *req)
{
    EXPECT(req->result == -1 && req->errorno == ENOENT);
    missing_done++;
    return 0;
}

static int on_nop(evaio_req *req)
{
    EXPECT(req->type == EVAIO_OP_NOP);
    EXPECT(req->result == 0 && req->errorno == 0);
    nop_done++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer PATH\n");
        return 2;
    }
    if (stat(argv[1], &want) != 0) {
        perror(argv[1]);
        return 2;
    }
    EXPECT(EVAIO_VERSION_MAJOR == 0);
    EXPECT(evaio_op_name(EVAIO_OP_STAT) && !strcmp(evaio_op_name(EVAIO_OP_STAT), "stat"));
    EXPECT(evaio_req_size() == sizeof(evaio_req));

    /* Style 1: library-allocated requests. */
    EXPECT(evaio_stat(argv[1], NULL, EVAIO_PRI_DEFAULT, on_stat, &stat_done) != NULL);
    EXPECT(evaio_stat("/nonexistent/evaio-consumer", NULL, EVAIO_PRI_DEFAULT, on_missing, NULL) != NULL);
    EXPECT(evaio_nop(EVAIO_PRI_MAX, on_nop, NULL) != NULL);

    /* Style 2: a caller-owned request, run twice. */
    evaio_req req;
    struct stat buf;
    evaio_stat_init(&req, argv[1], &buf, on_stat, &stat_done);
    EXPECT(evaio_start(&req) == 0);
    EXPECT(evaio_wait() == 0);
    EXPECT(buf.st_ino == want.st_ino);
    evaio_nop_init(&req, on_nop, NULL);
    EXPECT(evaio_start(&req) == 0);

    EXPECT(evaio_wait() == 0);
    EXPECT(evaio_nreqs() == 0);
    EXPECT(stat_done == 2 && missing_done == 1 && nop_done == 2);
    if (failures)
        return 1;
    printf("consumer: ok\n");
    return 0;
}
