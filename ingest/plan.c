/*  plan.c: see plan.h.  */
#include "plan.h"
#include "declaration.h"
#include "journal.h"
#include "journal_record.h"
#include "results_file.h"
#include "strmap.h"
#include "times_file.h"
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_NIGHT_MS (8LL * 3600 * 1000)  /* a night without times: 22:00 to 06:00 */

static int
s_add (plan_t *self, const char *label, const ProtobufCMessage *message, int64_t night_ms)
{
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 1024;
        plan_item_t *items = realloc (self->items, capacity * sizeof *items);
        if (!items)
            return -1;
        self->items = items;
        self->capacity = capacity;
    }
    plan_item_t *item = &self->items [self->count];
    item->size = protobuf_c_message_get_packed_size (message);
    item->bytes = malloc (item->size ? item->size : 1);
    if (!item->bytes)
        return -1;
    protobuf_c_message_pack (message, item->bytes);
    snprintf (item->label, sizeof item->label, "%s", label);
    item->night_ms = night_ms;
    self->count++;
    return 0;
}

int
plan_add (plan_t *self, const char *label, const Election__Declaration *declaration,
          int64_t night_ms)
{
    return s_add (self, label, &declaration->base, night_ms);
}

int
plan_stamp (plan_item_t *item, int64_t declared_at_ms)
{
    Election__Declaration *decl = election__declaration__unpack (NULL, item->size, item->bytes);
    if (!decl)
        return -1;
    decl->has_declared_at_ms = true;
    decl->declared_at_ms = declared_at_ms;
    size_t size = election__declaration__get_packed_size (decl);
    uint8_t *bytes = malloc (size ? size : 1);
    if (bytes) {
        election__declaration__pack (decl, bytes);
        free (item->bytes);
        item->bytes = bytes;
        item->size = size;
    }
    election__declaration__free_unpacked (decl, NULL);
    return bytes ? 0 : -1;
}

void
plan_free (plan_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        free (self->items [i].bytes);
    free (self->items);
    *self = (plan_t) { 0 };
}

static int
s_by_night (const void *a, const void *b)
{
    int64_t left = ((const plan_item_t *) a)->night_ms, right = ((const plan_item_t *) b)->night_ms;
    return (left > right) - (left < right);
}

void
plan_sort (plan_t *self)
{
    qsort (self->items, self->count, sizeof *self->items, s_by_night);
}

//  Builds the Declaration of one seat of a results file
static int
s_add_seat (plan_t *self, const plan_options_t *options, const seat_result_t *seat,
            int64_t night_ms)
{
    Election__Candidate candidates [seat->n_candidates ? seat->n_candidates : 1];
    Election__Candidate *pointers [seat->n_candidates ? seat->n_candidates : 1];
    uint32_t revision = options->revision ? options->revision
                      : options->revision_of (options->revision_arg, seat->ons_id);
    //  A revision above the first is a correction unless said otherwise
    Election__RevisionReason reason = options->reason == ELECTION__REVISION_REASON__REASON_NONE
                                   && revision > 1 ? ELECTION__REVISION_REASON__REASON_CORRECTION
                                                   : options->reason;
    declaration_opts_t opts = { options->election, options->source, options->mode,
                                revision, options->kind, reason, night_ms };
    Election__Declaration decl;
    declaration_from_seat (seat, &opts, &decl, candidates, pointers);
    decl.constituency = seat->name;
    decl.has_confirmed = options->confirmed;
    decl.confirmed = options->confirmed;
    char label [96];
    snprintf (label, sizeof label, "%s %.48s rev %u", seat->ons_id, seat->name, revision);
    return s_add (self, label, &decl.base, night_ms);
}

//  The declaration-times file beside a results file (ge2017.csv ->
//  declaration_times_2017.csv), if there is one
static char *
s_sibling_times (const char *path)
{
    char *copy = strdup (path), *copy2 = strdup (path);
    char *result = NULL;
    if (copy && copy2) {
        const char *base = basename (copy);
        const char *dir = dirname (copy2);
        size_t len = strlen (base);
        if (len > 6 && strncmp (base, "ge", 2) == 0 && strcmp (base + len - 4, ".csv") == 0
        &&  asprintf (&result, "%s/declaration_times_%.*s.csv", dir, (int) (len - 6), base + 2) > 0
        &&  access (result, R_OK) != 0) {
            free (result);
            result = NULL;
        }
    }
    free (copy);
    free (copy2);
    return result;
}

