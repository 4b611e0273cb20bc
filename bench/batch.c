/*  batch.c: see bench.h. Declarations packed once, sent many times.  */
#include "bench.h"
#include "clock.h"
#include "declaration.h"
#include <stdlib.h>
#include <string.h>

void
batch_free (batch_t *batch)
{
    free (batch->arena);
    free (batch->offset);
    free (batch->size);
    free (batch->ons_id);
    memset (batch, 0, sizeof *batch);
}

int
batch_init (batch_t *batch, size_t n)
{
    memset (batch, 0, sizeof *batch);
    batch->offset = malloc (n * sizeof (size_t));
    batch->size = malloc (n * sizeof (size_t));
    batch->ons_id = malloc (n * sizeof (char *));
    batch->capacity = n * 160 + 4096;
    batch->arena = malloc (batch->capacity);
    if (!batch->offset || !batch->size || !batch->ons_id || !batch->arena) {
        batch_free (batch);
        return -1;
    }
    return 0;
}

int
batch_add (batch_t *batch, const Election__Declaration *decl, const char *ons_id)
{
    size_t size = election__declaration__get_packed_size (decl);
    if (batch->used + size > batch->capacity) {
        size_t capacity = (batch->used + size) * 2;
        uint8_t *arena = realloc (batch->arena, capacity);
        if (!arena)
            return -1;
        batch->arena = arena;
        batch->capacity = capacity;
    }
    election__declaration__pack (decl, batch->arena + batch->used);
    batch->offset [batch->n] = batch->used;
    batch->size [batch->n] = size;
    batch->ons_id [batch->n] = ons_id;
    batch->used += size;
    batch->n++;
    return 0;
}

//  Packs a real seat (a results file) as its full declaration, or a rush
int
batch_seat (batch_t *batch, const seat_result_t *seat, bool rush)
{
    size_t n = seat->n_candidates;
    Election__Candidate cands [n ? n : 1];
    Election__Candidate *pointers [n ? n : 1];
    declaration_opts_t opts = {
        BENCH_ELECTION, "bench", ELECTION__MODE__MODE_REHEARSAL, 1,
        rush ? ELECTION__DECLARATION_KIND__KIND_RUSH : ELECTION__DECLARATION_KIND__KIND_RESULT,
        ELECTION__REVISION_REASON__REASON_NONE, clock_now_us () / 1000
    };
    Election__Declaration decl;
    declaration_from_seat (seat, &opts, &decl, cands, pointers);
    decl.has_request_id = true;
    decl.request_id = batch->n + 1;
    return batch_add (batch, &decl, seat->ons_id);
}
