/* Groups: a group's callback runs once, after every member's callback;
 * members of both API styles, added at any time before it completes
 * (including from member callbacks and feeders); an empty group completes
 * when poll reaches it; its result/errorno are the user's; groups nest;
 * nreqs counts a group until its callback; the errors of evaio_grp_add.
 * Feeders: called at once up to the limit, again as members finish, never
 * above the limit; a call adding nothing ends feeding; limit 0 pauses (and
 * holds the group open), a limit resumes, NULL removes the feeder; 100,000
 * items with limit 8 in bounded memory.  Cancelling a group: members not
 * started never run (ECANCELED), running ones are marked, the feeder stops,
 * the group reports -1/ECANCELED; late members are cancelled at once;
 * grandchildren are cancelled; a paused group completes.
 *
 * Nothing depends on timing: a member is held "not started" behind a
 * context whose single worker is blocked in a custom op on a gate, or held
 * "executing" in such an op. */
#include "check.h"

#include <pthread.h>

/* ---- gates: hold a worker inside a custom op until the test opens them -- */

struct gate {
    pthread_mutex_t m;
    pthread_cond_t c;
    int started;
    int open;
};

static void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->m, NULL);
    pthread_cond_init(&g->c, NULL);
    g->started = g->open = 0;
}

static void gate_destroy(struct gate *g)
{
    pthread_mutex_destroy(&g->m);
    pthread_cond_destroy(&g->c);
}

static void gate_pass(struct gate *g)
{
    pthread_mutex_lock(&g->m);
    g->started = 1;
    pthread_cond_broadcast(&g->c);
    while (!g->open)
        pthread_cond_wait(&g->c, &g->m);
    pthread_mutex_unlock(&g->m);
}

static void gate_wait_started(struct gate *g)
{
    pthread_mutex_lock(&g->m);
    while (!g->started)
        pthread_cond_wait(&g->c, &g->m);
    pthread_mutex_unlock(&g->m);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->m);
    g->open = 1;
    pthread_cond_broadcast(&g->c);
    pthread_mutex_unlock(&g->m);
}

/* ---- a log of callbacks, in the order they ran ----------------------------- */

enum { LOGMAX = 256 };
static int cblog[LOGMAX], ncblog;

static void log_cb(int id)
{
    CHECK(ncblog < LOGMAX);
    cblog[ncblog++] = id;
}

static int log_pos(int id) /* the position of id's only entry */
{
    int pos = -1;
    for (int i = 0; i < ncblog; i++) {
        if (cblog[i] == id) {
            CHECK_EQ(pos, -1); /* exactly once */
            pos = i;
        }
    }
    CHECK(pos >= 0);
    return pos;
}

/* ---- recorded requests ----------------------------------------------------- */

struct rec {
    int id;
    int64_t value;
    struct gate *gate;
    int ran;           /* atomic */
    int ncb;
    int64_t result;
    int errorno;
    int cancelled;
    unsigned grp_outstanding; /* evaio_grp_outstanding(grp) in the callback */
    evaio_req *grp;    /* the group it was added to, if any */
    evaio_req *req;
    evaio_req own;
    int (*then)(evaio_req *req); /* more to do in the callback */
};

static int64_t rec_fn(evaio_req *req)
{
    struct rec *r = req->data;
    __atomic_store_n(&r->ran, 1, __ATOMIC_SEQ_CST);
    if (r->gate)
        gate_pass(r->gate);
    return r->value;
}

static int rec_cb(evaio_req *req)
{
    struct rec *r = req->data;
    CHECK(req == r->req);
    r->ncb++;
    r->result = req->result;
    r->errorno = req->errorno;
    r->cancelled = evaio_req_cancelled(req);
    if (r->grp)
        r->grp_outstanding = evaio_grp_outstanding(r->grp);
    log_cb(r->id);
    return r->then ? r->then(req) : 0;
}

/* A custom request: a wrapper's (wrapper) or a caller-owned one. */
static evaio_req *rec_start(evaio_ctx *ctx, struct rec *r, int id, struct gate *gate, int wrapper)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->value = id * 10;
    r->gate = gate;
    if (wrapper) {
        r->req = evaio_ctx_custom(ctx, rec_fn, 0, rec_cb, r);
        CHECK(r->req != NULL);
    } else {
        evaio_custom_init(&r->own, rec_fn, rec_cb, r);
        r->req = &r->own;
        CHECK_EQ(evaio_ctx_start(ctx, r->req), 0);
    }
    return r->req;
}

static void rec_add(evaio_req *grp, struct rec *r)
{
    CHECK_EQ(evaio_grp_add(grp, r->req), 0);
    r->grp = grp;
}

static int rec_ran(struct rec *r)
{
    return __atomic_load_n(&r->ran, __ATOMIC_SEQ_CST);
}

static void check_ran(struct rec *r, int marked)
{
    CHECK_EQ(r->ncb, 1);
    CHECK_EQ(rec_ran(r), 1);
    CHECK_EQ(r->result, r->value);
    CHECK_EQ(r->errorno, 0);
    CHECK_EQ(r->cancelled, marked);
}

static void check_cancelled_unstarted(struct rec *r)
{
    CHECK_EQ(r->ncb, 1);
    CHECK_EQ(rec_ran(r), 0);
    CHECK_EQ(r->result, -1);
    CHECK_EQ(r->errorno, ECANCELED);
    CHECK_EQ(r->cancelled, 1);
}

/* A group's story. */
struct grec {
    int id;
    int ncb;
    int64_t result;
    int errorno;
    int cancelled;
    unsigned nreqs_in_cb; /* evaio_ctx_nreqs in its callback */
    evaio_ctx *ctx;
    evaio_req *req;
    evaio_req own;
    evaio_req *try_add;   /* in flight: its callback tries evaio_grp_add(itself, try_add) */
    int add_in_cb, add_in_cb_errno;
    int cancel_in_cb, cancel_in_cb_errno; /* evaio_cancel(itself) from its callback */
};

static int grp_cb(evaio_req *req)
{
    struct grec *g = req->data;
    CHECK(req == g->req);
    CHECK_EQ(req->type, EVAIO_OP_GROUP);
    g->ncb++;
    g->result = req->result;
    g->errorno = req->errorno;
    g->cancelled = evaio_req_cancelled(req);
    g->nreqs_in_cb = evaio_ctx_nreqs(g->ctx);
    log_cb(g->id);
    /* Its callback has begun: it is complete, nothing can join it. */
    if (g->try_add) {
        errno = 0;
        g->add_in_cb = evaio_grp_add(req, g->try_add);
        g->add_in_cb_errno = errno;
    }
    errno = 0;
    g->cancel_in_cb = evaio_cancel(req);
    g->cancel_in_cb_errno = errno;
    CHECK_EQ(evaio_grp_outstanding(req), 0);
    return 0;
}

