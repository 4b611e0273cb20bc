/*  test_journal: the durable core on real files. What goes in comes back
    byte for byte; a torn tail is cut and reported; a corrupt record in the
    middle is refused, or with truncate_corrupt cut and kept in PATH.corrupt;
    a commit that fails (the file-size limit, RLIMIT_FSIZE, stands in for a
    full disk so no root is needed) leaves the file exactly as the last good
    commit left it, with nothing half written.                              */
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
#include <cmocka.h>
#include "journal.h"

#define S_HEADER_SIZE   8       /* u32 length, u32 CRC-32 */
#define S_MAX_RECORDS   64

typedef struct {
    char dir [512];
    char path [600];
    char corrupt [620];
} fixture_t;

//  What a reader was handed: copies of the payloads, in order
typedef struct {
    uint8_t *payload [S_MAX_RECORDS];
    size_t size [S_MAX_RECORDS];
    size_t count;
    size_t stop_after;          /* non-zero: ask the reader to stop here */
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

static void
s_seen_free (s_seen_t *seen)
{
    for (size_t i = 0; i < seen->count; i++)
        free (seen->payload [i]);
    memset (seen, 0, sizeof *seen);
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

//  The file offset where record i (0-based) of a journal starts
static size_t
s_offset (const uint8_t *data, size_t size, size_t i)
{
    size_t at = JOURNAL_MAGIC_SIZE;
    while (i--) {
        assert_true (at + S_HEADER_SIZE <= size);
        at += S_HEADER_SIZE + (data [at] | data [at + 1] << 8 | data [at + 2] << 16
                               | (size_t) data [at + 3] << 24);
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
    assert_int_equal (journal_open (fx->path, false, NULL, NULL, &scan, &journal, err, sizeof err), EL_OK);
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
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    unlink (fx->path);
    unlink (fx->corrupt);
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

    //  A new file: nothing to read, the magic written at once
    assert_int_equal (journal_open (fx->path, false, s_collect, &seen, &scan, &journal, err, sizeof err), EL_OK);
    assert_non_null (journal);
    assert_int_equal (seen.count, 0);
    assert_int_equal (scan.records, 0);
    assert_int_equal (s_file_size (fx->path), JOURNAL_MAGIC_SIZE);

    //  Nothing reaches the file before the commit
    for (size_t i = 0; i < 5; i++)
        s_append (journal, i);
    assert_int_equal (journal_pending (journal), 5);
    assert_int_equal (s_file_size (fx->path), JOURNAL_MAGIC_SIZE);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    assert_int_equal (journal_pending (journal), 0);
    size_t five = s_file_size (fx->path);
    assert_true (five > JOURNAL_MAGIC_SIZE + 5 * S_HEADER_SIZE);

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

    assert_int_equal (journal_read (fx->path, s_collect, &seen, &scan, err, sizeof err), EL_OK);
    assert_int_equal (seen.count, 7);
    assert_int_equal (scan.records, 7);
    assert_int_equal (scan.good_bytes, s_file_size (fx->path));
    assert_int_equal (scan.cut_bytes, 0);
    assert_false (scan.corrupt_middle);
    s_expect (&seen, 0, 0, 7);
    s_seen_free (&seen);

    //  Reopened: the records come back to rebuild state, and appends go after them
    assert_int_equal (journal_open (fx->path, false, s_collect, &seen, &scan, &journal, err, sizeof err), EL_OK);
    assert_int_equal (seen.count, 7);
    s_append (journal, 7);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    journal_close (&journal);
    s_seen_free (&seen);
    assert_int_equal (journal_read (fx->path, s_collect, &seen, &scan, err, sizeof err), EL_OK);
    assert_int_equal (seen.count, 8);
    s_expect (&seen, 0, 0, 8);
    s_seen_free (&seen);

    //  A reader may stop early
    seen.stop_after = 3;
    assert_int_equal (journal_read (fx->path, s_collect, &seen, &scan, err, sizeof err), EL_OK);
    assert_int_equal (seen.count, 3);
    s_seen_free (&seen);
}

static void
test_not_a_journal (void **state)
{
    fixture_t *fx = *state;
    journal_t *journal = NULL;
    journal_scan_t scan;
    char err [256] = "";

    assert_int_equal (journal_read (fx->path, NULL, NULL, &scan, err, sizeof err), EL_ERR_IO);
    assert_non_null (strstr (err, fx->path));

    //  Another file is never taken for a journal, nor overwritten
    const char text [] = "ons_id,constituency\n";
    s_write_file (fx->path, text, sizeof text - 1);
    assert_int_equal (journal_read (fx->path, NULL, NULL, &scan, err, sizeof err), EL_ERR_PARSE);
    assert_non_null (strstr (err, "not a journal"));
    assert_int_equal (journal_open (fx->path, true, NULL, NULL, &scan, &journal, err, sizeof err), EL_ERR_PARSE);
    assert_null (journal);
    size_t size;
    uint8_t *data = s_file (fx->path, &size);
    assert_int_equal (size, sizeof text - 1);
    assert_memory_equal (data, text, size);
    free (data);

    //  A crash while writing a new file's magic leaves a prefix: cut, and started afresh
    s_write_file (fx->path, "ELJR", 4);
    assert_int_equal (journal_open (fx->path, false, NULL, NULL, &scan, &journal, err, sizeof err), EL_OK);
    assert_int_equal (scan.cut_bytes, 4);
    assert_int_equal (scan.records, 0);
    s_append (journal, 1);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    journal_close (&journal);
    s_seen_t seen = { 0 };
    assert_int_equal (journal_read (fx->path, s_collect, &seen, &scan, err, sizeof err), EL_OK);
    assert_int_equal (seen.count, 1);
    s_expect (&seen, 0, 1, 1);
    s_seen_free (&seen);
}

static void
test_torn_tail_is_cut_and_reported (void **state)
{
    fixture_t *fx = *state;
    journal_t *journal = NULL;
    journal_scan_t scan;
    char err [256] = "";
    s_seen_t seen = { 0 };
    s_make (fx, 4);
    size_t size;
    uint8_t *whole = s_file (fx->path, &size);
    size_t last = s_offset (whole, size, 3);

    //  Every place a crash can stop the last write: in its header or its payload
    for (size_t end = last + 1; end < size; end++) {
        s_write_file (fx->path, whole, end);
        assert_int_equal (journal_read (fx->path, s_collect, &seen, &scan, err, sizeof err), EL_OK);
        assert_int_equal (seen.count, 3);
        assert_int_equal (scan.records, 3);
        assert_int_equal (scan.good_bytes, last);
        assert_int_equal (scan.cut_bytes, end - last);
        assert_false (scan.corrupt_middle);
        s_seen_free (&seen);
        assert_int_equal (s_file_size (fx->path), end);      //  reading cuts nothing
    }

    //  A whole last record whose checksum fails is a torn write too
    uint8_t *flipped = malloc (size);
    assert_non_null (flipped);
    memcpy (flipped, whole, size);
    flipped [size - 1] ^= 0x01;
    s_write_file (fx->path, flipped, size);
    free (flipped);
    assert_int_equal (journal_read (fx->path, NULL, NULL, &scan, err, sizeof err), EL_OK);
    assert_int_equal (scan.records, 3);
    assert_int_equal (scan.cut_bytes, size - last);

    //  Opening for writing cuts it, says how much, and appends where it was
    assert_int_equal (journal_open (fx->path, false, s_collect, &seen, &scan, &journal, err, sizeof err), EL_OK);
    assert_int_equal (seen.count, 3);
    assert_int_equal (scan.cut_bytes, size - last);
    assert_int_equal (s_file_size (fx->path), last);
    s_seen_free (&seen);
    s_append (journal, 10);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    journal_close (&journal);
    assert_int_equal (journal_read (fx->path, s_collect, &seen, &scan, err, sizeof err), EL_OK);
    assert_int_equal (seen.count, 4);
    assert_int_equal (scan.cut_bytes, 0);
    s_expect (&seen, 0, 0, 3);
    s_expect (&seen, 3, 10, 1);
    s_seen_free (&seen);
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
    data [bad + S_HEADER_SIZE] ^= 0x80;      //  a bit of record 2's payload
    s_write_file (fx->path, data, size);

    //  Reading delivers what comes before it and says where it is
    assert_int_equal (journal_read (fx->path, s_collect, &seen, &scan, err, sizeof err), EL_ERR_CORRUPT);
    assert_int_equal (seen.count, 2);
    s_expect (&seen, 0, 0, 2);
    s_seen_free (&seen);
    assert_true (scan.corrupt_middle);
    assert_int_equal (scan.corrupt_at, bad);
    assert_int_equal (scan.records, 2);
    assert_non_null (strstr (err, "corrupt record"));

    //  Opening for writing refuses, and leaves the file alone
    assert_int_equal (journal_open (fx->path, false, NULL, NULL, &scan, &journal, err, sizeof err), EL_ERR_CORRUPT);
    assert_null (journal);
    size_t after_size;
    uint8_t *after = s_file (fx->path, &after_size);
    assert_int_equal (after_size, size);
    assert_memory_equal (after, data, size);
    free (after);
    assert_int_equal (access (fx->corrupt, F_OK), -1);

    //  Told to, it cuts at the bad record and keeps every cut byte beside it
    assert_int_equal (journal_open (fx->path, true, s_collect, &seen, &scan, &journal, err, sizeof err), EL_OK);
    assert_int_equal (seen.count, 2);
    s_seen_free (&seen);
    assert_int_equal (scan.cut_bytes, size - bad);
    assert_int_equal (s_file_size (fx->path), bad);
    size_t kept_size;
    uint8_t *kept = s_file (fx->corrupt, &kept_size);
    assert_int_equal (kept_size, size - bad);
    assert_memory_equal (kept, data + bad, kept_size);
    free (kept);

    //  And goes on from there
    s_append (journal, 20);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    journal_close (&journal);
    assert_int_equal (journal_read (fx->path, s_collect, &seen, &scan, err, sizeof err), EL_OK);
    assert_int_equal (seen.count, 3);
    s_expect (&seen, 0, 0, 2);
    s_expect (&seen, 2, 20, 1);
    s_seen_free (&seen);
    free (data);
}

static void
test_failed_commit_cuts_back_to_last_good (void **state)
{
    fixture_t *fx = *state;
    journal_t *journal = NULL;
    journal_scan_t scan;
    char err [256] = "";
    s_seen_t seen = { 0 };
    assert_int_equal (journal_open (fx->path, false, NULL, NULL, &scan, &journal, err, sizeof err), EL_OK);
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
    size_t now_size;
    uint8_t *now = s_file (fx->path, &now_size);
    assert_int_equal (now_size, good_size);
    assert_memory_equal (now, good, good_size);
    free (now);

    //  The journal goes on after the failure, from the last good commit
    s_append (journal, 30);
    assert_int_equal (journal_commit (journal, err, sizeof err), EL_OK);
    journal_close (&journal);
    assert_int_equal (journal_read (fx->path, s_collect, &seen, &scan, err, sizeof err), EL_OK);
    assert_int_equal (scan.cut_bytes, 0);
    assert_int_equal (seen.count, 4);
    s_expect (&seen, 0, 0, 3);
    s_expect (&seen, 3, 30, 1);
    s_seen_free (&seen);
    free (good);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_not_a_journal, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_torn_tail_is_cut_and_reported, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_corrupt_middle_is_refused_or_cut_and_kept, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_failed_commit_cuts_back_to_last_good, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