int
plan_csv (plan_t *self, const plan_options_t *options, const char *path)
{
    char err [512];
    results_t *results = NULL;
    declaration_times_t *times = NULL;
    strmap_t *time_index = NULL;
    char *sibling = NULL;
    int rc = -1;
    if (results_load (path, &results, err, sizeof err)) {
        fprintf (stderr, "ingest: %s\n", err);
        goto cleanup;
    }
    const char *times_path = options->times_path;
    if (!times_path && options->replay && (sibling = s_sibling_times (path)))
        times_path = sibling;
    if (times_path) {
        if (declaration_times_load (times_path, &times, err, sizeof err)) {
            fprintf (stderr, "ingest: %s\n", err);
            goto cleanup;
        }
        time_index = strmap_new_borrowed (times->n_times);
        for (size_t i = 0; time_index && i < times->n_times; i++)
            strmap_put (time_index, times->times [i].ons_id, i);
        if (options->replay)
            fprintf (stderr, "ingest: declaration times from %s\n", times_path);
    }
    //  Seats with no known time are spread evenly over a night
    int64_t start = times && times->n_times ? times->times [0].declared_at_ms
                                            : (int64_t) time (NULL) * 1000;
    for (size_t i = 0; times && i < times->n_times; i++)
        if (times->times [i].declared_at_ms < start)
            start = times->times [i].declared_at_ms;
    size_t matched = 0;
    for (size_t i = 0; i < results->n_seats; i++) {
        const seat_result_t *seat = &results->seats [i];
        if (options->seat && strcmp (seat->ons_id, options->seat) != 0)
            continue;
        size_t index;
        int64_t night = time_index && strmap_get (time_index, seat->ons_id, &index)
                      ? times->times [index].declared_at_ms
                      : start + (int64_t) ((double) S_NIGHT_MS * i / results->n_seats);
        if (s_add_seat (self, options, seat, night)) {
            fprintf (stderr, "ingest: out of memory\n");
            goto cleanup;
        }
        matched++;
    }
    if (options->seat && !matched) {
        fprintf (stderr, "ingest: no seat %s in %s\n", options->seat, path);
        goto cleanup;
    }
    rc = 0;
cleanup:
    free (sibling);
    strmap_destroy (&time_index);
    declaration_times_destroy (&times);
    results_destroy (&results);
    return rc;
}

typedef struct {
    plan_t *plan;
    const plan_options_t *options;
    bool out_of_memory;
} s_journal_ctx_t;

//  A journal record becomes a declaration again: its figures, revision and
//  timing as recorded, in this run's mode and election
static int
s_add_record (void *arg, const uint8_t *payload, size_t size)
{
    s_journal_ctx_t *ctx = arg;
    Election__JournalRecord *record = journal_record_unpack (payload, size);
    if (!record) {
        fprintf (stderr, "ingest: undecodable journal record skipped\n");
        return 0;
    }
    if (!record->declaration) {
        //  An exit poll: an editor's, not a count centre's (ingest exit-poll)
        fprintf (stderr, "ingest: journal seq %llu is an exit poll: not replayed\n",
                 (unsigned long long) record->sequence);
        journal_record_free (&record);
        return 0;
    }
    Election__Declaration *decl = record->declaration;
    char *recorded_election = decl->election_id;
    decl->election_id = (char *) ctx->options->election;    //  borrowed for the pack only
    decl->has_mode = true;
    decl->mode = ctx->options->mode;
    if (ctx->options->confirmed) {
        decl->has_confirmed = true;
        decl->confirmed = true;
    }
    char label [96];
    snprintf (label, sizeof label, "%s rev %u (journal seq %llu)", decl->ons_id ? decl->ons_id : "?",
              decl->revision, (unsigned long long) record->sequence);
    int rc = s_add (ctx->plan, label, &decl->base, record->received_at_us / 1000);
    decl->election_id = recorded_election;      //  ours to free, the borrowed one not
    journal_record_free (&record);
    ctx->out_of_memory = rc != 0;
    return rc;      //  non-zero stops the reading
}

int
plan_journal (plan_t *self, const plan_options_t *options, const char *path)
{
    s_journal_ctx_t ctx = { self, options, false };
    journal_scan_t scan;
    char err [512];
    journal_reader_t reader = { NULL, s_add_record, &ctx };
    if (journal_read (path, &reader, &scan, err, sizeof err)) {
        fprintf (stderr, "ingest: %s\n", err);
        return -1;
    }
    if (ctx.out_of_memory) {
        fprintf (stderr, "ingest: out of memory\n");
        return -1;
    }
    fprintf (stderr, "ingest: replaying %zu journal records from %s\n", scan.records, path);
    return 0;
}
