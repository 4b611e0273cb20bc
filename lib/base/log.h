/*  log.h: one-line log records on stderr.

    Every line carries a UTC timestamp, the program name, a level and a
    stable message id, then the key facts, e.g.
      2017-06-08T23:52:00.123Z aggregator INFO  AGG010 E14000800 rev 1 accepted seq 42
    Message ids let operators grep a night's log and tests assert on it.

    Warnings and errors are what a hostile peer can cause at will (a junk
    message, a refused key), so each cause (message id) shows at most
    LOG_BURST lines per LOG_WINDOW_MS; the rest are counted, and said in one
    line when the window ends:
      ... aggregator WARN  AGG020 ... and 9812 more like it in the last 10 s (not shown)
    Info and debug lines are never held back: they say what was accepted.  */
#ifndef EL_LOG_H
#define EL_LOG_H

#include <stdbool.h>

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

#define LOG_WINDOW_MS   10000
#define LOG_BURST       10

/*  Sets the program name shown on every line, and the lowest level shown;
    what is still held back is said at exit.                                */
void log_init (const char *program, log_level_t min_level);

/*  Says what was held back in the windows that have ended. A program's loop
    calls it now and then, so the count comes even if the cause goes quiet. */
void log_tick (void);

/*  Says what is held back now, windows ended or not (at exit), and writes
    what log_hold holds.                                                    */
void log_flush (void);

/*  Between log_hold and log_release, lines are kept (64 KB at most, then
    written) and written together at log_release: one write for a batch of
    lines instead of one each. The aggregator holds a batch's lines until
    just before its acknowledgements go out. Calls nest.                    */
void log_hold (void);
void log_release (void);

void log_msg (log_level_t level, const char *id, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#define log_debug(id, ...) log_msg (LOG_DEBUG, id, __VA_ARGS__)
#define log_info(id, ...)  log_msg (LOG_INFO, id, __VA_ARGS__)
#define log_warn(id, ...)  log_msg (LOG_WARN, id, __VA_ARGS__)
#define log_error(id, ...) log_msg (LOG_ERROR, id, __VA_ARGS__)

#endif
