/*  results_csv.c: reads results and declaration-times files (results_csv.h).

    libcsv does the RFC 4180 tokenising. We feed it one physical line at a
    time, so that each row can be blamed on the line it starts on even when
    blank lines or quoted newlines make lines and records differ, and we
    check the header, the field count and the values row by row. libcsv
    cannot be stopped from inside a callback, so the first error is kept in
    the reader and later callbacks do nothing; the feeding loop stops at the
    end of that line. Fields are passed to libcsv verbatim (no trimming of
    spaces), as RFC 4180 asks.                                             */
#include <assert.h>
#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "results_csv.h"
#include "strmap.h"

#define S_MAX_COLUMNS   8
#define S_EXCERPT_SIZE  48      /* a quoted bad value in an error message */

/*  Makes room for one more item in a growing array. Returns the (possibly
    moved) array and updates *cap_p, or returns NULL and leaves the array
    and *cap_p as they were.  */
static void *
s_grow (void *items, size_t *cap_p, size_t count, size_t item_size)
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

/*  --------------------------------------------------------------------------
    The reader: feeds a file to libcsv, checks the header and field counts,
    and hands each data row to a row function.                              */

typedef struct s_reader s_reader_t;

/*  Called once per data row with exactly n_columns fields, which stay owned
    by the reader. Returns EL_OK, or an error already reported by s_fail.  */
typedef el_err_t (s_row_fn) (s_reader_t *reader, void *ctx, char **fields);