static evaio_req *grp_start(evaio_ctx *ctx, struct grec *g, int id, int wrapper)
{
    memset(g, 0, sizeof *g);
    g->id = id;
    g->ctx = ctx;
    if (wrapper) {
        g->req = evaio_ctx_grp(ctx, grp_cb, g);
        CHECK(g->req != NULL);
    } else {
        evaio_grp_init(&g->own, grp_cb, g);
        g->req = &g->own;
        CHECK_EQ(evaio_ctx_start(ctx, g->req), 0);
    }
    CHECK_EQ(g->req->type, EVAIO_OP_GROUP);
    return g->req;
}

static void check_grp_done(struct grec *g, int64_t result, int errorno, int cancelled)
{
    CHECK_EQ(g->ncb, 1);
    CHECK_EQ(g->result, result);
    CHECK_EQ(g->errorno, errorno);
    CHECK_EQ(g->cancelled, cancelled);
    if (g->try_add) {
        CHECK_EQ(g->add_in_cb, -1);
        CHECK_EQ(g->add_in_cb_errno, EINVAL);
    }
    CHECK_EQ(g->cancel_in_cb, -1);
    CHECK_EQ(g->cancel_in_cb_errno, EINVAL);
}

static evaio_ctx *new_ctx(unsigned max_parallel)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, max_parallel);
    return ctx;
}

static void free_ctx(evaio_ctx *ctx)
{
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_nready(ctx), 0);
    CHECK_EQ(evaio_ctx_npending(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* ---- the group callback comes last ---------------------------------------- */

static void test_after_members(void)
{
    for (int gwrapper = 0; gwrapper < 2; gwrapper++) {
        evaio_ctx *ctx = new_ctx(1);
        struct gate gate;
        gate_init(&gate);
        static struct grec g;
        static struct rec m[6];
        ncblog = 0;
        evaio_req *grp = grp_start(ctx, &g, 100, gwrapper);
        CHECK_EQ(evaio_grp_outstanding(grp), 0);
        /* Member 0 holds the worker: every other member waits for it. */
        rec_start(ctx, &m[0], 0, &gate, 1);
        rec_add(grp, &m[0]);
        for (int i = 1; i < 6; i++) {
            rec_start(ctx, &m[i], i, NULL, i % 2);
            rec_add(grp, &m[i]);
            CHECK_EQ(evaio_grp_outstanding(grp), (unsigned)i + 1);
        }
        CHECK_EQ(evaio_ctx_nreqs(ctx), 7); /* the group counts */
        gate_wait_started(&gate);
        /* Poll reaches the group: members outstanding, it waits. */
        CHECK_EQ(evaio_ctx_poll(ctx), 0);
        CHECK_EQ(g.ncb, 0);
        CHECK_EQ(evaio_ctx_nreqs(ctx), 7);
        CHECK_EQ(evaio_grp_outstanding(grp), 6);
        gate_open(&gate);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        CHECK_EQ(ncblog, 7);
        CHECK_EQ(cblog[6], 100); /* the group last */
        for (int i = 0; i < 6; i++) {
            check_ran(&m[i], 0);
            CHECK(m[i].grp_outstanding >= 1 && m[i].grp_outstanding <= 6); /* itself counts */
        }
        check_grp_done(&g, 0, 0, 0);
        CHECK_EQ(g.nreqs_in_cb, 1); /* only the group itself was outstanding */
        CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
        /* A completed caller-owned group: nothing joins it. */
        if (!gwrapper) {
            struct rec x;
            rec_start(ctx, &x, 7, NULL, 0);
            errno = 0;
            CHECK_EQ(evaio_grp_add(grp, x.req), -1);
            CHECK_EQ(errno, EINVAL);
            CHECK_EQ(evaio_grp_outstanding(grp), 0);
            CHECK_EQ(evaio_ctx_wait(ctx), 0);
            CHECK_EQ(x.ncb, 1);
            CHECK_EQ(g.ncb, 1);
        }
        free_ctx(ctx);
        gate_destroy(&gate);
    }
}

/* Members that finished before poll first reached the group. */
static void test_members_done_first(void)
{
    evaio_ctx *ctx = new_ctx(4);
    static struct grec g;
    static struct rec m[4];
    ncblog = 0;
    evaio_req *grp = grp_start(ctx, &g, 100, 1);
    for (int i = 0; i < 4; i++) {
        rec_start(ctx, &m[i], i, NULL, i % 2);
        rec_add(grp, &m[i]);
    }
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 5);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncblog, 5);
    CHECK_EQ(cblog[4], 100);
    check_grp_done(&g, 0, 0, 0);
    free_ctx(ctx);
}

/* ---- an empty group -------------------------------------------------------- */

static void test_empty(void)
{
    for (int gwrapper = 0; gwrapper < 2; gwrapper++) {
        evaio_ctx *ctx = new_ctx(1);
        static struct grec g;
        ncblog = 0;
        grp_start(ctx, &g, 100, gwrapper);
        CHECK_EQ(evaio_ctx_nreqs(ctx), 1);
        CHECK_EQ(evaio_ctx_npending(ctx), 1);
        CHECK_EQ(g.ncb, 0); /* not before poll */
        CHECK_EQ(evaio_ctx_poll(ctx), 0);
        check_grp_done(&g, 0, 0, 0);
        CHECK_EQ(g.nreqs_in_cb, 1);
        CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
        free_ctx(ctx);
    }
    /* Empty groups nested: inner first. */
    evaio_ctx *ctx = new_ctx(1);
    static struct grec a, b;
    ncblog = 0;
    evaio_req *ga = grp_start(ctx, &a, 1, 1);
    evaio_req *gb = grp_start(ctx, &b, 2, 0);
    CHECK_EQ(evaio_grp_add(ga, gb), 0);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncblog, 2);
    CHECK_EQ(cblog[0], 2);
    CHECK_EQ(cblog[1], 1);
    free_ctx(ctx);
}

/* ---- members added from member callbacks ------------------------------------ */

static evaio_ctx *chain_ctx;
static struct rec chain[6];
static int chain_add_next(evaio_req *req)
{
    struct rec *r = req->data;
    int next = r->id + 1;
    if (next < 6) {
        /* The group still counts this member: it cannot complete yet. */
        CHECK_EQ(evaio_grp_outstanding(r->grp), 1);
        rec_start(chain_ctx, &chain[next], next, NULL, next % 2);
        rec_add(r->grp, &chain[next]);
        chain[next].then = chain_add_next;
        CHECK_EQ(evaio_grp_outstanding(r->grp), 2);
    }
    return 0;
}

