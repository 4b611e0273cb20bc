/*  fuzz_journal: bytes as a journal file -> journal_read, then what the
    aggregator's recovery does with each record (decode, intake, tally).

    The first byte picks how the rest is used. Even: the bytes are the file
    as they are (magic, lengths and CRCs must be found by the fuzzer). Odd:
    the bytes are record payloads, each a 2-byte little-endian length and
    that many bytes, framed into a well-formed file with correct CRCs and a
    torn tail of the leftover, so the fuzzer spends its time on the records
    rather than on CRC-32. The file is then also opened for writing with
    truncate_corrupt, which cuts torn tails and corrupt middles.           */
#include "fuzz_baseline.h"
#include "intake.h"
#include "journal.h"
#include "journal_record.h"
#include "tally.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static results_t *s_baseline;
static char s_path [64], s_corrupt_path [80];

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    s_baseline = fuzz_baseline ();
    snprintf (s_path, sizeof s_path, "/tmp/fuzz_journal.%d", (int) getpid ());
    snprintf (s_corrupt_path, sizeof s_corrupt_path, "%s.corrupt", s_path);
    return 0;
}

static int
s_recover (void *arg, const uint8_t *payload, size_t size)
{
    tally_t *tally = arg;
    Election__JournalRecord *record = journal_record_unpack (payload, size);
    if (!record)
        return 0;
    intake_t intake;
    char text [192];
    if (intake_from_message (record->declaration, &intake, text, sizeof text) == EL_REASON_NONE) {
        tally_verdict_t verdict;
        tally_apply (tally, &intake.decl, &verdict);
        intake_release (&intake);
    }
    journal_record_free (&record);
    return 0;
}

static void
s_put_u32 (FILE *file, uint32_t value)
{
    uint8_t bytes [4] = { value, value >> 8, value >> 16, value >> 24 };
    fwrite (bytes, 1, 4, file);
}

static void
s_write (const uint8_t *data, size_t size)
{
    FILE *file = fopen (s_path, "wb");
    if (!file)
        abort ();
    if (size && data [0] % 2) {
        data++;
        size--;
        fwrite (JOURNAL_MAGIC, 1, JOURNAL_MAGIC_SIZE, file);
        while (size >= 2) {
            size_t len = (size_t) data [0] | (size_t) data [1] << 8;
            data += 2;
            size -= 2;
            if (len > size)
                break;      //  the leftover becomes a torn tail
            s_put_u32 (file, (uint32_t) len);
            s_put_u32 (file, (uint32_t) crc32 (crc32 (0L, Z_NULL, 0), data, (uInt) len));
            fwrite (data, 1, len, file);
            data += len;
            size -= len;
        }
    }
    else
    if (size) {
        data++;
        size--;
    }
    if (fwrite (data, 1, size, file) != size || fclose (file))
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_write (data, size);
    char err [512];
    journal_scan_t scan;
    tally_t *tally = tally_new (s_baseline, NULL);
    if (!tally)
        abort ();
    journal_read (s_path, s_recover, tally, &scan, err, sizeof err);
    tally_destroy (&tally);

    journal_t *journal = NULL;
    if (journal_open (s_path, true, NULL, NULL, &scan, &journal, err, sizeof err) == EL_OK) {
        //  What is left must now read clean, to the end
        journal_close (&journal);
        if (journal_read (s_path, NULL, NULL, &scan, err, sizeof err) != EL_OK || scan.cut_bytes)
            abort ();
    }
    unlink (s_path);
    unlink (s_corrupt_path);
    return 0;
}
