/*  cli.c: see cli.h.  */
#include "cli.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int
cli_integer (const char *program, const char *option, const char *text,
             long long min, long long max, long long *value)
{
    char *end;
    errno = 0;
    long long parsed = strtoll (text, &end, 10);
    if (errno || end == text || *end || parsed < min || parsed > max) {
        fprintf (stderr, "%s: %s must be %lld..%lld, not \"%s\"\n", program, option, min, max, text);
        return -1;
    }
    *value = parsed;
    return 0;
}

int
cli_real (const char *program, const char *option, const char *text,
          double min, double max, double *value)
{
    char *end;
    errno = 0;
    double parsed = strtod (text, &end);
    //  Written so that NaN fails the range test too
    if (errno || end == text || *end || !(parsed >= min && parsed <= max)) {
        fprintf (stderr, "%s: %s must be %g..%g, not \"%s\"\n", program, option, min, max, text);
        return -1;
    }
    *value = parsed;
    return 0;
}
