/* demo.h: the work every loop example drives, whatever its loop.
 *
 * The examples in this folder differ only in how their event loop decides
 * to call evaio_ctx_poll(); what they do through evaio, and the checks of
 * the results, live in demo.c so that each example file shows nothing but
 * its loop's tie to evaio.  Every example is run as
 *
 *   loop_X [EXTRA] [FILE [DIR]]
 *       The work: reads FILE through evaio (open, fstat, reads of 16 KiB in
 *       parallel, close) and lstat-s every entry of DIR (readdir, then one
 *       lstat per entry), checking each result against the same call made
 *       synchronously.  Defaults: spec/ops.toml and runtime/ of the evaio
 *       source tree the example was built from.
 *
 *   loop_X [EXTRA] --flood N [--no-limits]
 *       The starvation test: N results (nop requests) all waiting at once,
 *       each callback spending DEMO_FLOOD_COST seconds (standing for what an
 *       application does with a result), delivered while the loop's
 *       periodic timer ticks.  Passes when no gap between ticks reached
 *       1 s nor half the delivery's duration.  --no-limits removes the
 *       example's poll limits and inverts the verdict: it passes only if
 *       the timer *was* starved, which shows that the test can see it.
 *
 * EXTRA is an example's own option (libev's --hook).  Exit status: 0 pass,
 * 1 fail, 2 bad usage.
 *
 * An example calls, in this order: demo_init; its own setup, poll limits
 * included; demo_start; then runs its loop, which calls demo_tick from a
 * timer every DEMO_TICK seconds and demo_polled around every
 * evaio_ctx_poll, and stops once demo_finished says so; then demo_end.
 * All of them run on the loop's thread.
 */
#ifndef EVAIO_LOOPS_DEMO_H
#define EVAIO_LOOPS_DEMO_H

#include <evaio.h>

#define DEMO_TICK 0.010        /* the loop's periodic timer, seconds */
#define DEMO_FLOOD_COST 10e-6  /* seconds spent in each flood callback */

/* Parses the command line (exits 2 on bad usage) and returns the context
 * the example ties to its loop.  `flag`, when not NULL, is the example's
 * own option; *given says whether it was on the command line. */
evaio_ctx *demo_init(int argc, char **argv, const char *flag, int *given);

/* Submits the work.  For --flood, waits until all N results wait, so that
 * the loop starts with the worst case in front of it; with --no-limits,
 * sets the context's poll limits to 0 first. */
void demo_start(void);

/* To call with what evaio_ctx_poll returned, at once: counts the call for
 * the report, and ends the program on anything but 0 or -1/EAGAIN (the
 * demo's callbacks never return non-zero).  Returns r; errno is kept. */
int demo_polled(int r);

/* To call from the loop's periodic timer. */
void demo_tick(void);

/* Whether the loop may stop: all callbacks have run (for --flood, and the
 * timer has ticked once after the last). */
int demo_finished(void);

/* Checks the outcome, prints a report, frees the context (hooks removed
 * first).  Returns the exit status. */
int demo_end(void);

/* Seconds on the monotonic clock. */
double demo_now(void);

#endif
