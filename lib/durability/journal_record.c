/*  journal_record.c: see journal_record.h.  */
#include "journal_record.h"
#include "names.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  JournalRecord.declaration's number (proto/election.proto); test_journal
    checks journal_record_pack_raw against journal_record_pack byte for byte */
#define S_DECLARATION_FIELD 4

//  A record's own fields (what every kind of record has), packed into a
//  new buffer with whatever the caller set in record
static uint8_t *
s_pack (Election__JournalRecord *record, uint64_t sequence, uint64_t term,
        int64_t received_at_us, const char *source, size_t *size)
{
    record->has_sequence = true;
    record->sequence = sequence;
    record->has_term = term != 0;
    record->term = term;
    record->has_received_at_us = true;
    record->received_at_us = received_at_us;
    //  protobuf-c's structs take non-const pointers; packing only reads them
    record->source = (char *) source;
    *size = election__journal_record__get_packed_size (record);
    uint8_t *bytes = malloc (*size ? *size : 1);
    if (bytes)
        election__journal_record__pack (record, bytes);
    return bytes;
}

uint8_t *
journal_record_pack (uint64_t sequence, uint64_t term, int64_t received_at_us, const char *source,
                     const Election__Declaration *declaration, char *const *reasons,
                     size_t n_reasons, size_t *size)
{
    Election__JournalRecord record = ELECTION__JOURNAL_RECORD__INIT;
    if (n_reasons) {
        record.has_held = true;
        record.held = true;
        record.n_hold_reasons = n_reasons;
        record.hold_reasons = (char **) reasons;
    }
    record.declaration = (Election__Declaration *) declaration;
    return s_pack (&record, sequence, term, received_at_us, source, size);
}

uint8_t *
journal_record_pack_exit_poll (uint64_t sequence, uint64_t term, int64_t received_at_us,
                               const char *source, const Election__ExitPoll *poll, size_t *size)
{
    Election__JournalRecord record = ELECTION__JOURNAL_RECORD__INIT;
    record.exit_poll = (Election__ExitPoll *) poll;
    return s_pack (&record, sequence, term, received_at_us, source, size);
}

//  A varint of value at out; returns its bytes (at most 10)
static size_t
s_varint (uint64_t value, uint8_t *out)
{
    size_t n = 0;
    while (value >= 0x80) {
        out [n++] = (uint8_t) (value | 0x80);
        value >>= 7;
    }
    out [n++] = (uint8_t) value;
    return n;
}

uint8_t *
journal_record_pack_raw (uint64_t sequence, uint64_t term, int64_t received_at_us,
                         const char *source, const void *declaration, size_t declaration_size,
                         char *const *reasons, size_t n_reasons, size_t *size)
{
    //  The fields before the declaration's (1 to 3), the declaration (4) as
    //  it came, then those after it (40 and on): protobuf-c's order, and
    //  concatenated messages are one message
    Election__JournalRecord before = ELECTION__JOURNAL_RECORD__INIT;
    before.has_sequence = true;
    before.sequence = sequence;
    before.has_received_at_us = true;
    before.received_at_us = received_at_us;
    before.source = (char *) source;        //  packing only reads it
    Election__JournalRecord after = ELECTION__JOURNAL_RECORD__INIT;
    if (n_reasons) {
        after.has_held = true;
        after.held = true;
        after.n_hold_reasons = n_reasons;
        after.hold_reasons = (char **) reasons;
    }
    after.has_term = term != 0;
    after.term = term;
    uint8_t key [11];
    key [0] = (S_DECLARATION_FIELD << 3) | 2;    //  length-delimited
    size_t key_size = 1 + s_varint (declaration_size, key + 1);
    size_t before_size = election__journal_record__get_packed_size (&before);
    size_t after_size = election__journal_record__get_packed_size (&after);
    *size = before_size + key_size + declaration_size + after_size;
    uint8_t *bytes = malloc (*size);
    if (!bytes)
        return NULL;
    election__journal_record__pack (&before, bytes);
    memcpy (bytes + before_size, key, key_size);
    if (declaration_size)
        memcpy (bytes + before_size + key_size, declaration, declaration_size);
    election__journal_record__pack (&after, bytes + before_size + key_size + declaration_size);
    return bytes;
}