static void test_add_from_member_callback(void)
{
    evaio_ctx *ctx = chain_ctx = new_ctx(2);
    static struct grec g;
    ncblog = 0;
    evaio_req *grp = grp_start(ctx, &g, 100, 0);
    rec_start(ctx, &chain[0], 0, NULL, 1);
    rec_add(grp, &chain[0]);
    chain[0].then = chain_add_next;
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(ncblog, 7);
    for (int i = 0; i < 6; i++) {
        CHECK_EQ(cblog[i], i);
        check_ran(&chain[i], 0);
    }
    CHECK_EQ(cblog[6], 100);
    check_grp_done(&g, 0, 0, 0);
    free_ctx(ctx);
}

/* ---- the group's result, set by the user ------------------------------------ */

static int sum_into_group(evaio_req *req)
{
    struct rec *r = req->data;
    r->grp->result += req->result;
    if (r->id == 3)
        r->grp->errorno = EIO;
    return 0;
}

static void test_group_result(void)
{
    evaio_ctx *ctx = new_ctx(3);
    static struct grec g;
    static struct rec m[5];
    ncblog = 0;
    evaio_req *grp = grp_start(ctx, &g, 100, 1);
    CHECK_EQ(grp->result, 0);
    CHECK_EQ(grp->errorno, 0);
    for (int i = 0; i < 5; i++) {
        rec_start(ctx, &m[i], i + 1, NULL, i % 2);
        rec_add(grp, &m[i]);
        m[i].then = sum_into_group;
    }
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    check_grp_done(&g, 10 + 20 + 30 + 40 + 50, EIO, 0);
    free_ctx(ctx);
}

/* ---- nesting: three levels --------------------------------------------------- */

static void test_nesting(void)
{
    evaio_ctx *ctx = new_ctx(1);
    struct gate gate;
    gate_init(&gate);
    static struct grec g1, g2, g3;
    static struct rec a1, a2, a3, a4;
    ncblog = 0;
    evaio_req *G1 = grp_start(ctx, &g1, 101, 1);
    evaio_req *G2 = grp_start(ctx, &g2, 102, 0);
    evaio_req *G3 = grp_start(ctx, &g3, 103, 1);
    CHECK_EQ(evaio_grp_add(G1, G2), 0);
    CHECK_EQ(evaio_grp_add(G2, G3), 0);
    rec_start(ctx, &a3, 3, &gate, 0); /* holds the worker: the deepest finishes last */
    rec_add(G3, &a3);
    rec_start(ctx, &a1, 1, NULL, 1);
    rec_add(G1, &a1);
    rec_start(ctx, &a2, 2, NULL, 0);
    rec_add(G2, &a2);
    rec_start(ctx, &a4, 4, NULL, 1);
    rec_add(G3, &a4);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 7);
    CHECK_EQ(evaio_grp_outstanding(G1), 2);
    CHECK_EQ(evaio_grp_outstanding(G2), 2);
    CHECK_EQ(evaio_grp_outstanding(G3), 2);
    gate_wait_started(&gate);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncblog, 0); /* the groups waited, the members are behind a3 */
    gate_open(&gate);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(ncblog, 7);
    /* Each group after all of its members, the innermost first. */
    CHECK(log_pos(103) > log_pos(3));
    CHECK(log_pos(103) > log_pos(4));
    CHECK(log_pos(102) > log_pos(103));
    CHECK(log_pos(102) > log_pos(2));
    CHECK(log_pos(101) > log_pos(102));
    CHECK(log_pos(101) > log_pos(1));
    CHECK_EQ(cblog[6], 101);
    check_grp_done(&g1, 0, 0, 0);
    check_grp_done(&g2, 0, 0, 0);
    check_grp_done(&g3, 0, 0, 0);
    CHECK_EQ(g1.nreqs_in_cb, 1);
    CHECK_EQ(g2.nreqs_in_cb, 2); /* g1 still outstanding */
    CHECK_EQ(g3.nreqs_in_cb, 3); /* the members all done (FIFO), g2 and g1 waiting */
    free_ctx(ctx);
    gate_destroy(&gate);
}

/* ---- evaio_grp_add errors ----------------------------------------------------- */

static void test_add_errors(void)
{
    evaio_ctx *ctx = new_ctx(1), *other = new_ctx(1);
    struct gate gate;
    gate_init(&gate);
    static struct grec g1, g2, g3, g4;
    static struct rec blocker, q, q2, foreign;
    ncblog = 0;
    rec_start(ctx, &blocker, 1, &gate, 1);
    gate_wait_started(&gate);
    evaio_req *G1 = grp_start(ctx, &g1, 101, 1);
    evaio_req *G2 = grp_start(ctx, &g2, 102, 0);
    evaio_req *G3 = grp_start(ctx, &g3, 103, 1);
    evaio_req *G4 = grp_start(ctx, &g4, 104, 0);
    rec_start(ctx, &q, 2, NULL, 1);   /* queued behind the blocker */
    rec_start(ctx, &q2, 3, NULL, 0);
    rec_start(other, &foreign, 4, NULL, 1);

#define ADD_FAILS(grp, req, err)                                                        \
    do {                                                                                \
        errno = 0;                                                                      \
        CHECK_EQ(evaio_grp_add((grp), (req)), -1);                                      \
        CHECK_EQ(errno, (err));                                                         \
    } while (0)

    ADD_FAILS(NULL, q.req, EFAULT);
    ADD_FAILS(G1, NULL, EFAULT);
    ADD_FAILS(NULL, NULL, EFAULT);
    /* To something that is not a group. */
    ADD_FAILS(q.req, q2.req, EINVAL);
    ADD_FAILS(blocker.req, q2.req, EINVAL);
    /* A group to itself. */
    ADD_FAILS(G1, G1, EINVAL);
    ADD_FAILS(G2, G2, EINVAL);
    /* A request not started. */
    evaio_req idle;
    evaio_nop_init(&idle, NULL, NULL);
    ADD_FAILS(G1, &idle, EINVAL);
    evaio_req idle_grp;
    evaio_grp_init(&idle_grp, NULL, NULL);
    ADD_FAILS(&idle_grp, q.req, EINVAL); /* a group not started */
    ADD_FAILS(G1, &idle_grp, EINVAL);
    /* Of another context. */
    ADD_FAILS(G1, foreign.req, EINVAL);

    /* Cycles: G1 > G2 > G3. */
    CHECK_EQ(evaio_grp_add(G1, G2), 0);
    CHECK_EQ(evaio_grp_add(G2, G3), 0);
    ADD_FAILS(G2, G1, EINVAL);
    ADD_FAILS(G3, G1, EINVAL);
    /* Already in a group: the same one or another. */
    rec_add(G3, &q);
    ADD_FAILS(G3, q.req, EBUSY);
    ADD_FAILS(G1, q.req, EBUSY);
    ADD_FAILS(G4, q.req, EBUSY);
    ADD_FAILS(G4, G2, EBUSY);
    ADD_FAILS(G4, G3, EBUSY);
    CHECK_EQ(evaio_grp_outstanding(G1), 1);
    CHECK_EQ(evaio_grp_outstanding(G2), 1);
    CHECK_EQ(evaio_grp_outstanding(G3), 1);
    CHECK_EQ(evaio_grp_outstanding(G4), 0);
    /* Not in flight: outstanding is 0 for a non-group or an idle group. */
    CHECK_EQ(evaio_grp_outstanding(&idle_grp), 0);
    CHECK_EQ(evaio_grp_outstanding(q2.req), 0);
    rec_add(G4, &q2);
    CHECK_EQ(evaio_grp_outstanding(G4), 1);

    /* Refused adds changed nothing: everything completes as set up. */
    gate_open(&gate);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(evaio_ctx_wait(other), 0);
    check_ran(&blocker, 0);
    check_ran(&q, 0);
    check_ran(&q2, 0);
    check_ran(&foreign, 0);
    check_grp_done(&g1, 0, 0, 0);
    check_grp_done(&g2, 0, 0, 0);
    check_grp_done(&g3, 0, 0, 0);
    check_grp_done(&g4, 0, 0, 0);
    CHECK(log_pos(103) > log_pos(2));
    CHECK(log_pos(102) > log_pos(103));
    CHECK(log_pos(101) > log_pos(102));
    CHECK(log_pos(104) > log_pos(3));
    free_ctx(ctx);
    free_ctx(other);
    gate_destroy(&gate);
#undef ADD_FAILS
}

