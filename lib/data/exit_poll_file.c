/*  exit_poll_file.c: see exit_poll_file.h.  */
#include "exit_poll_file.h"
#include "csv_reader.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_columns [] = { "party", "seats" };

typedef struct {
    exit_poll_t *poll;
    size_t cap;
    const parties_t *parties;
    size_t seats_total;
} s_ctx_t;

static el_err_t
s_row (csv_reader_t *reader, void *arg, char **fields)
{
    s_ctx_t *ctx = arg;
    exit_poll_t *poll = ctx->poll;
    const char *code = fields [0];
    char excerpt [CSV_EXCERPT_SIZE];
    if (!*code)
        return csv_reader_fail (reader, EL_ERR_PARSE, "no party code");
    if (strlen (code) > EXIT_POLL_MAX_CODE)
        return csv_reader_fail (reader, EL_ERR_PARSE, "party code \"%s\" is over %d bytes",
                                csv_reader_excerpt (code, excerpt), EXIT_POLL_MAX_CODE);
    if (ctx->parties && !parties_find (ctx->parties, code)) {
        const party_entry_t *match = parties_match (ctx->parties, code);
        if (match)
            return csv_reader_fail (reader, EL_ERR_PARSE, "\"%s\" is not a party code: "
                                    "write %s", csv_reader_excerpt (code, excerpt), match->code);
        return csv_reader_fail (reader, EL_ERR_PARSE, "party \"%s\" is not in the party register",
                                csv_reader_excerpt (code, excerpt));
    }
    for (size_t i = 0; i < poll->n_rows; i++)
        if (strcmp (poll->rows [i].party, code) == 0)
            return csv_reader_fail (reader, EL_ERR_PARSE, "%s is given twice", poll->rows [i].party);
    uint32_t seats;
    el_err_t rc = csv_reader_u32 (reader, fields [1], "seats", &seats);
    if (rc)
        return rc;
    if (ctx->seats_total && poll->seats + seats > ctx->seats_total)
        return csv_reader_fail (reader, EL_ERR_PARSE, "the seats add up to %llu so far, more "
                                "than the %zu seats there are",
                                (unsigned long long) (poll->seats + seats), ctx->seats_total);
    exit_poll_row_t *rows = csv_reader_grow (poll->rows, &ctx->cap, poll->n_rows, sizeof *rows);
    if (!rows)
        return csv_reader_fail (reader, EL_ERR_NOMEM, "out of memory");
    poll->rows = rows;
    snprintf (rows [poll->n_rows].party, sizeof rows [poll->n_rows].party, "%s", code);
    rows [poll->n_rows++].seats = seats;
    poll->seats += seats;
    return EL_OK;
}

el_err_t
exit_poll_load (const char *path, const parties_t *parties, size_t seats_total,
                exit_poll_t **self_p, char *err, size_t errlen)
{
    *self_p = NULL;
    s_ctx_t ctx = { calloc (1, sizeof (exit_poll_t)), 0, parties, seats_total };
    if (!ctx.poll) {
        snprintf (err, errlen, "%s: out of memory", path);
        return EL_ERR_NOMEM;
    }
    el_err_t rc = csv_reader_read (path, s_columns, 2, s_row, &ctx, err, errlen);
    if (rc) {
        exit_poll_destroy (&ctx.poll);
        return rc;
    }
    *self_p = ctx.poll;
    return EL_OK;
}

void
exit_poll_destroy (exit_poll_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->rows);
    free (*self_p);
    *self_p = NULL;
}
