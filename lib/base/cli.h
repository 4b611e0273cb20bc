/*  cli.h: numbers given on the command line (and typed at its prompts, and
    shown back to people). Every program reads them the
    same way (the whole text a decimal number, within a range: no trailing
    text, no silent wrap of a negative or an overflow) and says what was
    wrong the same way, naming the option:
        aggregator: --heartbeat-ms must be 10..60000, not "5"
    The caller exits with status 2 (bad usage) on a failure.                */
#ifndef EL_CLI_H
#define EL_CLI_H

#include <stddef.h>
#include <stdint.h>

/*  Parses text as a whole decimal number from min to max. Returns 0 with
    *value set; or prints "PROGRAM: OPTION must be MIN..MAX, not "TEXT"" on
    stderr and returns -1.                                                  */
int cli_integer (const char *program, const char *option, const char *text,
                 long long min, long long max, long long *value);

/*  The same for a number that may have a fraction (strtod), min to max.  */
int cli_real (const char *program, const char *option, const char *text,
              double min, double max, double *value);

/*  A count a person typed, as figures are read out: "29765" or "29,765"
    (commas only between groups of three), spaces around allowed, 0 to
    UINT32_MAX. Returns 0 with *value set, or -1 (nothing printed: the
    caller asks again).                                                     */
int cli_count (const char *text, uint32_t *value);

/*  n with thousands separators into buf ("14,364"); returns buf.  */
const char *cli_thousands (long long n, char *buf, size_t size);

#endif
