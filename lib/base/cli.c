/*  cli.c: see cli.h.  */
#include "cli.h"
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
cli_count (const char *text, uint32_t *value)
{
    //  Leading and trailing spaces are a person's, not a figure's
    while (*text == ' ' || *text == '\t')
        text++;
    size_t len = strlen (text);
    while (len && (text [len - 1] == ' ' || text [len - 1] == '\t'))
        len--;
    uint64_t parsed = 0;
    size_t digits = 0, group = 0;
    bool grouped = false;
    for (size_t i = 0; i < len; i++) {
        char c = text [i];
        if (c == ',') {
            //  1 to 3 digits before the first comma, exactly 3 after each
            if (group == 0 || group > 3 || (grouped && group != 3))
                return -1;
            grouped = true;
            group = 0;
            continue;
        }
        if (!isdigit ((unsigned char) c))
            return -1;
        parsed = parsed * 10 + (uint64_t) (c - '0');
        if (parsed > UINT32_MAX)
            return -1;
        digits++;
        group++;
    }
    if (digits == 0 || (grouped && group != 3))
        return -1;
    *value = (uint32_t) parsed;
    return 0;
}

const char *
cli_thousands (long long n, char *buf, size_t size)
{
    char digits [32];
    //  The magnitude as unsigned: -LLONG_MIN would overflow
    unsigned long long magnitude = n < 0 ? 0ULL - (unsigned long long) n : (unsigned long long) n;
    int len = snprintf (digits, sizeof digits, "%llu", magnitude);
    size_t at = 0;
    if (n < 0 && at + 1 < size)
        buf [at++] = '-';
    for (int i = 0; i < len && at + 1 < size; i++) {
        buf [at++] = digits [i];
        if ((len - i - 1) % 3 == 0 && i < len - 1 && at + 1 < size)
            buf [at++] = ',';
    }
    buf [at] = 0;
    return buf;
}
