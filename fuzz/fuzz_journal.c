/*  fuzz_journal: bytes as a journal file -> journal_read, then what the
    aggregator's recovery does with the header and each record (decode,
    mode and election check, intake, tally).

    The first byte picks how the rest is used (its value mod 4):
    0  the bytes are the file as they are (magics, lengths and CRCs must be
       found by the fuzzer);
    1  the bytes are payloads, each a 2-byte little-endian length and that
       many bytes, the first the header's: framed into a well-formed
       version 2 file with correct CRCs and a torn tail of the leftover, so
       the fuzzer spends its time on the records rather than on CRC-32;
    2  as 1 with no torn tail, after 4 bytes that pick one bit to flip: a
       committed file with one flipped bit must be refused, never read as
       whole or cut as a torn tail (journal.h);
    3  as 1, framed as version 1 (no header).
    The file is then also opened for writing with truncate_corrupt, which
    cuts torn tails and corrupt frames and upgrades version 1: what is left
    must read clean, to the end.                                             */
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
static char s_path [64], s_corrupt_path [80], s_old_path [80], s_new_path [80];

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    s_baseline = fuzz_baseline ();
    snprintf (s_path, sizeof s_path, "/tmp/fuzz_journal.%d", (int) getpid ());
    snprintf (s_corrupt_path, sizeof s_corrupt_path, "%s.corrupt", s_path);
    snprintf (s_old_path, sizeof s_old_path, "%s.v1", s_path);
    snprintf (s_new_path, sizeof s_new_path, "%s.v2-new", s_path);
    return 0;
}

static int
s_recover_header (void *arg, const uint8_t *payload, size_t size)
{
    (void) arg;
    Election__JournalHeader *header = journal_record_unpack_header (payload, size);
    char why [256];
    if (header)
        journal_record_belongs (header, NULL, ELECTION__MODE__MODE_REHEARSAL, "uk-general",
                                why, sizeof why);
    journal_record_free_header (&header);
    return 0;
}

static int
s_recover (void *arg, const uint8_t *payload, size_t size)
{
    tally_t *tally = arg;
    Election__JournalRecord *record = journal_record_unpack (payload, size);
    if (!record)
        return 0;
    if (!record->declaration) {     //  an exit poll: nothing for the tally
        journal_record_free (&record);
        return 0;
    }
    char text [256];
    journal_record_belongs (NULL, record, ELECTION__MODE__MODE_REHEARSAL, "uk-general",
                            text, sizeof text);
    intake_t intake;
    if (intake_from_message (record->declaration, &intake, text, sizeof text) == EL_REASON_NONE) {
        tally_verdict_t verdict;
        tally_apply (tally, &intake.decl, &verdict);
        intake_release (&intake);
    }
    journal_record_free (&record);
    return 0;
}

static void
s_put_u32 (uint8_t *at, uint32_t value)
{
    at [0] = value; at [1] = value >> 8; at [2] = value >> 16; at [3] = value >> 24;
}

static uint32_t
s_crc (const uint8_t *bytes, size_t size)
{
    return (uint32_t) crc32 (crc32 (0L, Z_NULL, 0), bytes, (uInt) size);
}

//  Appends one frame to out (the layouts in journal.h); returns its size
static size_t
s_frame (uint8_t *out, const uint8_t *payload, size_t size, int version, bool header)
{
    if (version == 1) {
        s_put_u32 (out, (uint32_t) size);
        s_put_u32 (out + 4, s_crc (payload, size));
        if (size)
            memcpy (out + 8, payload, size);
        return 8 + size;
    }
    memcpy (out, header ? "JHDR" : "JREC", 4);
    s_put_u32 (out + 4, (uint32_t) size);
    s_put_u32 (out + 8, s_crc (payload, size));
    s_put_u32 (out + 12, s_crc (out, 12));
    if (size)
        memcpy (out + JOURNAL_FRAME_SIZE, payload, size);
    return JOURNAL_FRAME_SIZE + size;
}

//  The file the input stands for (the modes above), in a new buffer
static uint8_t *
s_file (const uint8_t *data, size_t size, size_t *file_size, int64_t *flip)
{
    *flip = -1;
    uint8_t *file = malloc (size * 8 + 64);     //  a frame of 2 input bytes is 16 bytes
    if (!file)
        abort ();
    int mode = size ? data [0] % 4 : 0;
    if (size) {
        data++;
        size--;
    }
    if (mode == 0) {
        if (size)
            memcpy (file, data, size);
        *file_size = size;
        return file;
    }
    if (mode == 2 && size >= 4) {
        *flip = (int64_t) (data [0] | data [1] << 8 | data [2] << 16 | (uint32_t) data [3] << 24);
        data += 4;
        size -= 4;
    }
    int version = mode == 3 ? 1 : 2;
    size_t at = JOURNAL_MAGIC_SIZE;
    memcpy (file, version == 1 ? JOURNAL_MAGIC_V1 : JOURNAL_MAGIC, JOURNAL_MAGIC_SIZE);
    bool header = version == 2;
    if (header && size < 2)
        at += s_frame (file + at, NULL, 0, version, true);
    while (size >= 2) {
        size_t len = (size_t) data [0] | (size_t) data [1] << 8;
        data += 2;
        size -= 2;
        if (len > size)
            break;      //  the leftover becomes a torn tail
        at += s_frame (file + at, data, len, version, header);
        header = false;
        data += len;
        size -= len;
    }
    if (mode != 2 && size) {
        memcpy (file + at, data, size);
        at += size;
    }
    *file_size = at;
    return file;
}

static void
s_write (const uint8_t *bytes, size_t size)
{
    FILE *file = fopen (s_path, "wb");
    if (!file || fwrite (bytes, 1, size, file) != size || fclose (file))
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    size_t file_size;
    int64_t flip;
    uint8_t *file = s_file (data, size, &file_size, &flip);
    if (flip >= 0 && file_size)
        file [(flip / 8) % file_size] ^= (uint8_t) (1u << (flip % 8));
    s_write (file, file_size);
    free (file);

    char err [512];
    journal_scan_t scan;
    tally_t *tally = tally_new (s_baseline, NULL);
    if (!tally)
        abort ();
    journal_reader_t reader = { s_recover_header, s_recover, tally };
    el_err_t rc = journal_read (s_path, &reader, &scan, err, sizeof err);
    tally_destroy (&tally);
    if (flip >= 0 && file_size && rc != EL_ERR_CORRUPT && rc != EL_ERR_PARSE)
        abort ();       //  a flipped bit taken for a whole file or a torn tail

    journal_t *journal = NULL;
    journal_options_t options = { "fuzz", 4, true };
    if (journal_open (s_path, &options, NULL, &scan, &journal, err, sizeof err) == EL_OK) {
        journal_close (&journal);
        if (journal_read (s_path, NULL, &scan, err, sizeof err) != EL_OK || scan.cut_bytes
        ||  scan.version != 2)
            abort ();
    }
    unlink (s_path);
    unlink (s_corrupt_path);
    unlink (s_old_path);
    unlink (s_new_path);
    return 0;
}
