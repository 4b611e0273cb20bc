/*  journal.h: the aggregator's append-only journal of accepted declarations.

    File layout: an 8-byte magic "ELJRNL01", then records, each
        u32 length (little-endian) | u32 CRC-32 of the payload (zlib) | payload
    where the payload is a packed JournalRecord (journal_record.h): this
    module frames and checks payloads, and never looks inside one.

    Writing is group-committed: journal_append buffers records in memory and
    journal_commit writes the batch and fdatasyncs once, so an aggregator
    acknowledges a batch only after one fsync covers all of it. On a failed
    commit, journal_commit truncates the file back to the last good commit,
    so the file never holds a record that was not acknowledged as durable.

    Reading (recovery, replay, audit) stops at the end of the last whole
    record. A short or checksum-failing record at the very end is a torn
    write from a crash: it is cut. One in the middle is corruption.         */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"

/*  The first bytes of every journal file (the layout above).  */
#define JOURNAL_MAGIC       "ELJRNL01"
#define JOURNAL_MAGIC_SIZE  8

typedef struct journal journal_t;

typedef struct {
    size_t records;         /* whole records read */
    uint64_t good_bytes;    /* file offset after the last whole record */
    uint64_t cut_bytes;     /* bytes of a torn tail (cut when opening for writing) */
    bool corrupt_middle;    /* a bad record with more data after it */
    uint64_t corrupt_at;    /* its offset */
} journal_scan_t;

/*  Called for each whole record's payload, in order. Return non-zero to stop. */
typedef int (journal_record_fn) (void *arg, const uint8_t *payload, size_t size);

/*  Reads every whole record of the file at path (read-only; for replay and
    audit). Returns EL_OK, EL_ERR_IO (unreadable), EL_ERR_PARSE (not a
    journal), or EL_ERR_CORRUPT (a bad record in the middle; records before
    it were delivered). A missing file is EL_ERR_IO. fn may be NULL.        */
el_err_t journal_read (const char *path, journal_record_fn *fn, void *arg,
                       journal_scan_t *scan, char *err, size_t errlen);

/*  Opens (creating if absent) the journal for appending, after reading it
    through fn to rebuild state. A torn tail is cut (scan->cut_bytes says how
    much). Corruption in the middle refuses to open (EL_ERR_CORRUPT) unless
    truncate_corrupt, which cuts the file at the bad record after saving the
    cut bytes to PATH.corrupt. Caller owns the result; journal_close.         */
el_err_t journal_open (const char *path, bool truncate_corrupt, journal_record_fn *fn,
                       void *arg, journal_scan_t *scan, journal_t **self_p,
                       char *err, size_t errlen);

void journal_close (journal_t **self_p);

/*  Buffers one record for the next commit. EL_ERR_NOMEM on no memory.  */
el_err_t journal_append (journal_t *self, const void *payload, size_t size);

/*  Writes the buffered records and fdatasyncs. EL_OK means they are on disk.
    On failure nothing buffered is kept, the file is cut back to the last
    good commit, and err says why (e.g. "No space left on device").          */
el_err_t journal_commit (journal_t *self, char *err, size_t errlen);

/*  Drops the records buffered since the last commit (a batch that cannot
    be made whole must not be half written).                                */
void journal_discard (journal_t *self);

/*  Records buffered since the last commit.  */
size_t journal_pending (const journal_t *self);

#endif
