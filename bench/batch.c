/*  batch.c: see bench.h. Declarations packed once, sent many times.  */
#include "bench.h"
#include "chain.h"
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

//  Room for one more declaration of size bytes at the end of the arena;
//  the caller writes it there, then calls s_commit
static uint8_t *
s_reserve (batch_t *batch, size_t size)
{
    if (batch->used + size > batch->capacity) {
        size_t capacity = (batch->used + size) * 2;
        uint8_t *arena = realloc (batch->arena, capacity);
        if (!arena)
            return NULL;
        batch->arena = arena;
        batch->capacity = capacity;
    }
    return batch->arena + batch->used;
}

static void
s_commit (batch_t *batch, size_t size, const char *ons_id)
{
    batch->offset [batch->n] = batch->used;
    batch->size [batch->n] = size;
    batch->ons_id [batch->n] = ons_id;
    batch->used += size;
    batch->n++;
}

int
batch_add (batch_t *batch, const Election__Declaration *decl, const char *ons_id)
{
    size_t size = election__declaration__get_packed_size (decl);
    uint8_t *at = s_reserve (batch, size);
    if (!at)
        return -1;
    election__declaration__pack (decl, at);
    s_commit (batch, size, ons_id);
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

//  `count` raw chain declarations of `size` bytes (chain.h), indices from
//  first. Declaration i asks for floor((i+1)u/d) - floor(iu/d) updates, u
//  of every d the real pipeline sent: the same total, evenly spread.
int
batch_chain (batch_t *batch, const traffic_t *traffic, size_t size, uint64_t first, size_t count)
{
    uint64_t u = traffic->updates, d = traffic->declarations;
    if (!d || !u)
        return -1;
    if (size < CHAIN_DECL_MIN)
        size = CHAIN_DECL_MIN;
    if (batch_init (batch, count))
        return -1;
    for (size_t i = 0; i < count; i++) {
        uint64_t updates = (i + 1) * u / d - i * u / d;
        uint8_t *at = s_reserve (batch, size);
        if (!at) {
            batch_free (batch);
            return -1;
        }
        memset (at, 0, size);
        chain_put_u64 (at, first + i);
        at [8] = (uint8_t) (updates < 1 ? 1 : updates > CHAIN_MAX_UPDATES ? CHAIN_MAX_UPDATES : updates);
        s_commit (batch, size, "");
    }
    return 0;
}
