/*  journal_record.c: see journal_record.h.  */
#include "journal_record.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A record, held for a second look when n_reasons is not 0
static uint8_t *
s_pack (uint64_t sequence, int64_t received_at_us, const char *source,
        const Election__Declaration *declaration, char *const *reasons, size_t n_reasons,
        size_t *size)
{
    Election__JournalRecord record = ELECTION__JOURNAL_RECORD__INIT;
    if (n_reasons) {
        record.has_held = true;
        record.held = true;
        record.n_hold_reasons = n_reasons;
        record.hold_reasons = (char **) reasons;
    }
    record.has_sequence = true;
    record.sequence = sequence;
    record.has_received_at_us = true;
    record.received_at_us = received_at_us;
    //  protobuf-c's structs take non-const pointers; packing only reads them
    record.source = (char *) source;
    record.declaration = (Election__Declaration *) declaration;
    *size = election__journal_record__get_packed_size (&record);
    uint8_t *bytes = malloc (*size ? *size : 1);
    if (bytes)
        election__journal_record__pack (&record, bytes);
    return bytes;
}

uint8_t *
journal_record_pack (uint64_t sequence, int64_t received_at_us, const char *source,
                     const Election__Declaration *declaration, size_t *size)
{
    return s_pack (sequence, received_at_us, source, declaration, NULL, 0, size);
}

static el_err_t
s_append (journal_t *journal, uint64_t sequence, int64_t received_at_us, const char *source,
          const Election__Declaration *declaration, char *const *reasons, size_t n_reasons)
{
    size_t size;
    uint8_t *bytes = s_pack (sequence, received_at_us, source, declaration, reasons, n_reasons,
                             &size);
    if (!bytes)
        return EL_ERR_NOMEM;
    el_err_t rc = journal_append (journal, bytes, size);
    free (bytes);
    return rc;
}

el_err_t
journal_record_append (journal_t *journal, uint64_t sequence, int64_t received_at_us,
                       const char *source, const Election__Declaration *declaration)
{
    return s_append (journal, sequence, received_at_us, source, declaration, NULL, 0);
}

el_err_t
journal_record_append_held (journal_t *journal, uint64_t sequence, int64_t received_at_us,
                            const char *source, const Election__Declaration *declaration,
                            char *const *reasons, size_t n_reasons)
{
    return s_append (journal, sequence, received_at_us, source, declaration, reasons, n_reasons);
}

Election__JournalRecord *
journal_record_unpack (const uint8_t *payload, size_t size)
{
    Election__JournalRecord *record = election__journal_record__unpack (NULL, size, payload);
    if (record && !record->declaration)
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

bool
journal_record_sniff (const char *path)
{
    char magic [JOURNAL_MAGIC_SIZE] = { 0 };
    FILE *file = fopen (path, "rb");
    if (!file)
        return false;
    size_t got = fread (magic, 1, sizeof magic, file);
    fclose (file);
    return got == sizeof magic && memcmp (magic, JOURNAL_MAGIC, JOURNAL_MAGIC_SIZE) == 0;
}
