/* The public header compiles on its own as strict C11 (-std=c11 -pedantic
 * -Werror): nothing but evaio.h is included. */
#include <evaio.h>

static int cb(evaio_req *req)
{
    return req->result != 0;
}

int main(void)
{
    evaio_req req;
    evaio_nop_init(&req, cb, NULL);
    evaio_req_set_pri(&req, EVAIO_PRI_MAX);
    if (evaio_req_pri(&req) != EVAIO_PRI_MAX || req.type != EVAIO_OP_NOP)
        return 1;
    if (evaio_req_size() != sizeof(evaio_req))
        return 1;
    const char *name = evaio_op_name(EVAIO_OP_NOP);
    if (!name || name[0] != 'n')
        return 1;
    evaio_ctx *ctx = evaio_ctx_new();
    if (!ctx)
        return 1;
    struct stat st;
    evaio_req *r = evaio_ctx_stat(ctx, ".", &st, EVAIO_PRI_DEFAULT, cb, NULL);
    if (!r || evaio_ctx_wait(ctx) != 0 || evaio_ctx_free(ctx) != 0)
        return 1;
    int version = EVAIO_VERSION_MAJOR * 10000 + EVAIO_VERSION_MINOR * 100 + EVAIO_VERSION_PATCH;
    return version < 0;
}
