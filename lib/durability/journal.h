/*  journal.h: the aggregator's append-only journal of accepted declarations.

    File layout (version 2): the 8-byte magic "ELJRNL02", one header frame,
    then one frame per record. A frame is
        u32 kind | u32 length | u32 CRC-32 of the payload | u32 CRC-32 of
        the 12 bytes before it | payload
    (little-endian; kind "JHDR" for the header, "JREC" for a record). The
    header's payload says whose journal it is (journal_record.h packs it:
    mode and election); a record's is a packed JournalRecord. This module
    frames and checks payloads, and never looks inside one.

    Why two CRCs and a kind: every field of a frame is checked before it is
    believed, so a flipped bit is found wherever it falls. In version 1 the
    length was not checked, and a flipped bit in a length in the middle of
    the file read as a torn tail: acknowledged records were cut silently.

    Writing is group-committed: journal_append buffers records in memory and
    journal_commit writes the batch and fdatasyncs once, so an aggregator
    acknowledges a batch only after one fsync covers all of it. On a failed
    commit, journal_commit truncates the file back to the last good commit,
    so the file never holds a record that was not acknowledged as durable.

    Reading (recovery, replay, audit) tells a torn tail from corruption.
    Only the end of the file may be torn, by a crash during a commit that
    was therefore never acknowledged: a frame cut short, or a bad frame that
    no whole frame follows (a zero-filled or half-written tail). A bad frame
    that one flipped bit explains (CRC-32 locates single-bit errors), or one
    that a whole frame follows, is corruption: never cut without being told
    to. Version 1 files are still read (and upgraded to version 2 when
    opened for writing), with version 1's weaker checks.

    One writer at a time: journal_open takes an exclusive flock on the file
    and refuses to open a journal another process holds.                    */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"

/*  The first bytes of every journal file (the layout above).  */
#define JOURNAL_MAGIC       "ELJRNL02"
#define JOURNAL_MAGIC_V1    "ELJRNL01"
#define JOURNAL_MAGIC_SIZE  8
/*  The bytes of a frame before its payload.  */
#define JOURNAL_FRAME_SIZE  16
/*  The largest header payload a journal may have.  */
#define JOURNAL_MAX_HEADER  4096

typedef struct journal journal_t;

typedef struct {
    unsigned version;       /* 1 or 2; 0 for an empty file */
    size_t records;         /* whole records read */
    uint64_t good_bytes;    /* file offset after the last whole record */
    uint64_t cut_bytes;     /* bytes of a torn tail (cut when opening for writing) */
    bool corrupt_middle;    /* a bad frame that is not a torn tail */
    uint64_t corrupt_at;    /* its offset */
    bool stopped;           /* a reader's function asked to stop */
} journal_scan_t;

/*  Called with a payload, in file order. Return non-zero to stop reading. */
typedef int (journal_record_fn) (void *arg, const uint8_t *payload, size_t size);

/*  What reading hands over, and to whom. Any function may be NULL.  */
typedef struct {
    journal_record_fn *on_header;   /* the header's payload, first (version 2 only) */
    journal_record_fn *on_record;   /* each whole record's payload, in order */
    void *arg;
} journal_reader_t;

/*  Reads every whole record of the file at path (read-only, no lock; for
    replay and audit). Returns EL_OK (also when the reader stopped: see
    scan->stopped), EL_ERR_IO (unreadable; a missing file too), EL_ERR_PARSE
    (not a journal), or EL_ERR_CORRUPT (a bad frame that is not a torn
    tail; the records before it were delivered). reader may be NULL.        */
el_err_t journal_read (const char *path, const journal_reader_t *reader,
                       journal_scan_t *scan, char *err, size_t errlen);

typedef struct {
    const void *header;         /* payload of a new file's header (borrowed) */
    size_t header_size;         /* at most JOURNAL_MAX_HEADER */
    bool truncate_corrupt;      /* cut at a corrupt frame, keeping the cut bytes */
} journal_options_t;

/*  Opens (creating if absent, mode 0600, its directory synced) the journal
    for appending, after reading it through reader to rebuild state. Takes an
    exclusive lock: another process's journal is refused (EL_ERR_IO, "in
    use"). A torn tail is cut (scan->cut_bytes says how much). Corruption
    refuses to open (EL_ERR_CORRUPT) unless truncate_corrupt, which cuts the
    file at the bad frame after saving the cut bytes to PATH.corrupt. A
    reader that stops refuses too (EL_ERR_INVALID), and the file is left as
    it was: the reader says why. A version 1 file is rewritten as version 2
    with options->header (the old file kept as PATH.v1).
    Caller owns the result; journal_close.                                    */
el_err_t journal_open (const char *path, const journal_options_t *options,
                       const journal_reader_t *reader, journal_scan_t *scan,
                       journal_t **self_p, char *err, size_t errlen);

void journal_close (journal_t **self_p);

/*  Reads the committed records again through the open journal, and nothing
    past the last good commit (a rebuild after a failed commit must not see
    what that commit left behind). EL_ERR_IO or EL_ERR_CORRUPT if the file
    no longer holds what was committed.                                      */
el_err_t journal_replay (journal_t *self, const journal_reader_t *reader,
                         char *err, size_t errlen);

/*  Committed records: how many, and a copy of one (index 0 is the first;
    a standby catching up is sent them). journal_get: the payload in a new
    buffer (caller frees) in *payload; EL_ERR_NOT_FOUND past the end,
    EL_ERR_IO or EL_ERR_CORRUPT if the file no longer holds it.             */
size_t journal_records (const journal_t *self);
el_err_t journal_get (journal_t *self, size_t index, uint8_t **payload, size_t *size,
                      char *err, size_t errlen);

/*  Cuts the journal back to its first `keep` committed records, synced (a
    rejoining standby drops what its active does not hold: records that were
    never acknowledged). Nothing may be buffered (EL_ERR_INVALID).          */
el_err_t journal_truncate (journal_t *self, size_t keep, char *err, size_t errlen);

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
