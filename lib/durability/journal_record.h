/*  journal_record.h: what one record of the journal holds, and its codec.

    A record is a packed JournalRecord (proto/election.proto): the
    declaration exactly as it was accepted (so that a replay sends it again
    as it was), the sequence it was given, when it was received and from
    whom, and whether it was held for a second look instead of applied
    (README "The hold"). The aggregator writes records and reads them back to recover;
    ingest replays and audits them; the fuzzer feeds them to recovery.
    The file's header is a JournalHeader: the mode and election of the
    night, which every record must share (journal_record_belongs).
    journal.h frames and checks the payloads; this is what is inside.       */
#ifndef EL_JOURNAL_RECORD_H
#define EL_JOURNAL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "election.pb-c.h"
#include "err.h"
#include "journal.h"

/*  Packs the record of an accepted declaration (borrowed for the call),
    with its sequence and the term it was accepted in (0: no pair); held
    for a second look, not applied, when n_reasons is not 0
    (JournalRecord.held, with reasons[0 .. n_reasons-1]: recovery holds it
    again instead of applying it). Returns a malloc'd buffer of *size bytes
    (caller frees), or NULL on no memory. The caller appends it to the
    journal (journal_append), and sends the same bytes to a standby.        */
uint8_t *journal_record_pack (uint64_t sequence, uint64_t term, int64_t received_at_us,
                              const char *source, const Election__Declaration *declaration,
                              char *const *reasons, size_t n_reasons, size_t *size);

/*  Packs the record of an exit poll (JournalRecord.exit_poll, no
    declaration), as journal_record_pack does a declaration's.              */
uint8_t *journal_record_pack_exit_poll (uint64_t sequence, uint64_t term, int64_t received_at_us,
                                        const char *source, const Election__ExitPoll *poll,
                                        size_t *size);

/*  journal_record_pack for a declaration as it came on the wire: its
    packed bytes (declaration_size of them) go into the record as they are,
    not decoded and packed again. The record reads back as
    journal_record_pack's would, byte for byte when the declaration's bytes
    are what protobuf-c packs (the fields in the same order).               */
uint8_t *journal_record_pack_raw (uint64_t sequence, uint64_t term, int64_t received_at_us,
                                  const char *source, const void *declaration,
                                  size_t declaration_size, char *const *reasons,
                                  size_t n_reasons, size_t *size);

/*  Unpacks one record's payload (as journal_read delivers it). NULL if it
    does not decode or holds neither a declaration nor an exit poll (or
    both): a record is one or the other. A reader that only replays
    declarations skips a record whose declaration is NULL. Caller owns the result; free with journal_record_free.            */
Election__JournalRecord *journal_record_unpack (const uint8_t *payload, size_t size);
void journal_record_free (Election__JournalRecord **record_p);

/*  Packs a journal's header: the night it belongs to. Returns a malloc'd
    buffer of *size bytes (caller frees), or NULL on no memory.             */
uint8_t *journal_record_pack_header (Election__Mode mode, const char *election,
                                     int64_t created_at_us, size_t *size);

/*  Unpacks a header payload (as journal_read's on_header gets it). NULL if
    it does not decode. Caller owns the result; journal_record_free_header. */
Election__JournalHeader *journal_record_unpack_header (const uint8_t *payload, size_t size);
void journal_record_free_header (Election__JournalHeader **header_p);

/*  True if a header, or a record's declaration, is of this mode and
    election (either may be NULL: then only the record is checked, or only
    the header). Else false, with why ("a rehearsal journal of election
    uk-general") written to why.                                            */
bool journal_record_belongs (const Election__JournalHeader *header,
                             const Election__JournalRecord *record,
                             Election__Mode mode, const char *election,
                             char *why, size_t why_size);

/*  True if the file at path begins with a journal magic (any version): lets
    a command take either a journal or a results CSV. False if unreadable. */
bool journal_record_sniff (const char *path);

#endif