/* From inside a member's callback: that member cannot be re-added (EINVAL),
 * but a new request can join. */
static evaio_ctx *self_ctx;
static struct rec self_m, self_extra;
static int self_add_ret, self_add_errno;
static int add_self_again(evaio_req *req)
{
    struct rec *r = req->data;
    errno = 0;
    self_add_ret = evaio_grp_add(r->grp, req);
    self_add_errno = errno;
    rec_start(self_ctx, &self_extra, 2, NULL, 1);
    rec_add(r->grp, &self_extra);
    return 0;
}

static void test_add_self_from_callback(void)
{
    evaio_ctx *ctx = self_ctx = new_ctx(1);
    static struct grec g;
    ncblog = 0;
    evaio_req *grp = grp_start(ctx, &g, 100, 1);
    rec_start(ctx, &self_m, 1, NULL, 0);
    rec_add(grp, &self_m);
    self_m.then = add_self_again;
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(self_add_ret, -1);
    CHECK_EQ(self_add_errno, EINVAL);
    check_ran(&self_m, 0);
    check_ran(&self_extra, 0);
    CHECK_EQ(ncblog, 3);
    CHECK_EQ(cblog[2], 100);
    check_grp_done(&g, 0, 0, 0);
    free_ctx(ctx);
}

/* From the group's own callback: the group has completed, so a request in
 * flight is refused (EINVAL) and left free to join another group. */
static void test_add_to_completed(void)
{
    evaio_ctx *ctx = new_ctx(1);
    struct gate gate;
    gate_init(&gate);
    static struct grec g, g2;
    static struct rec blocker, q;
    ncblog = 0;
    rec_start(ctx, &blocker, 1, &gate, 1);
    gate_wait_started(&gate);
    rec_start(ctx, &q, 2, NULL, 1); /* queued: in flight while g completes */
    evaio_req *grp = grp_start(ctx, &g, 100, 0);
    g.try_add = q.req;
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    check_grp_done(&g, 0, 0, 0);
    errno = 0;
    CHECK_EQ(evaio_grp_add(grp, q.req), -1); /* after it, too */
    CHECK_EQ(errno, EINVAL);
    evaio_req *grp2 = grp_start(ctx, &g2, 101, 1);
    rec_add(grp2, &q); /* the refused adds left q in no group */
    gate_open(&gate);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    check_ran(&q, 0);
    CHECK(log_pos(101) > log_pos(2));
    CHECK_EQ(g.ncb, 1);
    free_ctx(ctx);
    gate_destroy(&gate);
}

/* ---- feeders ----------------------------------------------------------------- */

/* A feeder adding one nop per call, up to `total`; its bookkeeping checks
 * the bound in every feeder call and every member callback. */
struct feeder {
    evaio_ctx *ctx;
    evaio_req *grp;
    unsigned bound;       /* outstanding members may never exceed this */
    unsigned cur_limit;   /* the group's limit now: the feeder runs only below it */
    int only_fed;         /* the group has no members but the fed ones */
    int total, added;     /* items to add, items added */
    int calls;            /* feeder calls */
    int outstanding;      /* fed members whose callback has not run */
    int max_outstanding;
    int done;             /* fed members' callbacks run */
    int pause_at;         /* the member callback that makes done == pause_at sets limit 0 */
    int cancel_at;        /* ... cancels the group */
    int cancel_ret, calls_at_cancel;
    int grp_cancelled;    /* the test cancelled the group */
    int ncancelled;       /* fed members that reported ECANCELED */
    int nslots;           /* caller-owned members from a ring of slots; 0: wrappers */
    evaio_req *slots;
    unsigned char *busy;
};

static struct feeder *the_feeder; /* a feeder gets the group only */

static void check_bound(struct feeder *f)
{
    CHECK(f->outstanding <= (int)f->bound);
    CHECK(evaio_grp_outstanding(f->grp) <= f->bound);
    if (f->only_fed)
        CHECK_EQ(evaio_grp_outstanding(f->grp), (unsigned)f->outstanding);
}

static int fed_cb(evaio_req *req)
{
    struct feeder *f = the_feeder;
    if (f->grp_cancelled) {
        /* Cancelled with its group: not started (ECANCELED) or marked. */
        CHECK(evaio_req_cancelled(req));
        if (req->errorno == ECANCELED) {
            CHECK_EQ(req->result, -1);
            f->ncancelled++;
        } else {
            CHECK_EQ(req->result, 0);
            CHECK_EQ(req->errorno, 0);
        }
    } else {
        CHECK_EQ(req->result, 0);
        CHECK_EQ(req->errorno, 0);
        CHECK(!evaio_req_cancelled(req));
    }
    check_bound(f);
    if (f->slots) {
        size_t k = (size_t)(req - f->slots);
        CHECK(k < (size_t)f->nslots);
        CHECK(f->busy[k]);
        f->busy[k] = 0;
    }
    f->outstanding--; /* the group drops it when this returns */
    f->done++;
    if (f->done == f->pause_at) {
        f->cur_limit = 0;
        evaio_grp_limit(f->grp, 0);
    }
    if (f->done == f->cancel_at) {
        f->grp_cancelled = 1;
        f->calls_at_cancel = f->calls;
        f->cancel_ret = evaio_cancel(f->grp);
    }
    return 0;
}