Election__JournalRecord *
journal_record_unpack (const uint8_t *payload, size_t size)
{
    Election__JournalRecord *record = election__journal_record__unpack (NULL, size, payload);
    //  One or the other: a declaration, or an exit poll
    if (record && !record->declaration == !record->exit_poll)
        journal_record_free (&record);
    return record;
}

void
journal_record_free (Election__JournalRecord **record_p)
{
    if (!record_p || !*record_p)
        return;
    election__journal_record__free_unpacked (*record_p, NULL);
    *record_p = NULL;
}

uint8_t *
journal_record_pack_header (Election__Mode mode, const char *election, int64_t created_at_us,
                            size_t *size)
{
    Election__JournalHeader header = ELECTION__JOURNAL_HEADER__INIT;
    header.has_mode = true;
    header.mode = mode;
    header.election_id = (char *) election;     //  packing only reads it
    header.has_created_at_us = true;
    header.created_at_us = created_at_us;
    *size = election__journal_header__get_packed_size (&header);
    uint8_t *bytes = malloc (*size ? *size : 1);
    if (bytes)
        election__journal_header__pack (&header, bytes);
    return bytes;
}

Election__JournalHeader *
journal_record_unpack_header (const uint8_t *payload, size_t size)
{
    return election__journal_header__unpack (NULL, size, payload);
}

void
journal_record_free_header (Election__JournalHeader **header_p)
{
    if (!header_p || !*header_p)
        return;
    election__journal_header__free_unpacked (*header_p, NULL);
    *header_p = NULL;
}

//  Quotes a name from a file for a message: printable ASCII, shortened
static void
s_quote (const char *text, char *buf, size_t size)
{
    size_t n = 0;
    for (; text && *text && n + 1 < size && n < 64; text++)
        buf [n++] = *text >= 0x20 && *text < 0x7F ? *text : '?';
    buf [n] = 0;
}

static bool
s_belongs (const char *what, bool has_mode, Election__Mode their_mode, const char *their_election,
           Election__Mode mode, const char *election, char *why, size_t why_size)
{
    if (has_mode && their_mode == mode && their_election && strcmp (their_election, election) == 0)
        return true;
    char quoted [72];
    s_quote (their_election ? their_election : "(none)", quoted, sizeof quoted);
    snprintf (why, why_size, "%s of a %s night of election \"%s\", not of this %s night of \"%s\"",
              what, has_mode ? names_mode (their_mode) : "unspecified", quoted,
              names_mode (mode), election);
    return false;
}

bool
journal_record_belongs (const Election__JournalHeader *header, const Election__JournalRecord *record,
                        Election__Mode mode, const char *election, char *why, size_t why_size)
{
    if (header && !s_belongs ("its header is that", header->has_mode, header->mode,
                              header->election_id, mode, election, why, why_size))
        return false;
    if (record && record->declaration) {
        const Election__Declaration *d = record->declaration;
        char what [64];
        snprintf (what, sizeof what, "record seq %llu is a declaration",
                  (unsigned long long) record->sequence);
        if (!s_belongs (what, d->has_mode, d->mode, d->election_id, mode, election, why, why_size))
            return false;
    }
    if (record && record->exit_poll) {
        const Election__ExitPoll *poll = record->exit_poll;
        char what [64];
        snprintf (what, sizeof what, "record seq %llu is an exit poll",
                  (unsigned long long) record->sequence);
        if (!s_belongs (what, poll->has_mode, poll->mode, poll->election_id, mode, election,
                        why, why_size))
            return false;
    }
    return true;
}

bool
journal_record_sniff (const char *path)
{
    char magic [JOURNAL_MAGIC_SIZE] = { 0 };
    FILE *file = fopen (path, "rb");
    if (!file)
        return false;
    size_t got = fread (magic, 1, sizeof magic, file);
    fclose (file);
    return got == sizeof magic && (memcmp (magic, JOURNAL_MAGIC, JOURNAL_MAGIC_SIZE) == 0
                               || memcmp (magic, JOURNAL_MAGIC_V1, JOURNAL_MAGIC_SIZE) == 0);
}
