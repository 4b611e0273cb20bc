/*  replica.c: see replica.h.  */
#include "replica.h"
#include "journal_record.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct replica {
    journal_t *journal;
    replica_config_t config;
    replica_apply_fn *apply;
    replica_rebuild_fn *rebuild;
    void *arg;
    uint64_t *terms;            /* terms [i]: the term of sequence i + 1 */
    size_t records;
    size_t capacity;
    //  The active's view of its standby
    bool standby;               /* a standby is there */
    bool matched;               /* its journal is ours up to acked */
    uint64_t acked;             /* it durably holds sequences 1 .. acked */
    uint64_t probe;             /* not matched: the prev sequence to try next */
    bool copy;                  /* every batch waits for it */
    bool in_flight;             /* an append awaits its answer */
    bool taken;                 /* the standby: the last append was journalled, to apply */
    uint64_t flight_prev;
    uint64_t flight_last;
    int64_t sent_at;            /* mono ms */
};

replica_t *
replica_new (journal_t *journal, const replica_config_t *config,
             replica_apply_fn *apply, replica_rebuild_fn *rebuild, void *arg)
{
    replica_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->journal = journal;
    self->config = *config;
    if (!self->config.chunk)
        self->config.chunk = 512;
    self->apply = apply;
    self->rebuild = rebuild;
    self->arg = arg;
    return self;
}

void
replica_destroy (replica_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->terms);
    free (*self_p);
    *self_p = NULL;
}

int
replica_note (replica_t *self, uint64_t sequence, uint64_t term)
{
    if (sequence != self->records + 1)
        return -1;
    if (self->records == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 1024;
        uint64_t *terms = realloc (self->terms, capacity * sizeof *terms);
        if (!terms)
            return -1;
        self->terms = terms;
        self->capacity = capacity;
    }
    self->terms [self->records++] = term;
    return 0;
}

uint64_t
replica_last_sequence (const replica_t *self)
{
    return self->records;
}

static uint64_t
s_term_at (const replica_t *self, uint64_t sequence)
{
    return sequence && sequence <= self->records ? self->terms [sequence - 1] : 0;
}

uint64_t
replica_last_term (const replica_t *self)
{
    return s_term_at (self, self->records);
}

void
replica_heard_standby (replica_t *self, uint64_t last_sequence)
{
    if (self->standby)
        return;
    self->standby = true;
    self->matched = false;
    self->copy = false;
    self->in_flight = false;
    self->acked = 0;
    self->probe = last_sequence < self->records ? last_sequence : self->records;
}

void
replica_forget (replica_t *self)
{
    self->standby = false;
    self->matched = false;
    self->copy = false;
    self->in_flight = false;
}

bool
replica_has_standby (const replica_t *self)
{
    return self->standby;
}

bool
replica_copy (const replica_t *self)
{
    return self->copy;
}

uint64_t
replica_behind (const replica_t *self)
{
    uint64_t held = self->matched ? self->acked : self->probe;
    return self->records > held ? self->records - held : 0;
}

uint64_t
replica_acked (const replica_t *self)
{
    return self->matched ? self->acked : 0;
}

replica_event_t
replica_check_copy (replica_t *self)
{
    if (self->standby && self->matched && !self->in_flight && !self->copy
    &&  self->acked == self->records) {
        self->copy = true;
        return REPLICA_COPY;
    }
    return REPLICA_QUIET;
}

//  Sends an append of records after prev, and waits for its answer
static void
s_send (replica_t *self, peer_t *peer, const Election__PeerMessage *base, uint64_t prev,
        uint8_t *const *records, const size_t *sizes, size_t count, int64_t now)
{
    ProtobufCBinaryData data [count ? count : 1];
    for (size_t i = 0; i < count; i++)
        data [i] = (ProtobufCBinaryData) { sizes [i], records [i] };
    Election__PeerMessage message = *base;
    message.has_append = true;
    message.append = true;
    message.has_prev_sequence = true;
    message.prev_sequence = prev;
    message.has_prev_term = true;
    message.prev_term = s_term_at (self, prev);
    message.n_records = count;
    message.records = data;
    //  Dropped for want of a connection, it is found unanswered in time
    peer_send (peer, &message);
    self->in_flight = true;
    self->flight_prev = prev;
    self->flight_last = prev + count;
    self->sent_at = now;
}

void
replica_send_batch (replica_t *self, peer_t *peer, const Election__PeerMessage *base,
                    uint8_t *const *records, const size_t *sizes, size_t count, int64_t now)
{
    if (self->copy && !self->in_flight)
        s_send (self, peer, base, self->records, records, sizes, count, now);
}

void
replica_batch_failed (replica_t *self)
{
    //  Its answer will name a prev no longer in flight, and be dropped
    self->in_flight = false;
}

void
replica_on_answer (replica_t *self, const Election__PeerMessage *answer)
{
    if (!self->standby || !self->in_flight || answer->prev_sequence != self->flight_prev)
        return;         //  stale: an answer to an append we no longer wait for
    self->in_flight = false;
    if (answer->appended) {
        self->matched = true;
        self->acked = answer->last_sequence < self->flight_last ? answer->last_sequence
                                                                : self->flight_last;
        return;
    }
    //  The journals part before flight_prev: try further back (Raft's
    //  shortcut: skip the standby's whole conflicting term at once)
    self->matched = false;
    self->copy = false;
    uint64_t probe = answer->last_sequence;
    if (answer->conflict_term) {
        probe = answer->conflict_first ? answer->conflict_first - 1 : 0;
        for (uint64_t seq = self->flight_prev; seq-- > 1;)
            if (s_term_at (self, seq) == answer->conflict_term) {
                probe = seq;
                break;
            }
    }
    if (probe >= self->flight_prev)
        probe = self->flight_prev ? self->flight_prev - 1 : 0;
    self->probe = probe;
}