static void feed_one(evaio_req *grp)
{
    struct feeder *f = the_feeder;
    CHECK(grp == f->grp);
    CHECK(!f->grp_cancelled); /* never called once the group is cancelled */
    f->calls++;
    check_bound(f);
    CHECK(evaio_grp_outstanding(grp) < f->cur_limit); /* called only below the limit */
    if (f->added == f->total)
        return; /* adds nothing: feeding ends */
    evaio_req *req;
    if (f->slots) {
        int k = 0;
        while (k < f->nslots && f->busy[k])
            k++;
        CHECK(k < f->nslots); /* as many slots as the limit always suffice */
        f->busy[k] = 1;
        req = &f->slots[k];
        evaio_nop_init(req, fed_cb, NULL);
        CHECK_EQ(evaio_ctx_start(f->ctx, req), 0);
    } else {
        req = evaio_ctx_nop(f->ctx, 0, fed_cb, NULL);
        CHECK(req != NULL);
    }
    CHECK_EQ(evaio_grp_add(grp, req), 0);
    f->added++;
    f->outstanding++;
    if (f->outstanding > f->max_outstanding)
        f->max_outstanding = f->outstanding;
    check_bound(f);
}

static void feeder_setup(struct feeder *f, evaio_ctx *ctx, int total, unsigned limit)
{
    memset(f, 0, sizeof *f);
    f->ctx = ctx;
    f->total = total;
    f->bound = f->cur_limit = limit;
    f->only_fed = 1;
    the_feeder = f;
}

static void set_limit(struct feeder *f, unsigned limit)
{
    f->cur_limit = limit;
    evaio_grp_limit(f->grp, limit);
}

static void test_feeder_basic(void)
{
    evaio_ctx *ctx = new_ctx(4);
    static struct grec g;
    static struct feeder f;
    enum { TOTAL = 50, LIMIT = 3 };
    ncblog = 0;
    feeder_setup(&f, ctx, TOTAL, LIMIT);
    f.grp = grp_start(ctx, &g, 100, 1);
    set_limit(&f, LIMIT);
    CHECK_EQ(f.calls, 0); /* a limit alone calls nothing */
    evaio_grp_feed(f.grp, feed_one);
    /* At once, synchronously, up to the limit. */
    CHECK_EQ(f.calls, LIMIT);
    CHECK_EQ(f.added, LIMIT);
    CHECK_EQ(evaio_grp_outstanding(f.grp), LIMIT);
    CHECK_EQ(evaio_ctx_nreqs(ctx), LIMIT + 1);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(f.added, TOTAL);
    CHECK_EQ(f.done, TOTAL);
    CHECK_EQ(f.calls, TOTAL + 1); /* one more call added nothing, and ended feeding */
    CHECK_EQ(f.max_outstanding, LIMIT);
    CHECK_EQ(f.outstanding, 0);
    CHECK_EQ(ncblog, 1);
    check_grp_done(&g, 0, 0, 0);
    free_ctx(ctx);

    /* The default limit is EVAIO_GRP_LIMIT_DEFAULT, for a caller-owned group too. */
    ctx = new_ctx(4);
    feeder_setup(&f, ctx, 20, EVAIO_GRP_LIMIT_DEFAULT);
    f.grp = grp_start(ctx, &g, 100, 0);
    evaio_grp_feed(f.grp, feed_one);
    CHECK_EQ(f.calls, EVAIO_GRP_LIMIT_DEFAULT);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(f.calls, 21);
    CHECK_EQ(f.max_outstanding, EVAIO_GRP_LIMIT_DEFAULT);
    check_grp_done(&g, 0, 0, 0);

    /* A first call that adds nothing ends feeding; the group completes. */
    feeder_setup(&f, ctx, 0, 4);
    f.grp = grp_start(ctx, &g, 100, 1);
    evaio_grp_feed(f.grp, feed_one);
    CHECK_EQ(f.calls, 1);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(f.calls, 1);
    check_grp_done(&g, 0, 0, 0);

    /* Feeding ended: raising the limit later calls nothing. */
    feeder_setup(&f, ctx, 5, 8);
    f.grp = grp_start(ctx, &g, 100, 0);
    set_limit(&f, 8);
    evaio_grp_feed(f.grp, feed_one);
    CHECK_EQ(f.calls, 6); /* 5 added, the 6th added nothing */
    f.bound = 16;
    set_limit(&f, 16);
    CHECK_EQ(f.calls, 6);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(f.calls, 6);
    CHECK_EQ(f.done, 5);
    check_grp_done(&g, 0, 0, 0);
    free_ctx(ctx);
}

/* Raising the limit between polls feeds at once; lowering it lets the
 * outstanding members drain below it before the feeder runs again. */
static void test_feeder_limit_changes(void)
{
    evaio_ctx *ctx = new_ctx(4);
    static struct grec g;
    static struct feeder f;
    feeder_setup(&f, ctx, 40, 2);
    f.bound = 6;
    f.grp = grp_start(ctx, &g, 100, 1);
    set_limit(&f, 2);
    evaio_grp_feed(f.grp, feed_one);
    CHECK_EQ(f.calls, 2);
    set_limit(&f, 6);
    CHECK_EQ(f.calls, 6);
    CHECK_EQ(evaio_grp_outstanding(f.grp), 6);
    set_limit(&f, 3); /* feed_one now checks outstanding < 3 at each call */
    CHECK_EQ(f.calls, 6);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(f.done, 40);
    CHECK_EQ(f.calls, 41);
    CHECK_EQ(f.max_outstanding, 6);
    check_grp_done(&g, 0, 0, 0);
    free_ctx(ctx);
}

