/*  log.h: one-line log records on stderr.

    Every line carries a UTC timestamp, the program name, a level and a
    stable message id, then the key facts, e.g.
      2017-06-08T23:52:00.123Z aggregator INFO  AGG010 E14000800 rev 1 accepted seq 42
    Message ids let operators grep a night's log and tests assert on it.   */
#ifndef EL_LOG_H
#define EL_LOG_H

#include <stdbool.h>

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

/*  Sets the program name shown on every line, and the lowest level shown.  */
void log_init (const char *program, log_level_t min_level);

void log_msg (log_level_t level, const char *id, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#define log_debug(id, ...) log_msg (LOG_DEBUG, id, __VA_ARGS__)
#define log_info(id, ...)  log_msg (LOG_INFO, id, __VA_ARGS__)
#define log_warn(id, ...)  log_msg (LOG_WARN, id, __VA_ARGS__)
#define log_error(id, ...) log_msg (LOG_ERROR, id, __VA_ARGS__)

#endif
