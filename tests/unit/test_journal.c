/*  test_journal: the durable core on real files. What goes in comes back
    byte for byte, header first; a torn tail (cut short, zero-filled, or
    the file grown with nothing written) is cut and reported; a bad frame
    in the middle is refused, or with truncate_corrupt cut and kept in
    PATH.corrupt; every single flipped bit of a committed file refuses (it
    is never taken for a torn tail); a version 1 file is read, and upgraded
    when opened for writing; a second writer is locked out; a commit that
    fails (the file-size limit, RLIMIT_FSIZE, stands in for a full disk so
    no root is needed) leaves the file exactly as the last good commit left
    it, and a replay reads only what was committed; committed records are
    read again one by one, and cut back (a standby rejoining its active).   */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>
#include "journal.h"
#include "journal_record.h"

#define S_MAX_RECORDS   64
#define S_HEADER        "night of the test"

typedef struct {
    char dir [512];
    char path [600];
    char corrupt [620];
    char old [620];
    char fresh [620];
} fixture_t;

//  What a reader was handed: copies of the payloads, in order
typedef struct {
    uint8_t *payload [S_MAX_RECORDS];
    size_t size [S_MAX_RECORDS];
    size_t count;
    size_t stop_after;          /* non-zero: ask the reader to stop here */
    char header [64];           /* the header's payload, as text */
    size_t headers;
} s_seen_t;

static int
s_collect (void *arg, const uint8_t *payload, size_t size)
{
    s_seen_t *seen = arg;
    assert_true (seen->count < S_MAX_RECORDS);
    seen->payload [seen->count] = malloc (size ? size : 1);
    assert_non_null (seen->payload [seen->count]);
    memcpy (seen->payload [seen->count], payload, size);
    seen->size [seen->count++] = size;
    return seen->stop_after && seen->count == seen->stop_after;
}

static int
s_collect_header (void *arg, const uint8_t *payload, size_t size)
{
    s_seen_t *seen = arg;
    assert_true (size < sizeof seen->header);
    memcpy (seen->header, payload, size);
    seen->header [size] = 0;
    seen->headers++;
    return 0;
}

static void
s_seen_free (s_seen_t *seen)
{
    for (size_t i = 0; i < seen->count; i++)
        free (seen->payload [i]);
    memset (seen, 0, sizeof *seen);
}

static const journal_options_t s_options = { S_HEADER, sizeof S_HEADER - 1, false };
static const journal_options_t s_truncating = { S_HEADER, sizeof S_HEADER - 1, true };

//  Reads or opens with s_collect as the reader
static el_err_t
s_read (const fixture_t *fx, s_seen_t *seen, journal_scan_t *scan)
{
    char err [256] = "";
    journal_reader_t reader = { s_collect_header, s_collect, seen };
    return journal_read (fx->path, &reader, scan, err, sizeof err);
}

static el_err_t
s_open (const fixture_t *fx, const journal_options_t *options, s_seen_t *seen,
        journal_scan_t *scan, journal_t **journal)
{
    char err [256] = "";
    journal_reader_t reader = { s_collect_header, s_collect, seen };
    return journal_open (fx->path, options, seen ? &reader : NULL, scan, journal, err, sizeof err);
}

//  Record i's payload: its own length and bytes, so a swap or a shift shows
static size_t
s_payload (size_t i, uint8_t *buf, size_t max)
{
    size_t size = (i * 37) % 300 + (i == 0 ? 0 : 1);      //  record 0 is empty
    assert_true (size <= max);
    for (size_t j = 0; j < size; j++)
        buf [j] = (uint8_t) (i * 131 + j * 7 + 1);
    return size;
}

static void
s_append (journal_t *journal, size_t i)
{
    uint8_t buf [512];
    size_t size = s_payload (i, buf, sizeof buf);
    assert_int_equal (journal_append (journal, buf, size), EL_OK);
}

//  Records first .. first+count-1 were delivered, in order, byte for byte
static void
s_expect (const s_seen_t *seen, size_t from, size_t first, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint8_t buf [512];
        size_t size = s_payload (first + i, buf, sizeof buf);
        assert_int_equal (seen->size [from + i], size);
        assert_memory_equal (seen->payload [from + i], buf, size);
    }
}

static uint8_t *
s_file (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    struct stat st;
    assert_int_equal (fstat (fileno (file), &st), 0);
    *size = (size_t) st.st_size;
    uint8_t *data = malloc (*size ? *size : 1);
    assert_non_null (data);
    assert_int_equal (fread (data, 1, *size, file), *size);
    fclose (file);
    return data;
}