static void test_feeder_pause(void)
{
    enum { TOTAL = 30, LIMIT = 4, PAUSE_AT = 5 };
    for (int how = 0; how < 2; how++) { /* resume with a limit / remove the feeder */
        evaio_ctx *ctx = new_ctx(2);
        static struct grec g;
        static struct feeder f;
        ncblog = 0;
        feeder_setup(&f, ctx, TOTAL, LIMIT);
        f.pause_at = PAUSE_AT;
        f.grp = grp_start(ctx, &g, 100, how);
        set_limit(&f, LIMIT);
        evaio_grp_feed(f.grp, feed_one);
        CHECK_EQ(f.calls, LIMIT);
        /* Members finish; the fifth pauses feeding; the rest drain. */
        while (evaio_ctx_nreqs(ctx) > 1 || evaio_ctx_npending(ctx))
            CHECK_EQ(evaio_ctx_poll(ctx), 0);
        CHECK_EQ(f.done, LIMIT + PAUSE_AT - 1);
        CHECK_EQ(f.added, f.done);
        CHECK_EQ(f.calls, f.added);
        CHECK_EQ(evaio_ctx_poll(ctx), 0); /* nothing waits ... */
        CHECK_EQ(evaio_ctx_nreqs(ctx), 1); /* ... but the paused group is outstanding */
        CHECK_EQ(evaio_ctx_npending(ctx), 0);
        CHECK_EQ(evaio_grp_outstanding(f.grp), 0);
        CHECK_EQ(g.ncb, 0);
        int added = f.added, calls = f.calls;
        CHECK_EQ(evaio_ctx_poll(ctx), 0);
        CHECK_EQ(g.ncb, 0);
        CHECK_EQ(f.calls, calls);
        if (how == 0) {
            /* A limit resumes feeding, at once. */
            set_limit(&f, LIMIT);
            CHECK_EQ(f.calls, calls + LIMIT);
            CHECK_EQ(evaio_grp_outstanding(f.grp), LIMIT);
            CHECK_EQ(evaio_ctx_wait(ctx), 0);
            CHECK_EQ(f.added, TOTAL);
            CHECK_EQ(f.done, TOTAL);
            CHECK_EQ(f.calls, TOTAL + 1);
        } else {
            /* Removing the feeder lets the group complete. */
            evaio_grp_feed(f.grp, NULL);
            CHECK_EQ(f.calls, calls);
            CHECK_EQ(evaio_ctx_wait(ctx), 0);
            CHECK_EQ(f.calls, calls);
            CHECK_EQ(f.added, added);
        }
        CHECK_EQ(f.max_outstanding, LIMIT);
        CHECK_EQ(ncblog, 1);
        check_grp_done(&g, 0, 0, 0);
        free_ctx(ctx);
    }

    /* Paused before any feeding: the feeder is not called, the group waits
     * through any number of polls, and a limit starts feeding. */
    evaio_ctx *ctx = new_ctx(2);
    static struct grec g;
    static struct feeder f;
    feeder_setup(&f, ctx, 3, 2);
    f.grp = grp_start(ctx, &g, 100, 1);
    set_limit(&f, 0);
    evaio_grp_feed(f.grp, feed_one);
    CHECK_EQ(f.calls, 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(evaio_ctx_poll(ctx), 0);
        CHECK_EQ(g.ncb, 0);
        CHECK_EQ(evaio_ctx_nreqs(ctx), 1);
    }
    set_limit(&f, 2);
    CHECK_EQ(f.calls, 2);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(f.done, 3);
    CHECK_EQ(f.calls, 4);
    check_grp_done(&g, 0, 0, 0);
    free_ctx(ctx);
}

/* 100,000 items, limit 8: never more than 8 members (wrappers) alive; then
 * 20,000 through a ring of 8 caller-owned requests: no allocation at all. */
static void test_feeder_bounded(void)
{
    enum { TOTAL = 100000, RING_TOTAL = 20000, LIMIT = 8 };
    evaio_ctx *ctx = new_ctx(4);
    static struct grec g;
    static struct feeder f;
    feeder_setup(&f, ctx, TOTAL, LIMIT);
    f.grp = grp_start(ctx, &g, 100, 1);
    set_limit(&f, LIMIT);
    evaio_grp_feed(f.grp, feed_one);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(f.added, TOTAL);
    CHECK_EQ(f.done, TOTAL);
    CHECK_EQ(f.max_outstanding, LIMIT);
    CHECK_EQ(f.calls, TOTAL + 1);
    check_grp_done(&g, 0, 0, 0);

    static evaio_req ring[LIMIT];
    static unsigned char busy[LIMIT];
    feeder_setup(&f, ctx, RING_TOTAL, LIMIT);
    f.nslots = LIMIT;
    f.slots = ring;
    f.busy = busy;
    f.grp = grp_start(ctx, &g, 100, 0);
    set_limit(&f, LIMIT);
    evaio_grp_feed(f.grp, feed_one);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(f.done, RING_TOTAL);
    CHECK_EQ(f.max_outstanding, LIMIT);
    check_grp_done(&g, 0, 0, 0);
    free_ctx(ctx);
}

/* ---- cancelling a group -------------------------------------------------------- */

static void test_cancel_group(void)
{
    for (int gwrapper = 0; gwrapper < 2; gwrapper++) {
        evaio_ctx *ctx = new_ctx(1);
        struct gate gate;
        gate_init(&gate);
        static struct grec g;
        static struct rec running, q[4], late;
        static struct feeder f;
        ncblog = 0;
        evaio_req *grp = grp_start(ctx, &g, 100, gwrapper);
        rec_start(ctx, &running, 1, &gate, gwrapper);
        rec_add(grp, &running);
        gate_wait_started(&gate);
        for (int i = 0; i < 4; i++) {
            rec_start(ctx, &q[i], 10 + i, NULL, i % 2);
            rec_add(grp, &q[i]);
        }
        /* A feeder, up to 8 members: 3 nops, queued. */
        feeder_setup(&f, ctx, 1000, 8);
        f.only_fed = 0;
        f.grp = grp;
        set_limit(&f, 8);
        evaio_grp_feed(grp, feed_one);
        CHECK_EQ(f.calls, 3);
        CHECK_EQ(evaio_grp_outstanding(grp), 8);
        CHECK_EQ(evaio_ctx_nready(ctx), 7);
        CHECK_EQ(evaio_ctx_poll(ctx), 0); /* the group is reached and waits */
        CHECK_EQ(g.ncb, 0);

        f.grp_cancelled = 1;
        CHECK_EQ(evaio_cancel(grp), 1);
        CHECK_EQ(evaio_req_cancelled(grp), 1);
        CHECK_EQ(evaio_req_cancelled(running.req), 1);
        CHECK_EQ(evaio_ctx_nready(ctx), 0); /* every queued member is off the queue */
        CHECK_EQ(evaio_ctx_npending(ctx), 7);
        CHECK_EQ(evaio_cancel(grp), 1); /* twice: harmless */
        evaio_grp_feed(grp, feed_one);  /* a cancelled group takes no feeder */
        CHECK_EQ(f.calls, 3);
        /* Their callbacks run without the worker; the group waits for the
         * running one; the feeder is not called as they finish. */
        CHECK_EQ(evaio_ctx_poll(ctx), 0);
        for (int i = 0; i < 4; i++)
            check_cancelled_unstarted(&q[i]);
        CHECK_EQ(f.ncancelled, 3);
        CHECK_EQ(g.ncb, 0);
        CHECK_EQ(running.ncb, 0);
        CHECK_EQ(evaio_grp_outstanding(grp), 1);
        CHECK_EQ(evaio_ctx_nreqs(ctx), 2);
        CHECK_EQ(f.calls, 3);

        /* A member added to the cancelled group is cancelled at once. */
        rec_start(ctx, &late, 20, NULL, gwrapper);
        CHECK_EQ(evaio_ctx_nready(ctx), 1);
        rec_add(grp, &late);
        CHECK_EQ(evaio_ctx_nready(ctx), 0);
        CHECK_EQ(evaio_req_cancelled(late.req), 1);

        gate_open(&gate);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        check_ran(&running, 1);
        check_cancelled_unstarted(&late);
        check_grp_done(&g, -1, ECANCELED, 1);
        CHECK_EQ(cblog[ncblog - 1], 100); /* the group last */
        CHECK_EQ(f.calls, 3);
        if (!gwrapper) {
            errno = 0;
            CHECK_EQ(evaio_cancel(grp), -1); /* completed */
            CHECK_EQ(errno, EINVAL);
        }
        free_ctx(ctx);
        gate_destroy(&gate);
    }
}

