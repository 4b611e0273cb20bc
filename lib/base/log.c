/*  log.c: see log.h. The settings are process-wide by nature (stderr is). */
#include "log.h"
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static const char *s_program = "election";
static log_level_t s_min_level = LOG_INFO;

void
log_init (const char *program, log_level_t min_level)
{
    s_program = program;
    s_min_level = min_level;
}

void
log_msg (log_level_t level, const char *id, const char *fmt, ...)
{
    static const char *names [] = { "DEBUG", "INFO ", "WARN ", "ERROR" };
    if (level < s_min_level)
        return;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r (&now.tv_sec, &tm);
    char stamp [32];
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    char line [1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (line, sizeof line, fmt, args);
    va_end (args);
    //  One fprintf per line so lines of concurrent processes do not interleave
    fprintf (stderr, "%s.%03ldZ %s %s %s %s\n", stamp, now.tv_nsec / 1000000L,
             s_program, names [level], id, line);
}
