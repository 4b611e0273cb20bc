/*  csv_reader.h: reads a CSV file with a fixed header, row by row, and
    blames whatever is wrong on "FILE:LINE: reason".

    The file is RFC 4180 CSV (libcsv does the tokenising): quoted fields may
    hold commas, quotes and newlines; a UTF-8 byte order mark and CRLF line
    ends are accepted. The header must be exactly the given columns, and
    every row must have as many fields. Each data row is handed to a row
    function, which checks its values and builds what the caller wants; the
    first problem, the reader's or the row function's, refuses the whole
    file. results_file and times_file are the project's two formats.        */
#ifndef EL_CSV_READER_H
#define EL_CSV_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define CSV_MAX_COLUMNS   8
#define CSV_EXCERPT_SIZE  48    /* a quoted bad value in an error message */
#define CSV_MAX_LINE      65536 /* bytes of one physical line: a row is ~100 */

typedef struct csv_reader csv_reader_t;

/*  Called once per data row with exactly n_columns fields, which stay owned
    by the reader. Returns EL_OK, or the code csv_reader_fail returned.     */
typedef el_err_t (csv_reader_row_fn) (csv_reader_t *reader, void *ctx, char **fields);

/*  Reads the file at path, whose header must be columns[0 .. n_columns-1]
    (at most CSV_MAX_COLUMNS), calling on_row for each data row. Returns
    EL_OK, or the first error (EL_ERR_IO, EL_ERR_PARSE, EL_ERR_NOMEM) with
    "PATH:LINE: reason" written into err (errlen bytes; err may be NULL).
    Refused besides the row function's reasons: an empty file, a header
    but no data rows, a misnamed or missing column, a row with the wrong
    number of fields, a NUL byte, malformed quoting, a line longer than
    CSV_MAX_LINE (read no further: /dev/zero has no line end).              */
el_err_t csv_reader_read (const char *path, const char *const *columns, size_t n_columns,
                          csv_reader_row_fn *on_row, void *ctx, char *err, size_t errlen);

/*  For row functions: refuses the file, blaming the line the current row
    began on, and returns rc. Only the first failure is kept: later ones are
    usually its consequences.                                               */
el_err_t csv_reader_fail (csv_reader_t *self, el_err_t rc, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  The line the current row began on (from 1).  */
size_t csv_reader_line (const csv_reader_t *self);

/*  Parses a whole decimal number from 0 to UINT32_MAX: ASCII digits only,
    so no sign, space, hex or exponent. A bad value fails the row, naming
    `what` ("votes").                                                       */
el_err_t csv_reader_u32 (csv_reader_t *self, const char *text, const char *what, uint32_t *value);

/*  A hostile value made fit to quote in an error message: cut short (at a
    UTF-8 character boundary, marked "..."), control characters shown as
    '?'. Returns buffer, which the caller owns.                            */
const char *csv_reader_excerpt (const char *value, char buffer [CSV_EXCERPT_SIZE]);

/*  Makes room for one more item in a growing array (for row functions that
    build arrays). Returns the (possibly moved) array and updates *cap_p, or
    returns NULL and leaves the array and *cap_p as they were.              */
void *csv_reader_grow (void *items, size_t *cap_p, size_t count, size_t item_size);

#endif
