/* loop_glib: evaio in a GLib main loop, through a GSource of its own.
 *
 * The tie: an "evaio source" watching evaio_ctx_poll_fd() for G_IO_IN,
 * whose dispatch runs evaio_ctx_poll and then the callback set on it with
 * g_source_set_callback.  GLib polls it level-triggered, and evaio's fd
 * stays readable exactly while results wait, so after evaio_ctx_poll
 * returns -1/EAGAIN (a poll limit stopped it while results still wait) the
 * source is ready again on the next iteration: the dispatch has nothing
 * else to do.  (g_unix_fd_add(fd, G_IO_IN, ...) would work the same; a
 * source of its own can be attached to any GMainContext, given a priority,
 * and destroyed like any other.)
 *
 * Priorities matter more than the limits here: in each iteration GLib
 * dispatches only the ready sources of the highest priority among those
 * ready.  An evaio source at a higher priority than the loop's other
 * sources would starve them whatever the limits, since it is ready again
 * at once; at the same priority (G_PRIORITY_DEFAULT here, like the timer)
 * they take turns, and the limits bound each turn.
 *
 * What it does: see demo.h (`loop_glib --help`).
 */
#define _GNU_SOURCE

#include "demo.h"

#include <glib-unix.h>
#include <glib.h>
#include <stdio.h>

typedef struct {
    GSource source;
    evaio_ctx *ctx;
    gpointer tag; /* of the poll fd, from g_source_add_unix_fd */
} EvaioSource;

static gboolean evaio_source_check(GSource *source)
{
    EvaioSource *es = (EvaioSource *)source;
    return (g_source_query_unix_fd(source, es->tag) & G_IO_IN) != 0;
}

static gboolean evaio_source_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    EvaioSource *es = (EvaioSource *)source;
    /* 0 or -1/EAGAIN: the level-triggered source knows which. */
    demo_polled(evaio_ctx_poll(es->ctx));
    return callback ? callback(data) : G_SOURCE_CONTINUE;
}

static GSourceFuncs evaio_source_funcs = {
    .check = evaio_source_check,
    .dispatch = evaio_source_dispatch,
};

/* A source that runs ctx's callbacks in whichever context it is attached to. */
static GSource *evaio_source_new(evaio_ctx *ctx)
{
    GSource *source = g_source_new(&evaio_source_funcs, sizeof(EvaioSource));
    EvaioSource *es = (EvaioSource *)source;
    es->ctx = ctx;
    es->tag = g_source_add_unix_fd(source, evaio_ctx_poll_fd(ctx), G_IO_IN);
    g_source_set_name(source, "evaio");
    return source;
}

/* ---- the rest of the loop ---- */

static gboolean after_poll(gpointer loop)
{
    if (demo_finished())
        g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

static gboolean on_timer(gpointer loop)
{
    demo_tick();
    return after_poll(loop);
}

int main(int argc, char **argv)
{
    evaio_ctx *ctx = demo_init(argc, argv, NULL, NULL);
    GMainContext *context = g_main_context_new();
    GMainLoop *loop = g_main_loop_new(context, FALSE);

    /* At most 1024 callbacks or 5 ms per evaio_ctx_poll call. */
    evaio_ctx_set_max_poll_reqs(ctx, 1024);
    evaio_ctx_set_max_poll_time(ctx, 0.005);

    GSource *evaio = evaio_source_new(ctx);
    g_source_set_priority(evaio, G_PRIORITY_DEFAULT); /* the timer's: see above */
    g_source_set_callback(evaio, after_poll, loop, NULL);
    g_source_attach(evaio, context);
    demo_start();

    GSource *timer = g_timeout_source_new((guint)(DEMO_TICK * 1e3));
    g_source_set_callback(timer, on_timer, loop, NULL);
    g_source_attach(timer, context);
    g_main_loop_run(loop);

    g_source_destroy(timer);
    g_source_unref(timer);
    g_source_destroy(evaio);
    g_source_unref(evaio);
    g_main_loop_unref(loop);
    g_main_context_unref(context);
    return demo_end();
}
