/*  csv_reader.c: see csv_reader.h.

    libcsv does the RFC 4180 tokenising. We feed it one physical line at a
    time, so that each row can be blamed on the line it starts on even when
    blank lines or quoted newlines make lines and records differ, and we
    check the header, the field count and the values row by row. libcsv
    cannot be stopped from inside a callback, so the first error is kept in
    the reader and later callbacks do nothing; the feeding loop stops at the
    end of that line. Fields are passed to libcsv verbatim (no trimming of
    spaces), as RFC 4180 asks.                                             */
#include "csv_reader.h"
#include <assert.h>
#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

struct csv_reader {
    const char *path;
    char *err;                      /* the caller's buffer, may be NULL */
    size_t errlen;
    const char *const *columns;     /* the exact header, in order */
    size_t n_columns;
    csv_reader_row_fn *on_row;
    void *ctx;
    size_t line;                    /* physical line being fed, from 1 */
    size_t row_line;                /* line the current row started on */
    bool row_open;                  /* bytes of a row fed, row not ended */
    char *fields [CSV_MAX_COLUMNS];   /* owned; the row's first n_columns fields */
    size_t n_fields;                /* fields seen in the row, may be more */
    bool have_header;
    size_t header_line;
    size_t n_rows;                  /* data rows accepted */
    el_err_t rc;                    /* the first error; then nothing runs */
};

/*  Records the first error as "PATH:LINE: reason" (or "PATH: reason" when
    line is 0) and returns its code. Later errors are dropped: they are
    usually consequences of the first.  */
static el_err_t
s_vfail (csv_reader_t *self, size_t line, el_err_t rc, const char *format, va_list args)
{
    if (self->rc)
        return self->rc;
    self->rc = rc;
    if (self->err && self->errlen) {
        int prefix = line
            ? snprintf (self->err, self->errlen, "%s:%zu: ", self->path, line)
            : snprintf (self->err, self->errlen, "%s: ", self->path);
        if (prefix >= 0 && (size_t) prefix < self->errlen)
            vsnprintf (self->err + prefix, self->errlen - prefix, format, args);
    }
    return rc;
}

static el_err_t
s_fail (csv_reader_t *self, size_t line, el_err_t rc, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static el_err_t
s_fail (csv_reader_t *self, size_t line, el_err_t rc, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_vfail (self, line, rc, format, args);
    va_end (args);
    return self->rc;
}

el_err_t
csv_reader_fail (csv_reader_t *self, el_err_t rc, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_vfail (self, self->row_line, rc, format, args);
    va_end (args);
    return self->rc;
}

size_t
csv_reader_line (const csv_reader_t *self)
{
    return self->row_line;
}

const char *
csv_reader_excerpt (const char *value, char buffer [CSV_EXCERPT_SIZE])
{
    size_t max = CSV_EXCERPT_SIZE - 4;
    size_t len = strlen (value);
    size_t keep = len;
    if (len > max) {
        keep = max;
        while (keep > 0 && ((unsigned char) value [keep] & 0xC0) == 0x80)
            keep--;
    }
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char) value [i];
        buffer [i] = (c < 0x20 || c == 0x7F) ? '?' : (char) c;
    }
    strcpy (buffer + keep, keep < len ? "..." : "");
    return buffer;
}

static void
s_clear_row (csv_reader_t *self)
{
    for (size_t i = 0; i < CSV_MAX_COLUMNS; i++) {
        free (self->fields [i]);
        self->fields [i] = NULL;
    }
    self->n_fields = 0;
}

static void
s_check_header (csv_reader_t *self)
{
    char buffer [CSV_EXCERPT_SIZE];
    size_t line = self->row_line;
    size_t shared = self->n_fields < self->n_columns ? self->n_fields : self->n_columns;
    for (size_t i = 0; i < shared; i++)
        if (strcmp (self->fields [i], self->columns [i]) != 0) {
            s_fail (self, line, EL_ERR_PARSE,
                    "header column %zu is \"%s\", expected \"%s\"",
                    i + 1, csv_reader_excerpt (self->fields [i], buffer), self->columns [i]);
            return;
        }
    if (self->n_fields < self->n_columns)
        s_fail (self, line, EL_ERR_PARSE,
                "header has %zu columns, expected %zu: missing column \"%s\"",
                self->n_fields, self->n_columns, self->columns [self->n_fields]);
    else
    if (self->n_fields > self->n_columns)
        s_fail (self, line, EL_ERR_PARSE,
                "header has %zu columns, expected %zu", self->n_fields, self->n_columns);
}