/* Cancelled before poll ever reached it, with no members: the callback
 * still reports -1/ECANCELED. */
static void test_cancel_before_reached(void)
{
    for (int gwrapper = 0; gwrapper < 2; gwrapper++) {
        evaio_ctx *ctx = new_ctx(1);
        static struct grec g;
        evaio_req *grp = grp_start(ctx, &g, 100, gwrapper);
        CHECK_EQ(evaio_cancel(grp), 1);
        CHECK_EQ(evaio_ctx_poll(ctx), 0);
        check_grp_done(&g, -1, ECANCELED, 1);
        free_ctx(ctx);
    }
}

static void test_cancel_nested(void)
{
    evaio_ctx *ctx = new_ctx(1);
    struct gate gate;
    gate_init(&gate);
    static struct grec g1, g2, g3, h1, h2;
    static struct rec blocker, a1, a2, a3, b1, b2;
    ncblog = 0;
    rec_start(ctx, &blocker, 1, &gate, 1);
    gate_wait_started(&gate);
    /* G1 > G2 > G3 > a3; G2 > a2; G1 > a1.  Cancel G1. */
    evaio_req *G1 = grp_start(ctx, &g1, 101, 1);
    evaio_req *G2 = grp_start(ctx, &g2, 102, 0);
    evaio_req *G3 = grp_start(ctx, &g3, 103, 1);
    CHECK_EQ(evaio_grp_add(G1, G2), 0);
    CHECK_EQ(evaio_grp_add(G2, G3), 0);
    rec_start(ctx, &a1, 11, NULL, 0);
    rec_add(G1, &a1);
    rec_start(ctx, &a2, 12, NULL, 1);
    rec_add(G2, &a2);
    rec_start(ctx, &a3, 13, NULL, 0);
    rec_add(G3, &a3);
    /* H1 > H2 > b2; H1 > b1.  Cancel only H2: H1 and b1 are untouched. */
    evaio_req *H1 = grp_start(ctx, &h1, 201, 0);
    evaio_req *H2 = grp_start(ctx, &h2, 202, 1);
    CHECK_EQ(evaio_grp_add(H1, H2), 0);
    rec_start(ctx, &b1, 21, NULL, 1);
    rec_add(H1, &b1);
    rec_start(ctx, &b2, 22, NULL, 0);
    rec_add(H2, &b2);
    CHECK_EQ(evaio_ctx_nready(ctx), 5);
    CHECK_EQ(evaio_ctx_poll(ctx), 0); /* every group reached, waiting */
    CHECK_EQ(ncblog, 0);

    CHECK_EQ(evaio_cancel(G1), 1);
    CHECK_EQ(evaio_req_cancelled(G2), 1);
    CHECK_EQ(evaio_req_cancelled(G3), 1);
    CHECK_EQ(evaio_req_cancelled(a3.req), 1);
    CHECK_EQ(evaio_cancel(H2), 1);
    CHECK_EQ(evaio_req_cancelled(H1), 0);
    CHECK_EQ(evaio_req_cancelled(b1.req), 0);
    CHECK_EQ(evaio_ctx_nready(ctx), 1); /* b1 only */

    /* The whole cancelled tree completes without the worker. */
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    check_cancelled_unstarted(&a1);
    check_cancelled_unstarted(&a2);
    check_cancelled_unstarted(&a3);
    check_cancelled_unstarted(&b2);
    check_grp_done(&g1, -1, ECANCELED, 1);
    check_grp_done(&g2, -1, ECANCELED, 1);
    check_grp_done(&g3, -1, ECANCELED, 1);
    check_grp_done(&h2, -1, ECANCELED, 1);
    CHECK_EQ(h1.ncb, 0);

    gate_open(&gate);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    check_ran(&b1, 0);
    check_ran(&blocker, 0);
    check_grp_done(&h1, 0, 0, 0);
    CHECK(log_pos(103) > log_pos(13));
    CHECK(log_pos(102) > log_pos(103) && log_pos(102) > log_pos(12));
    CHECK(log_pos(101) > log_pos(102) && log_pos(101) > log_pos(11));
    CHECK(log_pos(202) > log_pos(22));
    CHECK(log_pos(201) > log_pos(202) && log_pos(201) > log_pos(21));
    free_ctx(ctx);
    gate_destroy(&gate);
}

/* Cancelling a group paused with a feeder (limit 0) completes it: paused
 * before poll reached it, or parked after its members drained. */
static void test_cancel_paused(void)
{
    for (int variant = 0; variant < 2; variant++) {
        evaio_ctx *ctx = new_ctx(1);
        static struct grec g;
        static struct feeder f;
        ncblog = 0;
        feeder_setup(&f, ctx, 100, 2);
        f.grp = grp_start(ctx, &g, 100, variant);
        if (variant == 0) {
            set_limit(&f, 0);
            evaio_grp_feed(f.grp, feed_one);
            CHECK_EQ(f.calls, 0);
        } else {
            evaio_grp_limit(f.grp, 2);
            evaio_grp_feed(f.grp, feed_one);
            CHECK_EQ(f.calls, 2);
            set_limit(&f, 0);
            while (evaio_ctx_nreqs(ctx) > 1 || evaio_ctx_npending(ctx))
                CHECK_EQ(evaio_ctx_poll(ctx), 0);
            CHECK_EQ(f.done, 2);
            CHECK_EQ(evaio_ctx_poll(ctx), 0);
            CHECK_EQ(g.ncb, 0); /* still paused */
            CHECK_EQ(evaio_ctx_nreqs(ctx), 1);
        }
        int calls = f.calls;
        f.grp_cancelled = 1;
        CHECK_EQ(evaio_cancel(f.grp), 1);
        CHECK_EQ(evaio_ctx_poll(ctx), 0);
        check_grp_done(&g, -1, ECANCELED, 1);
        CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
        CHECK_EQ(f.calls, calls);
        free_ctx(ctx);
    }
}

