/*  results_file.c: see results_file.h.  */
#include "results_file.h"
#include "csv_reader.h"
#include "strmap.h"
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    bool votes;             /* a results file; false: nominations (no votes) */
} s_results_ctx_t;

/*  A seat's text field must be the same on all its rows.  */
static el_err_t
s_check_same (csv_reader_t *reader, const seat_result_t *seat, const char *what,
              const char *value, const char *first, size_t first_line)
{
    if (strcmp (value, first) == 0)
        return EL_OK;
    char value_buffer [CSV_EXCERPT_SIZE], first_buffer [CSV_EXCERPT_SIZE];
    return csv_reader_fail (reader, EL_ERR_PARSE,
                   "seat %s %s \"%s\" differs from \"%s\" on line %zu",
                   seat->ons_id, what, csv_reader_excerpt (value, value_buffer),
                   csv_reader_excerpt (first, first_buffer), first_line);
}

/*  Starts a seat from its first row. The new seat is counted at once, so
    that results_destroy frees whatever was allocated if a strdup fails.  */
static seat_result_t *
s_results_add_seat (s_results_ctx_t *self, char **fields, uint32_t electorate)
{
    results_t *results = self->results;
    seat_result_t *seats = csv_reader_grow (results->seats, &self->seats_cap,
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
s_results_row (csv_reader_t *reader, void *arg, char **fields)
{
    s_results_ctx_t *self = arg;
    size_t line = csv_reader_line (reader);
    //  Made with the first row: the reader refuses a file without one
    if (!self->results
    &&  (!(self->results = calloc (1, sizeof *self->results))
    ||   !(self->index = strmap_new_borrowed (64))))
        return csv_reader_fail (reader, EL_ERR_NOMEM, "out of memory");
    results_t *results = self->results;
    char buffer [CSV_EXCERPT_SIZE];
    el_err_t rc;

    const char *ons_id = fields [S_ONS_ID];
    if (*ons_id == '\0')
        return csv_reader_fail (reader, EL_ERR_PARSE, "empty ons_id");
    if (*fields [S_PARTY] == '\0')
        return csv_reader_fail (reader, EL_ERR_PARSE, "empty party in seat %s",
                       csv_reader_excerpt (ons_id, buffer));
    uint32_t electorate, votes;
    rc = csv_reader_u32 (reader, fields [S_ELECTORATE], "electorate", &electorate);
    if (rc)
        return rc;
    //  Turnout and shares divide by it; the wire refuses it too
    if (electorate == 0)
        return csv_reader_fail (reader, EL_ERR_PARSE, "zero electorate in seat %s",
                       csv_reader_excerpt (ons_id, buffer));
    votes = 0;
    if (self->votes && (rc = csv_reader_u32 (reader, fields [S_VOTES], "votes", &votes)))
        return rc;

    seat_result_t *seat = results->n_seats ? &results->seats [results->n_seats - 1] : NULL;
    if (seat && strcmp (seat->ons_id, ons_id) == 0) {
        if (electorate != seat->electorate)
            return csv_reader_fail (reader, EL_ERR_PARSE,
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
            return csv_reader_fail (reader, EL_ERR_PARSE,
                           "seat %s reappears after other seats (its rows began on line %zu);"
                           " a seat's rows must be contiguous",
                           csv_reader_excerpt (ons_id, buffer), first_line);
        seat = s_results_add_seat (self, fields, electorate);
        if (!seat || strmap_put (self->index, seat->ons_id, line))
            return csv_reader_fail (reader, EL_ERR_NOMEM, "out of memory");
        self->seat_line = line;
    }

    candidate_t *candidates = csv_reader_grow (seat->candidates, &self->candidates_cap,
                                      seat->n_candidates, sizeof *candidates);
    if (!candidates)
        return csv_reader_fail (reader, EL_ERR_NOMEM, "out of memory");
    seat->candidates = candidates;
    candidate_t *candidate = &candidates [seat->n_candidates++];
    memset (candidate, 0, sizeof *candidate);
    candidate->votes = votes;
    candidate->name = strdup (fields [S_CANDIDATE]);
    candidate->party = strdup (fields [S_PARTY]);
    if (!candidate->name || !candidate->party)
        return csv_reader_fail (reader, EL_ERR_NOMEM, "out of memory");
    return EL_OK;
}

static el_err_t
s_load (const char *path, bool votes, results_t **results_p, char *err, size_t errlen)
{
    assert (path);
    assert (results_p);
    s_results_ctx_t ctx = { .votes = votes };
    //  votes is the last column: a nominations file has the others
    el_err_t rc = csv_reader_read (path, s_results_columns, votes ? S_RESULTS_COLUMNS : S_VOTES,
                                   s_results_row, &ctx, err, errlen);
    if (rc == EL_OK) {
        *results_p = ctx.results;
        ctx.results = NULL;
    }
    strmap_destroy (&ctx.index);
    results_destroy (&ctx.results);
    return rc;
}

el_err_t
results_load (const char *path, results_t **results_p, char *err, size_t errlen)
{
    return s_load (path, true, results_p, err, errlen);
}

el_err_t
results_load_nominations (const char *path, results_t **results_p, char *err, size_t errlen)
{
    return s_load (path, false, results_p, err, errlen);
}

//  ---------------------------------------------------------------------
//  Writing

//  One field, quoted only where RFC 4180 needs it (a comma, a quote, a line
//  end), as in the files we ship: libcsv's csv_fwrite quotes every field,
//  and a derived file should read, and diff, like its source
static void
s_write_field (FILE *out, const char *text, bool last)
{
    if (strpbrk (text, ",\"\r\n")) {
        fputc ('"', out);
        for (const char *c = text; *c; c++) {
            if (*c == '"')
                fputc ('"', out);
            fputc (*c, out);
        }
        fputc ('"', out);
    }
    else
        fputs (text, out);
    fputc (last ? '\n' : ',', out);
}

void
results_write_header (FILE *out, results_columns_t columns)
{
    size_t n = columns == RESULTS_NO_VOTES ? S_VOTES : S_RESULTS_COLUMNS;
    for (size_t i = 0; i < n; i++)
        s_write_field (out, s_results_columns [i], i + 1 == n);
}

void
results_write_seat (FILE *out, const seat_result_t *seat, results_columns_t columns)
{
    char electorate [16], votes [16];
    snprintf (electorate, sizeof electorate, "%" PRIu32, seat->electorate);
    for (size_t i = 0; i < seat->n_candidates; i++) {
        const candidate_t *candidate = &seat->candidates [i];
        s_write_field (out, seat->ons_id, false);
        s_write_field (out, seat->name, false);
        s_write_field (out, seat->country, false);
        s_write_field (out, seat->region, false);
        s_write_field (out, electorate, false);
        s_write_field (out, candidate->name ? candidate->name : "", false);
        s_write_field (out, candidate->party, columns == RESULTS_NO_VOTES);
        if (columns == RESULTS_NO_VOTES)
            continue;
        snprintf (votes, sizeof votes, "%" PRIu32, candidate->votes);
        s_write_field (out, columns == RESULTS_EMPTY_VOTES ? "" : votes, true);
    }
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
    strmap_t *index = strmap_new_borrowed (times? times->n_times: 1);
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