/*  libcsv's field callback. Keeps a copy of the first n_columns fields.  */
static void
s_on_field (void *data, size_t len, void *arg)
{
    csv_reader_t *self = arg;
    if (self->rc)
        return;
    if (self->n_fields < self->n_columns) {
        const char *text = data ? data : "";
        //  A NUL would silently cut the value short in a C string
        if (len && memchr (text, '\0', len)) {
            s_fail (self, self->row_line, EL_ERR_PARSE,
                    "NUL byte in field %zu", self->n_fields + 1);
            return;
        }
        self->fields [self->n_fields] = strndup (text, len);
        if (!self->fields [self->n_fields]) {
            s_fail (self, self->row_line, EL_ERR_NOMEM, "out of memory");
            return;
        }
    }
    self->n_fields++;
}

/*  libcsv's row callback: the header, or a data row to check and hand on.  */
static void
s_on_row (int terminator, void *arg)
{
    csv_reader_t *self = arg;
    self->row_open = false;
    if (self->rc) {
        //  Nothing more to check once the file is refused
    }
    else
    if (!self->have_header) {
        self->have_header = true;
        self->header_line = self->row_line;
        s_check_header (self);
    }
    else
    if (self->n_fields != self->n_columns)
        s_fail (self, self->row_line, EL_ERR_PARSE, "row has %zu fields, expected %zu",
                self->n_fields, self->n_columns);
    else
    if (self->on_row (self, self->ctx, self->fields) == EL_OK)
        self->n_rows++;
    s_clear_row (self);
}

/*  libcsv trims spaces and tabs around unquoted fields unless told that
    nothing is a space; RFC 4180 keeps them.  */
static int
s_no_space (unsigned char c)
{
    return 0;
}

static void
s_csv_failed (csv_reader_t *self, struct csv_parser *parser)
{
    int status = csv_error (parser);
    if (status == CSV_EPARSE)
        s_fail (self, self->line, EL_ERR_PARSE,
                "malformed CSV: a quote inside an unquoted field, or text after a closing quote");
    else
    if (status == CSV_ENOMEM)
        s_fail (self, self->line, EL_ERR_NOMEM, "out of memory");
    else
        s_fail (self, self->line, EL_ERR_PARSE, "malformed CSV: %s", csv_strerror (status));
}

//  Reads one physical line, its end included, as getline does but never
//  longer than CSV_MAX_LINE: a file with no line end (/dev/zero) must not
//  grow the buffer until memory runs out. Returns its length, -1 at the
//  end of the file (or on a read error: see ferror), -2 if too long.
static ssize_t
s_getline (FILE *file, char **line, size_t *capacity)
{
    size_t len = 0;
    int c = 0;
    while (c != '\n' && (c = getc_unlocked (file)) != EOF) {
        if (len == CSV_MAX_LINE)
            return -2;
        if (len + 2 > *capacity) {
            size_t grown = *capacity ? *capacity * 2 : 256;
            char *bigger = realloc (*line, grown);
            if (!bigger) {
                errno = ENOMEM;
                return -1;
            }
            *line = bigger;
            *capacity = grown;
        }
        (*line) [len++] = (char) c;
    }
    if (len == 0)
        return -1;
    (*line) [len] = '\0';
    return (ssize_t) len;
}