replica_event_t
replica_pump (replica_t *self, peer_t *peer, const Election__PeerMessage *base, int64_t now)
{
    if (!self->standby)
        return REPLICA_QUIET;
    if (self->in_flight) {
        if (now - self->sent_at < self->config.copy_timeout_ms)
            return REPLICA_QUIET;
        replica_forget (self);
        return REPLICA_LOST;
    }
    if (self->copy)
        return REPLICA_QUIET;               //  batches send their own records
    uint64_t prev = self->matched ? self->acked : self->probe;
    if (self->matched && prev >= self->records)
        return REPLICA_QUIET;               //  caught up: a copy at the next batch
    size_t count = self->records - prev < self->config.chunk
                 ? (size_t) (self->records - prev) : self->config.chunk;
    uint8_t **records = calloc (count ? count : 1, sizeof *records);
    size_t *sizes = calloc (count ? count : 1, sizeof *sizes);
    size_t got = 0;
    char err [256];
    while (records && sizes && got < count) {
        el_err_t rc = journal_get (self->journal, (size_t) prev + got, &records [got], &sizes [got],
                                   err, sizeof err);
        if (rc) {
            log_error ("AGG401", "cannot read the journal to catch the standby up: %s", err);
            break;
        }
        got++;
    }
    if (records && sizes && got == count)
        s_send (self, peer, base, prev, records, sizes, count, now);
    for (size_t i = 0; records && i < got; i++)
        free (records [i]);
    free (records);
    free (sizes);
    if (!self->in_flight) {
        replica_forget (self);
        return REPLICA_LOST;
    }
    return REPLICA_QUIET;
}

int64_t
replica_deadline (const replica_t *self)
{
    if (!self->standby)
        return -1;
    if (self->in_flight)
        return self->sent_at + self->config.copy_timeout_ms;
    if (self->copy || (self->matched && self->acked >= self->records))
        return -1;
    return 0;                               //  a chunk to send now
}

//  The first sequence of the run of term `term` that ends at `sequence`
static uint64_t
s_term_start (const replica_t *self, uint64_t sequence, uint64_t term)
{
    while (sequence > 1 && s_term_at (self, sequence - 1) == term)
        sequence--;
    return sequence;
}

int
replica_on_append (replica_t *self, const Election__PeerMessage *append,
                   Election__PeerMessage *answer, char *err, size_t errlen)
{
    uint64_t prev = append->prev_sequence;
    self->taken = false;
    answer->has_prev_sequence = true;
    answer->prev_sequence = prev;
    answer->has_appended = true;
    answer->appended = false;
    if (prev > self->records) {
        answer->has_conflict_term = true;
        answer->conflict_term = 0;          //  ours is shorter: ask from its end
    }
    else
    if (prev && s_term_at (self, prev) != append->prev_term) {
        answer->has_conflict_term = true;
        answer->conflict_term = s_term_at (self, prev);
        answer->has_conflict_first = true;
        answer->conflict_first = s_term_start (self, prev, answer->conflict_term);
    }
    else {
        //  Ours up to prev is the active's: what we hold beyond it was
        //  never acknowledged (the active would hold it), so it goes
        if (self->records > prev) {
            log_warn ("AGG402", "standby: dropping records %llu-%llu, which the active does not hold "
                      "(never acknowledged)", (unsigned long long) prev + 1,
                      (unsigned long long) self->records);
            if (journal_truncate (self->journal, (size_t) prev, err, errlen))
                return -1;
            self->records = (size_t) prev;
            if (self->rebuild (self->arg)) {
                snprintf (err, errlen, "cannot rebuild the state from the journal");
                return -1;
            }
        }
        uint64_t terms [append->n_records ? append->n_records : 1];
        for (size_t i = 0; i < append->n_records; i++) {
            const ProtobufCBinaryData *data = &append->records [i];
            Election__JournalRecord *record = journal_record_unpack (data->data, data->len);
            bool next = record && record->sequence == prev + 1 + i;
            terms [i] = record ? record->term : 0;
            journal_record_free (&record);
            if (!next || journal_append (self->journal, data->data, data->len)) {
                journal_discard (self->journal);
                snprintf (err, errlen, "record %zu of an append after %llu is not sequence %llu",
                          i + 1, (unsigned long long) prev, (unsigned long long) prev + 1 + i);
                return -1;
            }
        }
        if (journal_commit (self->journal, err, errlen))
            return -1;
        for (size_t i = 0; i < append->n_records; i++)
            if (replica_note (self, prev + 1 + i, terms [i])) {
                snprintf (err, errlen, "out of memory noting record %llu", (unsigned long long) prev + 1 + i);
                return -1;
            }
        answer->appended = true;
        self->taken = true;
    }
    answer->has_last_sequence = true;
    answer->last_sequence = self->records;
    answer->has_last_term = true;
    answer->last_term = replica_last_term (self);
    return 0;
}

int
replica_apply (replica_t *self, const Election__PeerMessage *append, char *err, size_t errlen)
{
    if (!self->taken)
        return 0;
    self->taken = false;
    for (size_t i = 0; i < append->n_records; i++) {
        const ProtobufCBinaryData *data = &append->records [i];
        if (self->apply (self->arg, data->data, data->len)) {
            snprintf (err, errlen, "cannot apply record %llu",
                      (unsigned long long) append->prev_sequence + 1 + i);
            return -1;
        }
    }
    return 0;
}