struct s_reader {
    const char *path;
    char *err;                      /* the caller's buffer, may be NULL */
    size_t errlen;
    const char *const *columns;     /* the exact header, in order */
    size_t n_columns;
    s_row_fn *on_row;
    void *ctx;
    size_t line;                    /* physical line being fed, from 1 */
    size_t row_line;                /* line the current row started on */
    bool row_open;                  /* bytes of a row fed, row not ended */
    char *fields [S_MAX_COLUMNS];   /* owned; the row's first n_columns fields */
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
s_fail (s_reader_t *self, size_t line, el_err_t rc, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static el_err_t
s_fail (s_reader_t *self, size_t line, el_err_t rc, const char *format, ...)
{
    if (self->rc)
        return self->rc;
    self->rc = rc;
    if (self->err && self->errlen) {
        int prefix = line
            ? snprintf (self->err, self->errlen, "%s:%zu: ", self->path, line)
            : snprintf (self->err, self->errlen, "%s: ", self->path);
        if (prefix >= 0 && (size_t) prefix < self->errlen) {
            va_list args;
            va_start (args, format);
            vsnprintf (self->err + prefix, self->errlen - prefix, format, args);
            va_end (args);
        }
    }
    return rc;
}

/*  A hostile value made fit to quote in an error message: cut short (at a
    UTF-8 character boundary, marked "..."), control characters shown as
    '?'. Returns buffer, which the caller owns (S_EXCERPT_SIZE bytes).  */
static const char *
s_excerpt (const char *value, char *buffer)
{
    size_t max = S_EXCERPT_SIZE - 4;
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
s_reader_clear_row (s_reader_t *self)
{
    for (size_t i = 0; i < S_MAX_COLUMNS; i++) {
        free (self->fields [i]);
        self->fields [i] = NULL;
    }
    self->n_fields = 0;
}

static void
s_check_header (s_reader_t *self)
{
    char buffer [S_EXCERPT_SIZE];
    size_t line = self->row_line;
    size_t shared = self->n_fields < self->n_columns ? self->n_fields : self->n_columns;
    for (size_t i = 0; i < shared; i++)
        if (strcmp (self->fields [i], self->columns [i]) != 0) {
            s_fail (self, line, EL_ERR_PARSE,
                    "header column %zu is \"%s\", expected \"%s\"",
                    i + 1, s_excerpt (self->fields [i], buffer), self->columns [i]);
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
    s_reader_t *self = arg;
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
    s_reader_t *self = arg;
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
    s_reader_clear_row (self);
}

/*  libcsv trims spaces and tabs around unquoted fields unless told that
    nothing is a space; RFC 4180 keeps them.  */
static int
s_no_space (unsigned char c)
{
    return 0;
}

static void
s_csv_failed (s_reader_t *self, struct csv_parser *parser)
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

static void
s_reader_init (s_reader_t *self, const char *path, char *err, size_t errlen,
               const char *const *columns, size_t n_columns, s_row_fn *on_row, void *ctx)
{
    assert (n_columns <= S_MAX_COLUMNS);
    memset (self, 0, sizeof *self);
    self->path = path;
    self->err = err;
    self->errlen = errlen;
    self->columns = columns;
    self->n_columns = n_columns;
    self->on_row = on_row;
    self->ctx = ctx;
    if (err && errlen)
        *err = '\0';
}

/*  Reads the whole file through libcsv. Returns EL_OK, or the first error
    (already written to the caller's buffer).  */
static el_err_t
s_reader_run (s_reader_t *self)
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
    while (!self->rc && (len = getline (&line, &line_cap, file)) != -1) {
        self->line++;
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
    //  getline also returns -1 on a read error or when out of memory
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
    s_reader_clear_row (self);
    free (line);
    if (file)
        fclose (file);
    return self->rc;
}

/*  Parses a whole decimal number from 0 to UINT32_MAX: ASCII digits only,
    so no sign, space, hex or exponent. Reports a bad value on the row.  */
static el_err_t
s_parse_u32 (s_reader_t *reader, const char *text, const char *what, uint32_t *value_p)
{
    char buffer [S_EXCERPT_SIZE];
    size_t line = reader->row_line;
    if (*text == '\0')
        return s_fail (reader, line, EL_ERR_PARSE, "empty %s", what);
    if (*text == '-')
        return s_fail (reader, line, EL_ERR_PARSE, "negative %s \"%s\"",
                       what, s_excerpt (text, buffer));
    if (!isdigit ((unsigned char) *text))
        return s_fail (reader, line, EL_ERR_PARSE, "non-numeric %s \"%s\"",
                       what, s_excerpt (text, buffer));
    char *end;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (*end != '\0')
        return s_fail (reader, line, EL_ERR_PARSE, "non-numeric %s \"%s\"",
                       what, s_excerpt (text, buffer));
    if (errno == ERANGE || value > UINT32_MAX)
        return s_fail (reader, line, EL_ERR_PARSE, "%s \"%s\" out of range (at most %lu)",
                       what, s_excerpt (text, buffer), (unsigned long) UINT32_MAX);
    *value_p = (uint32_t) value;
    return EL_OK;
}

/*  --------------------------------------------------------------------------
    Results files                                                           */

enum {
    S_ONS_ID, S_CONSTITUENCY, S_COUNTRY, S_REGION,
    S_ELECTORATE, S_CANDIDATE, S_PARTY, S_VOTES, S_RESULTS_COLUMNS
};

static const char *const s_results_columns [S_RESULTS_COLUMNS] = {
    "ons_id", "constituency", "country", "region",
    "electorate", "candidate", "party", "votes"
};

typedef struct {
    results_t *results;     /* owned until handed to the caller */
    size_t seats_cap;
    size_t candidates_cap;  /* of the last seat, the only one still growing */
    size_t seat_line;       /* line the last seat's rows began on */
    strmap_t *index;        /* ons_id -> first line, keys borrowed from seats */
} s_results_ctx_t;

/*  A seat's text field must be the same on all its rows.  */
static el_err_t
s_check_same (s_reader_t *reader, const seat_result_t *seat, const char *what,
              const char *value, const char *first, size_t first_line)
{
    if (strcmp (value, first) == 0)
        return EL_OK;
    char value_buffer [S_EXCERPT_SIZE], first_buffer [S_EXCERPT_SIZE];
    return s_fail (reader, reader->row_line, EL_ERR_PARSE,
                   "seat %s %s \"%s\" differs from \"%s\" on line %zu",
                   seat->ons_id, what, s_excerpt (value, value_buffer),
                   s_excerpt (first, first_buffer), first_line);
}

/*  Starts a seat from its first row. The new seat is counted at once, so
    that results_destroy frees whatever was allocated if a strdup fails.  */
static seat_result_t *
s_results_add_seat (s_results_ctx_t *self, char **fields, uint32_t electorate)
{
    results_t *results = self->results;
    seat_result_t *seats = s_grow (results->seats, &self->seats_cap,
                                   results->n_seats, sizeof *seats);
    if (!seats)
        return NULL;
    results->seats = seats;
    seat_result_t *seat = &seats [results->n_seats++];
    memset (seat, 0, sizeof *seat);
    seat->electorate = electorate;
    seat->ons_id = strdup (fields [S_ONS_ID]);
    seat->name = strdup (fields [S_CONSTITUENCY]);
    seat->country = strdup (fields [S_COUNTRY]);
    seat->region = strdup (fields [S_REGION]);
    if (!seat->ons_id || !seat->name || !seat->country || !seat->region)
        return NULL;
    self->candidates_cap = 0;
    return seat;
}

static el_err_t
s_results_row (s_reader_t *reader, void *arg, char **fields)
{
    s_results_ctx_t *self = arg;
    results_t *results = self->results;
    size_t line = reader->row_line;
    char buffer [S_EXCERPT_SIZE];
    el_err_t rc;

    const char *ons_id = fields [S_ONS_ID];
    if (*ons_id == '\0')
        return s_fail (reader, line, EL_ERR_PARSE, "empty ons_id");
    if (*fields [S_PARTY] == '\0')
        return s_fail (reader, line, EL_ERR_PARSE, "empty party in seat %s",
                       s_excerpt (ons_id, buffer));
    uint32_t electorate, votes;
    rc = s_parse_u32 (reader, fields [S_ELECTORATE], "electorate", &electorate);
    if (rc)
        return rc;
    //  Turnout and shares divide by it; the wire refuses it too
    if (electorate == 0)
        return s_fail (reader, line, EL_ERR_PARSE, "zero electorate in seat %s",
                       s_excerpt (ons_id, buffer));
    rc = s_parse_u32 (reader, fields [S_VOTES], "votes", &votes);
    if (rc)
        return rc;

    seat_result_t *seat = results->n_seats ? &results->seats [results->n_seats - 1] : NULL;
    if (seat && strcmp (seat->ons_id, ons_id) == 0) {
        if (electorate != seat->electorate)
            return s_fail (reader, line, EL_ERR_PARSE,
                           "seat %s electorate %" PRIu32 " differs from %" PRIu32 " on line %zu",
                           seat->ons_id, electorate, seat->electorate, self->seat_line);
        if ((rc = s_check_same (reader, seat, "constituency", fields [S_CONSTITUENCY],
                                seat->name, self->seat_line))
        ||  (rc = s_check_same (reader, seat, "country", fields [S_COUNTRY],
                                seat->country, self->seat_line))
        ||  (rc = s_check_same (reader, seat, "region", fields [S_REGION],
                                seat->region, self->seat_line)))
            return rc;
    }
    else {
        //  An index of the ids seen, so that a seat reappearing after other
        //  seats is found in constant time whatever the file's size
        size_t first_line;
        if (strmap_get (self->index, ons_id, &first_line))
            return s_fail (reader, line, EL_ERR_PARSE,
                           "seat %s reappears after other seats (its rows began on line %zu);"
                           " a seat's rows must be contiguous",
                           s_excerpt (ons_id, buffer), first_line);
        seat = s_results_add_seat (self, fields, electorate);
        if (!seat || strmap_put (self->index, seat->ons_id, line))
            return s_fail (reader, line, EL_ERR_NOMEM, "out of memory");
        self->seat_line = line;
    }

    candidate_t *candidates = s_grow (seat->candidates, &self->candidates_cap,
                                      seat->n_candidates, sizeof *candidates);
    if (!candidates)
        return s_fail (reader, line, EL_ERR_NOMEM, "out of memory");
    seat->candidates = candidates;
    candidate_t *candidate = &candidates [seat->n_candidates++];
    memset (candidate, 0, sizeof *candidate);
    candidate->votes = votes;
    candidate->name = strdup (fields [S_CANDIDATE]);
    candidate->party = strdup (fields [S_PARTY]);
    if (!candidate->name || !candidate->party)
        return s_fail (reader, line, EL_ERR_NOMEM, "out of memory");
    return EL_OK;
}

el_err_t
results_load (const char *path, results_t **results_p, char *err, size_t errlen)
{
    assert (path);
    assert (results_p);
    s_results_ctx_t ctx = { 0 };
    s_reader_t reader;
    s_reader_init (&reader, path, err, errlen, s_results_columns, S_RESULTS_COLUMNS,
                   s_results_row, &ctx);
    el_err_t rc;

    ctx.results = calloc (1, sizeof *ctx.results);
    ctx.index = strmap_new_borrowed (64);
    if (!ctx.results || !ctx.index) {
        rc = s_fail (&reader, 0, EL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    rc = s_reader_run (&reader);
    if (rc)
        goto cleanup;
    *results_p = ctx.results;
    ctx.results = NULL;

cleanup:
    strmap_destroy (&ctx.index);
    results_destroy (&ctx.results);
    return rc;
}

void
results_destroy (results_t **results_p)
{
    if (!results_p || !*results_p)
        return;
    results_t *self = *results_p;
    for (size_t i = 0; i < self->n_seats; i++) {
        seat_result_t *seat = &self->seats [i];
        for (size_t j = 0; j < seat->n_candidates; j++) {
            free (seat->candidates [j].name);
            free (seat->candidates [j].party);
        }
        free (seat->candidates);
        free (seat->ons_id);
        free (seat->name);
        free (seat->country);
        free (seat->region);
    }
    free (self->seats);
    free (self);
    *results_p = NULL;
}

const seat_result_t *
results_find (const results_t *results, const char *ons_id)
{
    if (!results || !ons_id)
        return NULL;
    for (size_t i = 0; i < results->n_seats; i++)
        if (strcmp (results->seats [i].ons_id, ons_id) == 0)
            return &results->seats [i];
    return NULL;
}

/*  --------------------------------------------------------------------------
    Declaration-times files                                                 */

static const char *const s_times_columns [] = { "ons_id", "declared_at" };

typedef struct {
    declaration_times_t *times;     /* owned until handed to the caller */
    size_t cap;
    strmap_t *index;                /* ons_id -> line, keys borrowed from times */
} s_times_ctx_t;

static bool
s_is_leap (int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/*  True if text starts with the shape, where 'd' stands for an ASCII digit
    and anything else for itself.  */
static bool
s_has_shape (const char *text, const char *shape)
{
    for (; *shape; shape++, text++)
        if (*shape == 'd' ? !isdigit ((unsigned char) *text) : *text != *shape)
            return false;
    return true;
}

/*  Parses YYYY-MM-DDTHH:MM:SS[.fraction] followed by Z or +HH:MM / -HH:MM
    into Unix milliseconds. Returns NULL, or a phrase saying what is wrong.
    The shape is checked first, so sscanf only ever sees fixed-width digits. */
static const char *
s_parse_time (const char *text, int64_t *ms_p)
{
    static const int days_in_month [12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int year, month, day, hour, minute, second;
    if (!s_has_shape (text, "dddd-dd-ddTdd:dd:dd")
    ||  sscanf (text, "%4d-%2d-%2dT%2d:%2d:%2d",
                &year, &month, &day, &hour, &minute, &second) != 6)
        return "not YYYY-MM-DDTHH:MM:SS with a UTC offset";
    if (month < 1 || month > 12)
        return "month out of range";
    int month_days = days_in_month [month - 1] + (month == 2 && s_is_leap (year));
    if (day < 1 || day > month_days)
        return "day out of range";
    //  Unix time has no leap seconds, so 60 is refused too
    if (hour > 23 || minute > 59 || second > 59)
        return "time of day out of range";

    const char *p = text + 19;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0, scale = 100;
        for (p++; isdigit ((unsigned char) *p); p++, digits++) {
            ms += (*p - '0') * scale;
            scale /= 10;
        }
        if (digits == 0 || digits > 9)
            return "fraction of a second must have 1 to 9 digits";
    }
    int offset = 0;             /* seconds east of UTC */
    if (*p == 'Z')
        p++;
    else
    if ((*p == '+' || *p == '-') && s_has_shape (p + 1, "dd:dd")) {
        int offset_hours, offset_minutes;
        if (sscanf (p + 1, "%2d:%2d", &offset_hours, &offset_minutes) != 2)
            return "bad UTC offset";
        if (offset_hours > 23 || offset_minutes > 59)
            return "UTC offset out of range";
        offset = (offset_hours * 3600 + offset_minutes * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    }
    else
        return "no UTC offset (Z or +HH:MM)";
    if (*p != '\0')
        return "trailing characters after the UTC offset";

    struct tm tm = { 0 };
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    errno = 0;
    time_t seconds = timegm (&tm);
    if (seconds == (time_t) -1 && errno == EOVERFLOW)
        return "out of range for this system's time_t";
    *ms_p = ((int64_t) seconds - offset) * 1000 + ms;
    return NULL;
}

static el_err_t
s_times_row (s_reader_t *reader, void *arg, char **fields)
{
    s_times_ctx_t *self = arg;
    declaration_times_t *times = self->times;
    size_t line = reader->row_line;
    char buffer [S_EXCERPT_SIZE];

    const char *ons_id = fields [0];
    if (*ons_id == '\0')
        return s_fail (reader, line, EL_ERR_PARSE, "empty ons_id");
    //  A replay could not tell which time to use
    size_t first_line;
    if (strmap_get (self->index, ons_id, &first_line))
        return s_fail (reader, line, EL_ERR_PARSE, "seat %s listed twice (first on line %zu)",
                       s_excerpt (ons_id, buffer), first_line);
    int64_t declared_at_ms;
    const char *problem = s_parse_time (fields [1], &declared_at_ms);
    if (problem)
        return s_fail (reader, line, EL_ERR_PARSE, "bad declared_at \"%s\": %s",
                       s_excerpt (fields [1], buffer), problem);

    declaration_time_t *entries = s_grow (times->times, &self->cap,
                                          times->n_times, sizeof *entries);
    if (!entries)
        return s_fail (reader, line, EL_ERR_NOMEM, "out of memory");
    times->times = entries;
    declaration_time_t *entry = &entries [times->n_times++];
    entry->declared_at_ms = declared_at_ms;
    entry->ons_id = strdup (ons_id);
    if (!entry->ons_id || strmap_put (self->index, entry->ons_id, line))
        return s_fail (reader, line, EL_ERR_NOMEM, "out of memory");
    return EL_OK;
}

el_err_t
declaration_times_load (const char *path, declaration_times_t **times_p,
                        char *err, size_t errlen)
{
    assert (path);
    assert (times_p);
    s_times_ctx_t ctx = { 0 };
    s_reader_t reader;
    s_reader_init (&reader, path, err, errlen, s_times_columns, 2, s_times_row, &ctx);
    el_err_t rc;

    ctx.times = calloc (1, sizeof *ctx.times);
    ctx.index = strmap_new_borrowed (64);
    if (!ctx.times || !ctx.index) {
        rc = s_fail (&reader, 0, EL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    rc = s_reader_run (&reader);
    if (rc)
        goto cleanup;
    *times_p = ctx.times;
    ctx.times = NULL;

cleanup:
    strmap_destroy (&ctx.index);
    declaration_times_destroy (&ctx.times);
    return rc;
}

void
declaration_times_destroy (declaration_times_t **times_p)
{
    if (!times_p || !*times_p)
        return;
    declaration_times_t *self = *times_p;
    for (size_t i = 0; i < self->n_times; i++)
        free (self->times [i].ons_id);
    free (self->times);
    free (self);
    *times_p = NULL;
}


//  ---------------------------------------------------------------------
//  Declaration order

typedef struct {
    size_t seat;
    int64_t at_ms;
} s_timed_t;

static int
s_timed_cmp (const void *a, const void *b)
{
    const s_timed_t *x = a;
    const s_timed_t *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms? -1: 1;
    return (x->seat > y->seat) - (x->seat < y->seat);
}

el_err_t
results_declaration_order (const results_t *results, const declaration_times_t *times,
                           size_t *order, int64_t *at_ms)
{
    assert (results);
    assert (order);
    el_err_t rc = EL_ERR_NOMEM;
    strmap_t *index = strmap_new (times? times->n_times: 1);
    s_timed_t *timed = calloc (results->n_seats + 1, sizeof (s_timed_t));
    if (!index || !timed)
        goto cleanup;
    for (size_t t = 0; times && t < times->n_times; t++)
        if (strmap_put (index, times->times [t].ons_id, t))
            goto cleanup;
    for (size_t i = 0; i < results->n_seats; i++) {
        size_t t;
        timed [i].seat = i;
        timed [i].at_ms = strmap_get (index, results->seats [i].ons_id, &t)?
                          times->times [t].declared_at_ms: INT64_MAX;
    }
    //  The tie on equal times falls back on the seat index: a stable order
    qsort (timed, results->n_seats, sizeof (s_timed_t), s_timed_cmp);
    for (size_t i = 0; i < results->n_seats; i++) {
        order [i] = timed [i].seat;
        if (at_ms)
            at_ms [i] = timed [i].at_ms;
    }
    rc = EL_OK;

cleanup:
    strmap_destroy (&index);
    free (timed);
    return rc;
}