static void
s_write_file (const char *path, const void *data, size_t size)
{
    FILE *file = fopen (path, "wb");
    assert_non_null (file);
    assert_int_equal (fwrite (data, 1, size, file), size);
    assert_int_equal (fclose (file), 0);
}

static size_t
s_file_size (const char *path)
{
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    return (size_t) st.st_size;
}

static bool
s_file_is (const char *path, const uint8_t *data, size_t size)
{
    size_t now_size;
    uint8_t *now = s_file (path, &now_size);
    bool same = now_size == size && memcmp (now, data, size) == 0;
    free (now);
    return same;
}

static uint32_t
s_u32 (const uint8_t *at)
{
    return at [0] | at [1] << 8 | at [2] << 16 | (uint32_t) at [3] << 24;
}

//  The file offset where record i (0-based) of a version 2 journal starts
static size_t
s_offset (const uint8_t *data, size_t size, size_t i)
{
    size_t at = JOURNAL_MAGIC_SIZE;
    for (size_t frame = 0; frame <= i; frame++) {     //  the header's frame, then i records
        assert_true (at + JOURNAL_FRAME_SIZE <= size);
        at += JOURNAL_FRAME_SIZE + s_u32 (data + at + 4);
    }
    return at;
}

//  A journal at the fixture's path holding records 0 .. count-1, closed
static void
s_make (const fixture_t *fx, size_t count)
{
    journal_t *journal = NULL;
    journal_scan_t scan;
    char err [256] = "";
    assert_int_equal (s_open (fx, &s_options, NULL, &scan, &journal), EL_OK);
    for (size_t i = 0; i < count; i++)
        s_append (journal, i);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    journal_close (&journal);
}

static int
s_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    if (!fx)
        return -1;
    snprintf (fx->dir, sizeof fx->dir, "%s/journal-XXXXXX", EL_TEST_TMP);
    if (!mkdtemp (fx->dir)) {
        free (fx);
        return -1;
    }
    snprintf (fx->path, sizeof fx->path, "%s/night.journal", fx->dir);
    snprintf (fx->corrupt, sizeof fx->corrupt, "%s.corrupt", fx->path);
    snprintf (fx->old, sizeof fx->old, "%s.v1", fx->path);
    snprintf (fx->fresh, sizeof fx->fresh, "%s.v2-new", fx->path);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    unlink (fx->path);
    unlink (fx->corrupt);
    unlink (fx->old);
    unlink (fx->fresh);
    rmdir (fx->dir);
    free (fx);
    return 0;
}