/* Cancelling the group from inside its feeder. */
static int cff_calls, cff_ret;
static evaio_ctx *cff_ctx;
static struct rec cff_m[2];
static void feed_then_cancel(evaio_req *grp)
{
    int k = cff_calls++;
    CHECK(k < 3);
    if (k == 2) {
        cff_ret = evaio_cancel(grp); /* adding nothing */
        return;
    }
    rec_start(cff_ctx, &cff_m[k], 30 + k, NULL, k % 2);
    rec_add(grp, &cff_m[k]);
}

static void test_cancel_from_feeder(void)
{
    evaio_ctx *ctx = cff_ctx = new_ctx(1);
    struct gate gate;
    gate_init(&gate);
    static struct grec g;
    static struct rec blocker;
    ncblog = 0;
    rec_start(ctx, &blocker, 1, &gate, 1);
    gate_wait_started(&gate);
    evaio_req *grp = grp_start(ctx, &g, 100, 1);
    evaio_grp_limit(grp, 10);
    evaio_grp_feed(grp, feed_then_cancel);
    CHECK_EQ(cff_calls, 3);
    CHECK_EQ(cff_ret, 1);
    CHECK_EQ(evaio_ctx_nready(ctx), 0);
    gate_open(&gate);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(cff_calls, 3);
    check_cancelled_unstarted(&cff_m[0]);
    check_cancelled_unstarted(&cff_m[1]);
    check_grp_done(&g, -1, ECANCELED, 1);
    free_ctx(ctx);
    gate_destroy(&gate);
}

/* Cancelling the group from a member's callback: the other outstanding
 * members are cancelled or marked, and the feeder is never called again. */
static void test_cancel_from_member_callback(void)
{
    enum { LIMIT = 3, CANCEL_AT = 10 };
    evaio_ctx *ctx = new_ctx(1);
    static struct grec g;
    static struct feeder f;
    ncblog = 0;
    feeder_setup(&f, ctx, 1000, LIMIT);
    f.cancel_at = CANCEL_AT;
    f.grp = grp_start(ctx, &g, 100, 0);
    set_limit(&f, LIMIT);
    evaio_grp_feed(f.grp, feed_one);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(f.cancel_ret, 1);
    CHECK_EQ(f.calls, f.calls_at_cancel);
    CHECK_EQ(f.added, CANCEL_AT + LIMIT - 1); /* those outstanding at the cancel */
    CHECK_EQ(f.done, f.added);
    check_grp_done(&g, -1, ECANCELED, 1);
    free_ctx(ctx);
}

/* evaio_wait from a member's callback, and from a feeder, returns once
 * everything else is done: the group waiting for that callback (or feeder)
 * does not count as outstanding work. */
static int wait_member_cb(evaio_req *req)
{
    int *stage = req->data;
    struct stat st;
    CHECK(evaio_stat("/", &st, 0, NULL, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0); /* must not wait for the group, which waits for us */
    *stage = 1;
    return 0;
}

static int wait_feeds;
static void waiting_feeder(evaio_req *grp)
{
    if (wait_feeds++ == 2)
        return;
    CHECK_EQ(evaio_grp_add(grp, evaio_nop(0, NULL, NULL)), 0);
    CHECK_EQ(evaio_wait(), 0); /* the member just added runs; the group does not block it */
}

static int wait_grp_done;
static int wait_grp_cb(evaio_req *grp)
{
    (void)grp;
    wait_grp_done++;
    return 0;
}

static void test_wait_inside(void)
{
    int stage = 0;
    evaio_req *outer = evaio_grp(wait_grp_cb, NULL);
    evaio_req *inner = evaio_grp(wait_grp_cb, NULL);
    CHECK(outer && inner);
    CHECK_EQ(evaio_grp_add(outer, inner), 0);
    CHECK_EQ(evaio_grp_add(inner, evaio_nop(0, wait_member_cb, &stage)), 0);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(stage, 1);
    CHECK_EQ(wait_grp_done, 2);

    evaio_req *fed = evaio_grp(wait_grp_cb, NULL);
    CHECK(fed != NULL);
    evaio_grp_limit(fed, 1);
    evaio_grp_feed(fed, waiting_feeder);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(wait_feeds, 3);
    CHECK_EQ(wait_grp_done, 3);
    CHECK_EQ(evaio_nreqs(), 0);
}

/* evaio_ctx_free with a group paused by limit 0 (its feeding would never
 * resume): the group ends, cancelled, and the free returns. */
static int paused_cb_result = 1;
static int paused_cb(evaio_req *grp)
{
    paused_cb_result = grp->result == -1 && grp->errorno == ECANCELED;
    return 0;
}
static void paused_feeder(evaio_req *grp)
{
    (void)grp;
}

static void test_free_paused(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_req *grp = evaio_ctx_grp(ctx, paused_cb, NULL);
    CHECK(grp != NULL);
    evaio_grp_limit(grp, 0);
    evaio_grp_feed(grp, paused_feeder);
    CHECK_EQ(evaio_ctx_poll(ctx), 0); /* reached and parked */
    CHECK_EQ(evaio_ctx_nreqs(ctx), 1);
    paused_cb_result = 0;
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    CHECK_EQ(paused_cb_result, 1);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    { "wait_inside", test_wait_inside },
    { "free_paused", test_free_paused },
    { "after_members", test_after_members },
    { "members_done_first", test_members_done_first },
    { "empty", test_empty },
    { "add_from_member_callback", test_add_from_member_callback },
    { "group_result", test_group_result },
    { "nesting", test_nesting },
    { "add_errors", test_add_errors },
    { "add_self_from_callback", test_add_self_from_callback },
    { "add_to_completed", test_add_to_completed },
    { "feeder_basic", test_feeder_basic },
    { "feeder_limit_changes", test_feeder_limit_changes },
    { "feeder_pause", test_feeder_pause },
    { "feeder_bounded", test_feeder_bounded },
    { "cancel_group", test_cancel_group },
    { "cancel_before_reached", test_cancel_before_reached },
    { "cancel_nested", test_cancel_nested },
    { "cancel_paused", test_cancel_paused },
    { "cancel_from_feeder", test_cancel_from_feeder },
    { "cancel_from_member_callback", test_cancel_from_member_callback },
};

/* No argument: every test; otherwise the named ones. */
int main(int argc, char **argv)
{
    for (size_t t = 0; t < sizeof tests / sizeof tests[0]; t++) {
        int run = argc < 2;
        for (int a = 1; a < argc; a++)
            run |= strcmp(argv[a], tests[t].name) == 0;
        if (run) {
            tests[t].fn();
            fprintf(stderr, "ok %s\n", tests[t].name);
        }
    }
    return 0;
}