//  Reads the whole file through libcsv
static el_err_t
s_run (csv_reader_t *self)
{
    char *line = NULL;          /* owned, grown by getline */
    size_t line_cap = 0;
    struct csv_parser parser;
    bool parser_ready = false;

    FILE *file = fopen (self->path, "rb");
    if (!file) {
        s_fail (self, 0, EL_ERR_IO, "cannot open: %s", strerror (errno));
        goto cleanup;
    }
    if (csv_init (&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        s_fail (self, 0, EL_ERR_NOMEM, "cannot set up the CSV parser");
        goto cleanup;
    }
    parser_ready = true;
    csv_set_space_func (&parser, s_no_space);

    ssize_t len;
    while (!self->rc && (len = s_getline (file, &line, &line_cap)) != -1) {
        self->line++;
        if (len == -2) {
            s_fail (self, self->line, EL_ERR_PARSE, "line longer than %d bytes: not a CSV file "
                    "of ours", CSV_MAX_LINE);
            break;
        }
        const char *data = line;
        size_t size = (size_t) len;
        if (self->line == 1 && size >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0) {
            data += 3;          //  A UTF-8 byte order mark is not data
            size -= 3;
        }
        //  Feed the text and its line end apart, so that we can tell
        //  whether the row is still open at the end of the line; CRLF
        //  becomes LF, also inside a quoted field
        bool ended = size > 0 && data [size - 1] == '\n';
        if (ended)
            size--;
        if (size > 0 && data [size - 1] == '\r') {
            size--;
            ended = true;
        }
        if (!self->row_open)
            self->row_line = self->line;
        if (csv_parse (&parser, data, size, s_on_field, s_on_row, self) != size) {
            s_csv_failed (self, &parser);
            break;
        }
        if (size > 0)
            self->row_open = true;
        if (ended && csv_parse (&parser, "\n", 1, s_on_field, s_on_row, self) != 1) {
            s_csv_failed (self, &parser);
            break;
        }
    }
    int read_errno = errno;
    if (self->rc)
        goto cleanup;
    //  s_getline also returns -1 on a read error or when out of memory
    if (ferror (file) || !feof (file)) {
        s_fail (self, self->line + 1, read_errno == ENOMEM ? EL_ERR_NOMEM : EL_ERR_IO,
                "read error: %s", strerror (read_errno));
        goto cleanup;
    }
    //  A last row without a line end is only submitted here
    if (csv_fini (&parser, s_on_field, s_on_row, self) != 0) {
        s_fail (self, self->row_line, EL_ERR_PARSE,
                "unterminated quoted field in the row starting here");
        goto cleanup;
    }
    if (self->rc)
        goto cleanup;
    if (!self->have_header)
        s_fail (self, 1, EL_ERR_PARSE, "empty file: no header");
    else
    if (self->n_rows == 0)
        s_fail (self, self->header_line, EL_ERR_PARSE, "header but no data rows");

cleanup:
    if (parser_ready)
        csv_free (&parser);
    s_clear_row (self);
    free (line);
    if (file)
        fclose (file);
    return self->rc;
}

el_err_t
csv_reader_u32 (csv_reader_t *reader, const char *text, const char *what, uint32_t *value_p)
{
    char buffer [CSV_EXCERPT_SIZE];
    size_t line = reader->row_line;
    if (*text == '\0')
        return s_fail (reader, line, EL_ERR_PARSE, "empty %s", what);
    if (*text == '-')
        return s_fail (reader, line, EL_ERR_PARSE, "negative %s \"%s\"",
                       what, csv_reader_excerpt (text, buffer));
    if (!isdigit ((unsigned char) *text))
        return s_fail (reader, line, EL_ERR_PARSE, "non-numeric %s \"%s\"",
                       what, csv_reader_excerpt (text, buffer));
    char *end;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (*end != '\0')
        return s_fail (reader, line, EL_ERR_PARSE, "non-numeric %s \"%s\"",
                       what, csv_reader_excerpt (text, buffer));
    if (errno == ERANGE || value > UINT32_MAX)
        return s_fail (reader, line, EL_ERR_PARSE, "%s \"%s\" out of range (at most %lu)",
                       what, csv_reader_excerpt (text, buffer), (unsigned long) UINT32_MAX);
    *value_p = (uint32_t) value;
    return EL_OK;
}

el_err_t
csv_reader_read (const char *path, const char *const *columns, size_t n_columns,
                 csv_reader_row_fn *on_row, void *ctx, char *err, size_t errlen)
{
    assert (path);
    assert (n_columns <= CSV_MAX_COLUMNS);
    csv_reader_t reader = {
        .path = path, .err = err, .errlen = errlen,
        .columns = columns, .n_columns = n_columns, .on_row = on_row, .ctx = ctx
    };
    if (err && errlen)
        *err = '\0';
    return s_run (&reader);
}

void *
csv_reader_grow (void *items, size_t *cap_p, size_t count, size_t item_size)
{
    if (count < *cap_p)
        return items;
    size_t cap = *cap_p ? *cap_p * 2 : 8;
    if (cap > SIZE_MAX / item_size)
        return NULL;
    void *grown = realloc (items, cap * item_size);
    if (grown)
        *cap_p = cap;
    return grown;
}