static void
test_round_trip (void **state)
{
    fixture_t *fx = *state;
    journal_t *journal = NULL;
    journal_scan_t scan;
    char err [256] = "";
    s_seen_t seen = { 0 };

    //  A new file: nothing to read, magic and header written at once, for
    //  its owner's eyes only
    assert_int_equal (s_open (fx, &s_options, &seen, &scan, &journal), EL_OK);
    assert_non_null (journal);
    assert_int_equal (seen.count, 0);
    assert_int_equal (scan.records, 0);
    size_t empty = JOURNAL_MAGIC_SIZE + JOURNAL_FRAME_SIZE + strlen (S_HEADER);
    assert_int_equal (s_file_size (fx->path), empty);
    struct stat st;
    assert_int_equal (stat (fx->path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);

    //  Nothing reaches the file before the commit
    for (size_t i = 0; i < 5; i++)
        s_append (journal, i);
    assert_int_equal (journal_pending (journal), 5);
    assert_int_equal (s_file_size (fx->path), empty);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    assert_int_equal (journal_pending (journal), 0);
    size_t five = s_file_size (fx->path);
    assert_true (five > empty + 5 * JOURNAL_FRAME_SIZE);

    //  A discarded batch never reaches the file
    s_append (journal, 99);
    journal_discard (journal);
    assert_int_equal (journal_pending (journal), 0);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    assert_int_equal (s_file_size (fx->path), five);

    //  A second batch follows the first
    s_append (journal, 5);
    s_append (journal, 6);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    journal_close (&journal);
    assert_null (journal);

    assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
    assert_int_equal (seen.headers, 1);
    assert_string_equal (seen.header, S_HEADER);
    assert_int_equal (scan.version, 2);
    assert_int_equal (seen.count, 7);
    assert_int_equal (scan.records, 7);
    assert_int_equal (scan.good_bytes, s_file_size (fx->path));
    assert_int_equal (scan.cut_bytes, 0);
    assert_false (scan.corrupt_middle);
    assert_false (scan.stopped);
    s_expect (&seen, 0, 0, 7);
    s_seen_free (&seen);

    //  Reopened: the header and records come back to rebuild state, appends
    //  go after them, and the header is the file's, not the new options'
    journal_options_t other = { "another night", 13, false };
    assert_int_equal (s_open (fx, &other, &seen, &scan, &journal), EL_OK);
    assert_string_equal (seen.header, S_HEADER);
    assert_int_equal (seen.count, 7);
    s_append (journal, 7);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    journal_close (&journal);
    s_seen_free (&seen);
    assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
    assert_string_equal (seen.header, S_HEADER);
    assert_int_equal (seen.count, 8);
    s_expect (&seen, 0, 0, 8);
    s_seen_free (&seen);

    //  A reader may stop early: reading says so
    seen.stop_after = 3;
    assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
    assert_int_equal (seen.count, 3);
    assert_true (scan.stopped);
    s_seen_free (&seen);
}

static void
test_a_reader_that_stops_refuses_the_open (void **state)
{
    fixture_t *fx = *state;
    journal_t *journal = NULL;
    journal_scan_t scan;
    s_seen_t seen = { 0 };
    s_make (fx, 4);
    size_t size;
    uint8_t *whole = s_file (fx->path, &size);
    //  Even a torn tail stays as it was: the file is someone else's
    uint8_t *torn = malloc (size + 5);
    assert_non_null (torn);
    memcpy (torn, whole, size);
    memcpy (torn + size, "JREC?", 5);
    s_write_file (fx->path, torn, size + 5);
    seen.stop_after = 2;
    assert_int_equal (s_open (fx, &s_options, &seen, &scan, &journal), EL_ERR_INVALID);
    assert_null (journal);
    assert_true (scan.stopped);
    assert_true (s_file_is (fx->path, torn, size + 5));
    s_seen_free (&seen);
    free (torn);
    free (whole);
}

static void
test_one_writer_at_a_time (void **state)
{
    fixture_t *fx = *state;
    journal_t *first = NULL, *second = NULL;
    journal_scan_t scan;
    char err [256] = "";
    journal_reader_t none = { NULL, NULL, NULL };
    assert_int_equal (s_open (fx, &s_options, NULL, &scan, &first), EL_OK);
    s_append (first, 1);
    assert_int_equal (journal_commit (first, err, sizeof err), EL_OK);
    size_t size;
    uint8_t *before = s_file (fx->path, &size);

    //  A second writer (here in the same process: flock is per open file)
    //  is refused, and writes nothing
    assert_int_equal (journal_open (fx->path, &s_options, &none, &scan, &second, err, sizeof err),
                      EL_ERR_IO);
    assert_null (second);
    assert_non_null (strstr (err, "in use"));
    assert_true (s_file_is (fx->path, before, size));

    //  Readers (audit, replay) need no lock
    assert_int_equal (journal_read (fx->path, &none, &scan, err, sizeof err), EL_OK);
    assert_int_equal (scan.records, 1);

    //  Once the first has closed, the journal is free
    journal_close (&first);
    assert_int_equal (journal_open (fx->path, &s_options, &none, &scan, &second, err, sizeof err),
                      EL_OK);
    assert_int_equal (scan.records, 1);
    journal_close (&second);
    free (before);
}

static void
test_not_a_journal (void **state)
{
    fixture_t *fx = *state;
    journal_t *journal = NULL;
    journal_scan_t scan;
    char err [256] = "";
    journal_reader_t none = { NULL, NULL, NULL };

    assert_int_equal (journal_read (fx->path, &none, &scan, err, sizeof err), EL_ERR_IO);
    assert_non_null (strstr (err, fx->path));

    //  Another file is never taken for a journal, nor overwritten
    const char text [] = "ons_id,constituency\n";
    s_write_file (fx->path, text, sizeof text - 1);
    assert_int_equal (journal_read (fx->path, &none, &scan, err, sizeof err), EL_ERR_PARSE);
    assert_non_null (strstr (err, "not a journal"));
    assert_int_equal (s_open (fx, &s_truncating, NULL, &scan, &journal), EL_ERR_PARSE);
    assert_null (journal);
    assert_true (s_file_is (fx->path, (const uint8_t *) text, sizeof text - 1));

    //  A crash while creating a file leaves a prefix of its start (magic,
    //  header frame): cut, and started afresh
    const size_t ends [] = { 4, JOURNAL_MAGIC_SIZE, JOURNAL_MAGIC_SIZE + 5,
                             JOURNAL_MAGIC_SIZE + JOURNAL_FRAME_SIZE + 3 };
    unlink (fx->path);
    s_make (fx, 0);
    size_t size;
    uint8_t *start = s_file (fx->path, &size);
    for (size_t i = 0; i < sizeof ends / sizeof ends [0]; i++) {
        s_write_file (fx->path, start, ends [i]);
        s_seen_t seen = { 0 };
        assert_int_equal (s_open (fx, &s_options, &seen, &scan, &journal), EL_OK);
        assert_int_equal (scan.cut_bytes, ends [i]);
        assert_int_equal (scan.records, 0);
        assert_int_equal (seen.headers, 0);
        s_append (journal, 1);
        assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
        journal_close (&journal);
        assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
        assert_string_equal (seen.header, S_HEADER);
        assert_int_equal (seen.count, 1);
        s_expect (&seen, 0, 1, 1);
        s_seen_free (&seen);
    }
    free (start);
}

//  The file's records 0..2 are whole and the rest is torn: reading says so
//  and cuts nothing; opening for writing cuts it and appends where it was
static void
s_expect_torn (const fixture_t *fx, size_t last, size_t end)
{
    journal_t *journal = NULL;
    journal_scan_t scan;
    char err [256] = "";
    s_seen_t seen = { 0 };
    assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
    assert_int_equal (seen.count, 3);
    assert_int_equal (scan.records, 3);
    assert_int_equal (scan.good_bytes, last);
    assert_int_equal (scan.cut_bytes, end - last);
    assert_false (scan.corrupt_middle);
    assert_int_equal (s_file_size (fx->path), end);      //  reading cuts nothing
    s_seen_free (&seen);

    assert_int_equal (s_open (fx, &s_options, &seen, &scan, &journal), EL_OK);
    assert_int_equal (seen.count, 3);
    assert_int_equal (scan.cut_bytes, end - last);
    assert_int_equal (s_file_size (fx->path), last);
    s_seen_free (&seen);
    s_append (journal, 10);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    journal_close (&journal);
    assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
    assert_int_equal (seen.count, 4);
    assert_int_equal (scan.cut_bytes, 0);
    s_expect (&seen, 0, 0, 3);
    s_expect (&seen, 3, 10, 1);
    s_seen_free (&seen);
}

static int
s_bits (const uint8_t *bytes, size_t size)
{
    int bits = 0;
    for (size_t i = 0; i < size; i++)
        bits += __builtin_popcount (bytes [i]);
    return bits;
}

static void
test_torn_tail_is_cut_and_reported (void **state)
{
    fixture_t *fx = *state;
    s_make (fx, 4);
    size_t size;
    uint8_t *whole = s_file (fx->path, &size);
    size_t last = s_offset (whole, size, 3);
    uint8_t *torn = malloc (size + 4096);
    assert_non_null (torn);

    //  Every place a crash can stop the last write: in its frame header or
    //  its payload
    for (size_t end = last + 1; end < size; end++) {
        s_write_file (fx->path, whole, end);
        s_expect_torn (fx, last, end);
    }

    //  The file at its full length, but the last write's bytes zero from
    //  some point on (a filesystem that grew the file before the data came)
    for (size_t from = last; from < size; from++) {
        memcpy (torn, whole, size);
        memset (torn + from, 0, size - from);
        s_write_file (fx->path, torn, size);
        //  Unless what the zeros replaced was one set bit: that, a flipped
        //  bit would explain too, and a flipped bit is refused (below)
        if (s_bits (whole + from, size - from) == 1) {
            journal_scan_t scan;
            assert_int_equal (journal_read (fx->path, NULL, &scan, NULL, 0), EL_ERR_CORRUPT);
            continue;
        }
        s_expect_torn (fx, last, size);
    }

    //  The file grown by a batch that never reached the disk: zeros only
    for (size_t extra = 1; extra <= 4096; extra = extra * 3 + 1) {
        memcpy (torn, whole, size);
        memset (torn + size, 0, extra);
        s_write_file (fx->path, torn, size + extra);
        journal_t *journal = NULL;
        journal_scan_t scan;
        s_seen_t seen = { 0 };
        assert_int_equal (s_open (fx, &s_options, &seen, &scan, &journal), EL_OK);
        assert_int_equal (seen.count, 4);
        assert_int_equal (scan.cut_bytes, extra);
        assert_int_equal (s_file_size (fx->path), size);
        journal_close (&journal);
        s_seen_free (&seen);
    }
    free (torn);
    free (whole);
}

static void
test_every_flipped_bit_of_a_committed_file_is_refused (void **state)
{
    fixture_t *fx = *state;
    char err [256] = "";
    s_make (fx, 5);
    size_t size;
    uint8_t *whole = s_file (fx->path, &size);
    uint8_t *flipped = malloc (size);
    assert_non_null (flipped);
    size_t first = s_offset (whole, size, 0);
    size_t refused = 0;
    for (size_t bit = 0; bit < size * 8; bit++) {
        memcpy (flipped, whole, size);
        flipped [bit / 8] ^= (uint8_t) (1u << (bit % 8));
        s_write_file (fx->path, flipped, size);
        journal_scan_t scan;
        el_err_t rc = journal_read (fx->path, NULL, &scan, err, sizeof err);
        //  The magic is not a journal's; anything else is corrupt, where it is
        if (bit / 8 < JOURNAL_MAGIC_SIZE)
            assert_int_equal (rc, EL_ERR_PARSE);
        else {
            if (rc != EL_ERR_CORRUPT)
                fail_msg ("bit %zu (byte %zu) of %zu bytes: read %d, cut %llu", bit, bit / 8,
                          size, rc, (unsigned long long) scan.cut_bytes);
            assert_true (scan.corrupt_middle);
            //  at the frame that holds the bit (the header's frame: at 0)
            assert_true (scan.corrupt_at <= bit / 8);
            assert_true (bit / 8 < first ? scan.corrupt_at == 0 : scan.corrupt_at >= first);
        }
        //  Opening refuses too, and leaves the file as it found it
        journal_t *journal = NULL;
        assert_int_not_equal (s_open (fx, &s_options, NULL, &scan, &journal), EL_OK);
        assert_null (journal);
        assert_true (s_file_is (fx->path, flipped, size));
        refused++;
    }
    assert_int_equal (refused, size * 8);
    free (flipped);
    free (whole);
}

static void
test_corrupt_middle_is_refused_or_cut_and_kept (void **state)
{
    fixture_t *fx = *state;
    journal_t *journal = NULL;
    journal_scan_t scan;
    char err [256] = "";
    s_seen_t seen = { 0 };
    s_make (fx, 5);
    size_t size;
    uint8_t *data = s_file (fx->path, &size);
    size_t bad = s_offset (data, size, 2);
    //  Many bits of record 2's payload: no one-bit flip, but records follow
    for (size_t i = 0; i < 8; i++)
        data [bad + JOURNAL_FRAME_SIZE + i] ^= 0x5A;
    s_write_file (fx->path, data, size);

    //  Reading delivers what comes before it and says where it is
    assert_int_equal (s_read (fx, &seen, &scan), EL_ERR_CORRUPT);
    assert_int_equal (seen.count, 2);
    s_expect (&seen, 0, 0, 2);
    s_seen_free (&seen);
    assert_true (scan.corrupt_middle);
    assert_int_equal (scan.corrupt_at, bad);
    assert_int_equal (scan.records, 2);
    assert_int_equal (journal_read (fx->path, NULL, &scan, err, sizeof err), EL_ERR_CORRUPT);
    assert_non_null (strstr (err, "corrupt record"));

    //  Opening for writing refuses, and leaves the file alone
    assert_int_equal (s_open (fx, &s_options, NULL, &scan, &journal), EL_ERR_CORRUPT);
    assert_null (journal);
    assert_true (s_file_is (fx->path, data, size));
    assert_int_equal (access (fx->corrupt, F_OK), -1);

    //  Told to, it cuts at the bad record and keeps every cut byte beside
    //  it, for its owner's eyes only
    assert_int_equal (s_open (fx, &s_truncating, &seen, &scan, &journal), EL_OK);
    assert_int_equal (seen.count, 2);
    s_seen_free (&seen);
    assert_int_equal (scan.cut_bytes, size - bad);
    assert_int_equal (s_file_size (fx->path), bad);
    assert_true (s_file_is (fx->corrupt, data + bad, size - bad));
    struct stat st;
    assert_int_equal (stat (fx->corrupt, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);

    //  And goes on from there
    s_append (journal, 20);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    journal_close (&journal);
    assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
    assert_int_equal (seen.count, 3);
    s_expect (&seen, 0, 0, 2);
    s_expect (&seen, 2, 20, 1);
    s_seen_free (&seen);

    //  A header damaged beyond one bit, records after it: refused; cut, the
    //  journal starts again with the new header (its records are in .corrupt)
    free (data);
    data = s_file (fx->path, &size);
    memset (data + JOURNAL_MAGIC_SIZE + 2, 0xEE, 6);
    s_write_file (fx->path, data, size);
    assert_int_equal (s_read (fx, &seen, &scan), EL_ERR_CORRUPT);
    assert_int_equal (scan.corrupt_at, 0);
    assert_int_equal (seen.headers, 0);
    assert_int_equal (s_open (fx, &s_truncating, &seen, &scan, &journal), EL_OK);
    journal_close (&journal);
    s_seen_free (&seen);
    assert_true (s_file_is (fx->corrupt, data, size));
    assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
    assert_string_equal (seen.header, S_HEADER);
    assert_int_equal (seen.count, 0);
    s_seen_free (&seen);
    free (data);
}

//  A version 1 file: "ELJRNL01", then u32 length | u32 CRC | payload
static size_t
s_make_v1 (const fixture_t *fx, size_t count, uint8_t *file, size_t max)
{
    memcpy (file, JOURNAL_MAGIC_V1, JOURNAL_MAGIC_SIZE);
    size_t at = JOURNAL_MAGIC_SIZE;
    for (size_t i = 0; i < count; i++) {
        uint8_t buf [512];
        size_t size = s_payload (i, buf, sizeof buf);
        assert_true (at + 8 + size <= max);
        uint32_t crc = (uint32_t) crc32 (crc32 (0L, Z_NULL, 0), buf, (uInt) size);
        for (int b = 0; b < 4; b++) {
            file [at + b] = (uint8_t) (size >> (8 * b));
            file [at + 4 + b] = (uint8_t) (crc >> (8 * b));
        }
        memcpy (file + at + 8, buf, size);
        at += 8 + size;
    }
    s_write_file (fx->path, file, at);
    return at;
}

static void
test_version_1_is_read_and_upgraded (void **state)
{
    fixture_t *fx = *state;
    journal_t *journal = NULL;
    journal_scan_t scan;
    char err [256] = "";
    s_seen_t seen = { 0 };
    uint8_t old [4096];
    size_t size = s_make_v1 (fx, 4, old, sizeof old);

    //  Read as it is: the records, no header, a torn tail cut as before
    assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
    assert_int_equal (scan.version, 1);
    assert_int_equal (seen.headers, 0);
    assert_int_equal (seen.count, 4);
    s_expect (&seen, 0, 0, 4);
    s_seen_free (&seen);
    s_write_file (fx->path, old, size - 3);
    assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
    assert_int_equal (seen.count, 3);
    assert_true (scan.cut_bytes > 0);
    s_seen_free (&seen);
    s_write_file (fx->path, old, size);

    //  A reader that refuses it leaves it as it is
    seen.stop_after = 1;
    assert_int_equal (s_open (fx, &s_options, &seen, &scan, &journal), EL_ERR_INVALID);
    assert_true (s_file_is (fx->path, old, size));
    assert_int_equal (access (fx->old, F_OK), -1);
    s_seen_free (&seen);

    //  Opened for writing: the same records as version 2 under the new
    //  header, the old file kept beside it
    assert_int_equal (s_open (fx, &s_options, &seen, &scan, &journal), EL_OK);
    assert_int_equal (scan.version, 1);
    assert_int_equal (seen.count, 4);
    s_seen_free (&seen);
    assert_true (s_file_is (fx->old, old, size));
    assert_int_equal (access (fx->fresh, F_OK), -1);
    struct stat st;
    assert_int_equal (stat (fx->path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    s_append (journal, 4);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    //  still locked: the lock moved to the new file with it
    journal_t *second = NULL;
    assert_int_equal (s_open (fx, &s_options, NULL, &scan, &second), EL_ERR_IO);
    journal_close (&journal);
    assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
    assert_int_equal (scan.version, 2);
    assert_string_equal (seen.header, S_HEADER);
    assert_int_equal (seen.count, 5);
    s_expect (&seen, 0, 0, 5);
    s_seen_free (&seen);

    //  An upgrade that would overwrite an earlier PATH.v1 is refused
    s_make_v1 (fx, 2, old, sizeof old);
    assert_int_equal (s_open (fx, &s_options, NULL, &scan, &journal), EL_ERR_IO);
    assert_null (journal);
}

static void
test_failed_commit_cuts_back_to_last_good (void **state)
{
    fixture_t *fx = *state;
    journal_t *journal = NULL;
    journal_scan_t scan;
    char err [256] = "";
    s_seen_t seen = { 0 };
    assert_int_equal (s_open (fx, &s_options, NULL, &scan, &journal), EL_OK);
    for (size_t i = 0; i < 3; i++)
        s_append (journal, i);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    size_t good_size;
    uint8_t *good = s_file (fx->path, &good_size);

    //  Room for part of the next batch only: the write stops half way.
    //  Past the limit the kernel sends SIGXFSZ; ignored, write fails EFBIG.
    struct rlimit saved, limit;
    assert_int_equal (getrlimit (RLIMIT_FSIZE, &saved), 0);
    void (*old_handler) (int) = signal (SIGXFSZ, SIG_IGN);
    limit = saved;
    limit.rlim_cur = good_size + 100;
    assert_int_equal (setrlimit (RLIMIT_FSIZE, &limit), 0);
    for (size_t i = 3; i < 8; i++)
        s_append (journal, i);
    el_err_t rc = journal_commit (journal, err, sizeof err);
    assert_int_equal (setrlimit (RLIMIT_FSIZE, &saved), 0);
    signal (SIGXFSZ, old_handler);

    assert_int_equal (rc, EL_ERR_IO);
    assert_non_null (strstr (err, fx->path));
    assert_non_null (strstr (err, "File too large"));
    assert_int_equal (journal_pending (journal), 0);
    assert_true (s_file_is (fx->path, good, good_size));

    //  A replay reads the committed records, and only them, even if bytes
    //  lie past them (a cut back that could not be made)
    FILE *file = fopen (fx->path, "ab");
    assert_non_null (file);
    uint8_t junk [64];
    memset (junk, 0xAB, sizeof junk);
    assert_int_equal (fwrite (junk, 1, sizeof junk, file), sizeof junk);
    fclose (file);
    journal_reader_t reader = { s_collect_header, s_collect, &seen };
    assert_int_equal (journal_replay (journal, &reader, err, sizeof err), EL_OK);
    assert_string_equal (seen.header, S_HEADER);
    assert_int_equal (seen.count, 3);
    s_expect (&seen, 0, 0, 3);
    s_seen_free (&seen);
    assert_int_equal (truncate (fx->path, (off_t) good_size), 0);

    //  The journal goes on after the failure, from the last good commit
    s_append (journal, 30);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    journal_close (&journal);
    assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
    assert_int_equal (scan.cut_bytes, 0);
    assert_int_equal (seen.count, 4);
    s_expect (&seen, 0, 0, 3);
    s_expect (&seen, 3, 30, 1);
    s_seen_free (&seen);
    free (good);
}

static void
test_records_are_read_again_and_cut_back (void **state)
{
    fixture_t *fx = *state;
    journal_t *journal = NULL;
    journal_scan_t scan;
    char err [256] = "";
    s_seen_t seen = { 0 };
    s_make (fx, 3);

    //  Opened: the records already there are indexed, and those committed after
    assert_int_equal (s_open (fx, &s_options, NULL, &scan, &journal), EL_OK);
    assert_int_equal (journal_records (journal), 3);
    for (size_t i = 3; i < 7; i++)
        s_append (journal, i);
    assert_int_equal (journal_records (journal), 3);     //  committed ones only
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    assert_int_equal (journal_records (journal), 7);
    for (size_t i = 0; i < 7; i++) {
        uint8_t *payload = NULL, expect [512];
        size_t size = 0;
        assert_int_equal (journal_get (journal, i, &payload, &size, err, sizeof err), EL_OK);
        assert_int_equal (size, s_payload (i, expect, sizeof expect));
        assert_memory_equal (payload, expect, size);
        free (payload);
    }
    uint8_t *payload = NULL;
    size_t size;
    assert_int_equal (journal_get (journal, 7, &payload, &size, err, sizeof err), EL_ERR_NOT_FOUND);

    //  Cut back to 4: the file ends after record 3, and appends follow it
    s_append (journal, 50);
    assert_int_equal (journal_truncate (journal, 4, err, sizeof err), EL_ERR_INVALID);
    journal_discard (journal);
    assert_int_equal (journal_truncate (journal, 4, err, sizeof err), EL_OK);
    assert_int_equal (journal_records (journal), 4);
    assert_int_equal (journal_truncate (journal, 9, err, sizeof err), EL_OK);   //  nothing to cut
    assert_int_equal (journal_records (journal), 4);
    s_append (journal, 40);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    assert_int_equal (journal_get (journal, 4, &payload, &size, err, sizeof err), EL_OK);
    uint8_t expect [512];
    assert_int_equal (size, s_payload (40, expect, sizeof expect));
    assert_memory_equal (payload, expect, size);
    free (payload);

    //  A record damaged since it was written is not handed out
    size_t file_size;
    uint8_t *data = s_file (fx->path, &file_size);
    data [s_offset (data, file_size, 1) + JOURNAL_FRAME_SIZE] ^= 0x10;
    FILE *file = fopen (fx->path, "r+b");
    assert_non_null (file);
    assert_int_equal (fwrite (data, 1, file_size, file), file_size);
    fclose (file);
    free (data);
    assert_int_equal (journal_get (journal, 1, &payload, &size, err, sizeof err), EL_ERR_CORRUPT);
    assert_null (payload);

    //  Cut to nothing: the header stays
    assert_int_equal (journal_truncate (journal, 0, err, sizeof err), EL_OK);
    journal_close (&journal);
    assert_int_equal (s_read (fx, &seen, &scan), EL_OK);
    assert_string_equal (seen.header, S_HEADER);
    assert_int_equal (seen.count, 0);
    s_seen_free (&seen);
}

//  A declaration journaled as it came (its bytes) makes the very record
//  that packing it again made, held or not, in a pair or not; and reads back
static void
test_record_of_raw_bytes (void **state)
{
    (void) state;
    Election__Candidate candidates [2] = { ELECTION__CANDIDATE__INIT, ELECTION__CANDIDATE__INIT };
    Election__Candidate *pointers [2] = { &candidates [0], &candidates [1] };
    candidates [0].name = "Kelvin Hopkins";
    candidates [0].party = "Lab";
    candidates [0].has_votes = true;
    candidates [0].votes = 29765;
    candidates [1].name = "Caroline Kerswell";
    candidates [1].party = "Con";
    candidates [1].has_votes = true;
    candidates [1].votes = 15401;
    Election__Declaration decl = ELECTION__DECLARATION__INIT;
    decl.election_id = "uk-general";
    decl.ons_id = "E14000800";
    decl.has_revision = true;
    decl.revision = 1;
    decl.has_electorate = true;
    decl.electorate = 66811;
    decl.n_candidates = 2;
    decl.candidates = pointers;
    decl.constituency = "Luton North";
    decl.has_request_id = true;
    decl.request_id = 300;      //  a varint of two bytes
    size_t decl_size = election__declaration__get_packed_size (&decl);
    uint8_t *decl_bytes = malloc (decl_size);
    assert_non_null (decl_bytes);
    election__declaration__pack (&decl, decl_bytes);
    char *reasons [] = { "LD share 45.1%", "turnout 90%" };
    for (int held = 0; held < 2; held++)
        for (uint64_t term = 0; term < 2; term++) {
            size_t size, raw_size;
            uint8_t *packed = journal_record_pack (1234567, term, 1496962800000000LL, "centre@host",
                                                   &decl, reasons, held ? 2 : 0, &size);
            uint8_t *raw = journal_record_pack_raw (1234567, term, 1496962800000000LL, "centre@host",
                                                    decl_bytes, decl_size, reasons, held ? 2 : 0,
                                                    &raw_size);
            assert_non_null (packed);
            assert_non_null (raw);
            assert_int_equal (raw_size, size);
            assert_memory_equal (raw, packed, size);
            Election__JournalRecord *record = journal_record_unpack (raw, raw_size);
            assert_non_null (record);
            assert_int_equal (record->sequence, 1234567);
            assert_string_equal (record->declaration->ons_id, "E14000800");
            assert_int_equal (record->declaration->candidates [1]->votes, 15401);
            assert_int_equal (record->n_hold_reasons, held ? 2 : 0);
            journal_record_free (&record);
            free (packed);
            free (raw);
        }
    free (decl_bytes);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_round_trip, s_setup, s_teardown),
        cmocka_unit_test (test_record_of_raw_bytes),
        cmocka_unit_test_setup_teardown (test_a_reader_that_stops_refuses_the_open, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_one_writer_at_a_time, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_not_a_journal, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_torn_tail_is_cut_and_reported, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_every_flipped_bit_of_a_committed_file_is_refused,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_corrupt_middle_is_refused_or_cut_and_kept, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_version_1_is_read_and_upgraded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_failed_commit_cuts_back_to_last_good, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_records_are_read_again_and_cut_back, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
