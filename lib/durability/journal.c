/*  journal.c: see journal.h.  */
#include "journal.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define S_MAX_RECORD    (16u * 1024 * 1024)
#define S_V1_FRAME_SIZE 8                   /* version 1: u32 length | u32 CRC */
#define S_KIND_HEADER   0x5244484Au         /* "JHDR" as little-endian bytes */
#define S_KIND_RECORD   0x4345524Au         /* "JREC" */
#define S_OPEN_TRIES    8

struct journal {
    int fd;
    char *path;
    uint64_t committed;     /* file size after the last good commit */
    uint64_t first;         /* where the first record starts */
    uint64_t *ends;         /* where each committed record ends */
    size_t records;
    size_t ends_capacity;
    uint8_t *buffer;        /* frames appended since */
    size_t used;
    size_t capacity;
    size_t pending;
};

typedef enum { S_FRAME_WHOLE, S_FRAME_TORN, S_FRAME_CORRUPT } s_frame_t;

static void
s_put_u32 (uint8_t *at, uint32_t value)
{
    at [0] = value; at [1] = value >> 8; at [2] = value >> 16; at [3] = value >> 24;
}

static uint32_t
s_get_u32 (const uint8_t *at)
{
    return at [0] | (uint32_t) at [1] << 8 | (uint32_t) at [2] << 16 | (uint32_t) at [3] << 24;
}

static uint32_t
s_crc (const uint8_t *bytes, size_t size)
{
    return (uint32_t) crc32 (crc32 (0L, Z_NULL, 0), bytes, (uInt) size);
}

//  Writes a frame (header and payload) at `at`; returns its size
static size_t
s_put_frame (uint8_t *at, uint32_t kind, const void *payload, size_t size)
{
    s_put_u32 (at, kind);
    s_put_u32 (at + 4, (uint32_t) size);
    s_put_u32 (at + 8, s_crc (payload, size));
    s_put_u32 (at + 12, s_crc (at, 12));
    if (size)
        memcpy (at + JOURNAL_FRAME_SIZE, payload, size);
    return JOURNAL_FRAME_SIZE + size;
}

//  True if one flipped bit explains why bytes do not match their stored
//  CRC. CRC-32 is linear: the CRC of the bytes as read, xor the stored one,
//  is the CRC (with no initial or final xor) of the error pattern alone, so
//  each single-bit error has its own syndrome, found by walking back from
//  the last byte. A torn write (zeros, or a sector of old bytes) is never
//  one bit off, but bit rot or a bad cable is.
static bool
s_one_bit_off (const uint8_t *bytes, size_t size, uint32_t stored)
{
    uint32_t syndrome = s_crc (bytes, size) ^ stored;
    if (syndrome && !(syndrome & (syndrome - 1)))
        return true;                //  the flipped bit is in the stored CRC
    const z_crc_t *table = get_crc_table ();
    uint32_t bit [8];
    for (int b = 0; b < 8; b++)
        bit [b] = (uint32_t) table [1u << b];
    for (size_t i = size; i-- > 0;) {
        for (int b = 0; b < 8; b++)
            if (bit [b] == syndrome)
                return true;
        for (int b = 0; b < 8; b++)
            bit [b] = (uint32_t) table [bit [b] & 0xFF] ^ (bit [b] >> 8);
    }
    return false;
}

//  True if a whole frame header (a known kind, its CRC right) starts
//  anywhere in data from `from` on: then what lies before it was written
//  before a later frame was, and is no torn tail. (A record's payload could
//  hold such bytes by chance or by a sender's design; then we refuse a torn
//  tail as corrupt, the safe way to be wrong.)
static bool
s_frame_follows (const uint8_t *data, size_t size, size_t from)
{
    for (size_t at = from; at + JOURNAL_FRAME_SIZE <= size; at++) {
        if (data [at] != 'J')
            continue;
        uint32_t kind = s_get_u32 (data + at);
        if ((kind == S_KIND_RECORD || kind == S_KIND_HEADER)
        &&  s_crc (data + at, 12) == s_get_u32 (data + at + 12))
            return true;
    }
    return false;
}

//  What the frame at `at` is (the layout in journal.h): whole (its payload
//  length in *length), a torn tail, or corrupt
static s_frame_t
s_frame (const uint8_t *data, size_t size, size_t at, uint32_t kind, uint32_t max,
         uint32_t *length)
{
    if (size - at < JOURNAL_FRAME_SIZE)
        return S_FRAME_TORN;        //  the file ends inside the frame header
    const uint8_t *head = data + at;
    if (s_crc (head, 12) != s_get_u32 (head + 12)) {
        if (s_one_bit_off (head, 12, s_get_u32 (head + 12))
        ||  s_frame_follows (data, size, at + 1))
            return S_FRAME_CORRUPT;
        return S_FRAME_TORN;
    }
    //  The header is as written: its fields can be believed
    *length = s_get_u32 (head + 4);
    if (s_get_u32 (head) != kind || *length > max)
        return S_FRAME_CORRUPT;
    if (*length > size - at - JOURNAL_FRAME_SIZE)
        return S_FRAME_TORN;        //  the file ends inside the payload
    const uint8_t *payload = head + JOURNAL_FRAME_SIZE;
    uint32_t stored = s_get_u32 (head + 8);
    if (s_crc (payload, *length) != stored) {
        if (s_one_bit_off (payload, *length, stored)
        ||  s_frame_follows (data, size, at + JOURNAL_FRAME_SIZE))
            return S_FRAME_CORRUPT;
        return S_FRAME_TORN;
    }
    return S_FRAME_WHOLE;
}

static el_err_t
s_corrupt (journal_scan_t *scan, uint64_t at, size_t size, const char *path, const char *what,
           char *err, size_t errlen)
{
    scan->corrupt_middle = true;
    scan->corrupt_at = at;
    snprintf (err, errlen, "%s: corrupt %s at byte %llu (record %zu), %llu bytes from there",
              path, what, (unsigned long long) at, scan->records + 1,
              (unsigned long long) (size - at));
    return EL_ERR_CORRUPT;
}

static bool
s_deliver (journal_record_fn *fn, const journal_reader_t *reader, const uint8_t *payload,
           size_t size, journal_scan_t *scan)
{
    if (fn && fn (reader->arg, payload, size))
        scan->stopped = true;
    return scan->stopped;
}

//  Version 2: magic, header frame, record frames
static el_err_t
s_scan_v2 (const uint8_t *data, size_t size, const char *path, const journal_reader_t *reader,
           journal_scan_t *scan, char *err, size_t errlen)
{
    size_t at = JOURNAL_MAGIC_SIZE;
    uint32_t length = 0;
    s_frame_t frame = s_frame (data, size, at, S_KIND_HEADER, JOURNAL_MAX_HEADER, &length);
    if (frame == S_FRAME_TORN) {
        //  A crash while the file was being created, before any record
        scan->cut_bytes = size;
        return EL_OK;
    }
    if (frame == S_FRAME_CORRUPT) {
        //  Without its header a journal says nothing of whose it is
        s_corrupt (scan, 0, size, path, "header", err, errlen);
        return EL_ERR_CORRUPT;
    }
    if (s_deliver (reader ? reader->on_header : NULL, reader, data + at + JOURNAL_FRAME_SIZE,
                   length, scan))
        return EL_OK;
    at += JOURNAL_FRAME_SIZE + length;
    scan->good_bytes = at;
    while (at < size) {
        frame = s_frame (data, size, at, S_KIND_RECORD, S_MAX_RECORD, &length);
        if (frame == S_FRAME_TORN) {
            scan->cut_bytes = size - at;
            return EL_OK;
        }
        if (frame == S_FRAME_CORRUPT)
            return s_corrupt (scan, at, size, path, "record", err, errlen);
        if (s_deliver (reader ? reader->on_record : NULL, reader,
                       data + at + JOURNAL_FRAME_SIZE, length, scan))
            return EL_OK;
        at += JOURNAL_FRAME_SIZE + length;
        scan->records++;
        scan->good_bytes = at;
    }
    return EL_OK;
}

//  Version 1: magic, then records of u32 length | u32 CRC | payload. Its
//  length is unchecked, so it can only guess: a bad record running to the
//  end of the file is taken for a torn write.
static el_err_t
s_scan_v1 (const uint8_t *data, size_t size, const char *path, const journal_reader_t *reader,
           journal_scan_t *scan, char *err, size_t errlen)
{
    size_t at = JOURNAL_MAGIC_SIZE;
    scan->good_bytes = at;
    while (at < size) {
        bool whole = size - at >= S_V1_FRAME_SIZE;
        uint32_t length = whole ? s_get_u32 (data + at) : 0;
        whole = whole && length <= S_MAX_RECORD && size - at - S_V1_FRAME_SIZE >= length;
        bool sound = whole && s_crc (data + at + S_V1_FRAME_SIZE, length) == s_get_u32 (data + at + 4);
        if (!sound) {
            if (!whole || at + S_V1_FRAME_SIZE + length == size) {
                scan->cut_bytes = size - at;
                return EL_OK;
            }
            return s_corrupt (scan, at, size, path, "record", err, errlen);
        }
        if (s_deliver (reader ? reader->on_record : NULL, reader,
                       data + at + S_V1_FRAME_SIZE, length, scan))
            return EL_OK;
        at += S_V1_FRAME_SIZE + length;
        scan->records++;
        scan->good_bytes = at;
    }
    return EL_OK;
}

//  Walks the frames of data; fills scan
static el_err_t
s_scan (const uint8_t *data, size_t size, const char *path, const journal_reader_t *reader,
        journal_scan_t *scan, char *err, size_t errlen)
{
    memset (scan, 0, sizeof *scan);
    if (size == 0)
        return EL_OK;
    if (size < JOURNAL_MAGIC_SIZE) {
        //  A crash while writing the magic of a new file leaves a prefix of it
        if (memcmp (data, JOURNAL_MAGIC, size) == 0 || memcmp (data, JOURNAL_MAGIC_V1, size) == 0) {
            scan->cut_bytes = size;
            return EL_OK;
        }
    }
    else
    if (memcmp (data, JOURNAL_MAGIC, JOURNAL_MAGIC_SIZE) == 0) {
        scan->version = 2;
        return s_scan_v2 (data, size, path, reader, scan, err, errlen);
    }
    else
    if (memcmp (data, JOURNAL_MAGIC_V1, JOURNAL_MAGIC_SIZE) == 0) {
        scan->version = 1;
        return s_scan_v1 (data, size, path, reader, scan, err, errlen);
    }
    snprintf (err, errlen, "%s: not a journal (bad magic)", path);
    return EL_ERR_PARSE;
}

//  Reads size bytes of fd from offset into a new buffer (a night's
//  journal is a few megabytes)
static el_err_t
s_read_all (int fd, size_t size, uint64_t offset, uint8_t **data_p)
{
    *data_p = NULL;
    uint8_t *data = malloc (size ? size : 1);
    if (!data)
        return EL_ERR_NOMEM;
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread (fd, data + got, size - got, (off_t) (offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free (data);
            return EL_ERR_IO;
        }
        got += (size_t) n;
    }
    *data_p = data;
    return EL_OK;
}

static el_err_t
s_slurp (int fd, uint8_t **data_p, size_t *size_p)
{
    struct stat st;
    if (fstat (fd, &st))
        return EL_ERR_IO;
    *size_p = (size_t) st.st_size;
    return s_read_all (fd, *size_p, 0, data_p);
}

el_err_t
journal_read (const char *path, const journal_reader_t *reader,
              journal_scan_t *scan, char *err, size_t errlen)
{
    memset (scan, 0, sizeof *scan);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        return EL_ERR_IO;
    }
    uint8_t *data = NULL;
    size_t size = 0;
    el_err_t rc = s_slurp (fd, &data, &size);
    close (fd);
    if (rc) {
        snprintf (err, errlen, "%s: cannot read", path);
        return rc;
    }
    rc = s_scan (data, size, path, reader, scan, err, errlen);
    free (data);
    return rc;
}

//  Makes a new name in a directory durable: without this a power cut can
//  lose a file whose own contents were synced
static int
s_sync_dir (const char *path)
{
    char *copy = strdup (path);
    if (!copy)
        return -1;
    int fd = open (dirname (copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free (copy);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

//  Opens path for writing, creating it (0600: it names every centre and its
//  figures) if absent, and takes the exclusive lock. flock, not fcntl: an
//  fcntl lock is dropped when the process closes any descriptor of the
//  file, and journal_read opens and closes it. Sets *created.
static el_err_t
s_open_locked (const char *path, int *fd_p, bool *created, char *err, size_t errlen)
{
    for (int tries = 0; tries < S_OPEN_TRIES; tries++) {
        *created = false;
        int fd = open (path, O_RDWR | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0 && errno == EEXIST)
                continue;           //  another process made it first
            *created = fd >= 0;
        }
        if (fd < 0) {
            snprintf (err, errlen, "%s: %s", path, strerror (errno));
            return EL_ERR_IO;
        }
        if (flock (fd, LOCK_EX | LOCK_NB)) {
            int failure = errno;
            close (fd);
            if (failure == EWOULDBLOCK)
                snprintf (err, errlen, "%s: in use: another process holds its lock "
                          "(one aggregator per journal)", path);
            else
                snprintf (err, errlen, "%s: cannot lock: %s", path, strerror (failure));
            return EL_ERR_IO;
        }
        //  Locked; but is it still the file at path? An upgrade renames a
        //  new file over the old one (s_upgrade), and its lock is its own
        struct stat held, named;
        if (fstat (fd, &held) == 0 && stat (path, &named) == 0
        &&  held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
            *fd_p = fd;
            return EL_OK;
        }
        close (fd);
    }
    snprintf (err, errlen, "%s: replaced again and again while being opened", path);
    return EL_ERR_IO;
}

//  Writes the whole of bytes at offset, retrying short writes; 0 or errno
static int
s_write_all (int fd, const uint8_t *bytes, size_t size, uint64_t offset)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite (fd, bytes + done, size - done, (off_t) (offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : ENOSPC;
        done += (size_t) n;
    }
    return 0;
}

//  The start of a version 2 file (magic and header frame) in a new buffer
static uint8_t *
s_start (const journal_options_t *options, size_t extra, size_t *size)
{
    *size = JOURNAL_MAGIC_SIZE + JOURNAL_FRAME_SIZE + options->header_size;
    uint8_t *bytes = malloc (*size + extra);
    if (bytes) {
        memcpy (bytes, JOURNAL_MAGIC, JOURNAL_MAGIC_SIZE);
        s_put_frame (bytes + JOURNAL_MAGIC_SIZE, S_KIND_HEADER, options->header,
                     options->header_size);
    }
    return bytes;
}

//  A new (or emptied) file gets its magic and header, synced
static el_err_t
s_write_start (journal_t *self, const journal_options_t *options, char *err, size_t errlen)
{
    size_t size;
    uint8_t *bytes = s_start (options, 0, &size);
    if (!bytes)
        return EL_ERR_NOMEM;
    int failure = s_write_all (self->fd, bytes, size, 0);
    free (bytes);
    if (!failure && fsync (self->fd))
        failure = errno;
    if (failure) {
        snprintf (err, errlen, "%s: cannot write: %s", self->path, strerror (failure));
        return EL_ERR_IO;
    }
    self->committed = size;
    return EL_OK;
}

//  A version 1 journal becomes version 2: the same records, framed anew
//  after options' header, written beside it and renamed over it, so that a
//  crash leaves one or the other whole. The old file stays as PATH.v1.
static el_err_t
s_upgrade (journal_t *self, const journal_options_t *options, const uint8_t *data,
           const journal_scan_t *scan, char *err, size_t errlen)
{
    size_t size;
    size_t frames = scan->records * (JOURNAL_FRAME_SIZE - S_V1_FRAME_SIZE)
                  + scan->good_bytes - JOURNAL_MAGIC_SIZE;
    uint8_t *bytes = s_start (options, frames, &size);
    if (!bytes)
        return EL_ERR_NOMEM;
    for (size_t at = JOURNAL_MAGIC_SIZE; at < scan->good_bytes;) {
        uint32_t length = s_get_u32 (data + at);
        size += s_put_frame (bytes + size, S_KIND_RECORD, data + at + S_V1_FRAME_SIZE, length);
        at += S_V1_FRAME_SIZE + length;
    }
    char fresh [4096], old [4096];
    snprintf (fresh, sizeof fresh, "%s.v2-new", self->path);
    snprintf (old, sizeof old, "%s.v1", self->path);
    el_err_t rc = EL_ERR_IO;
    int fd = open (fresh, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int failure = fd < 0 ? errno : 0;
    if (!failure && flock (fd, LOCK_EX | LOCK_NB))
        failure = errno;
    if (!failure)
        failure = s_write_all (fd, bytes, size, 0);
    if (!failure && fsync (fd))
        failure = errno;
    free (bytes);
    if (failure) {
        snprintf (err, errlen, "%s: cannot write %s: %s", self->path, fresh, strerror (failure));
        goto cleanup;
    }
    if (link (self->path, old)) {
        snprintf (err, errlen, "%s: cannot keep the version 1 journal as %s: %s",
                  self->path, old, strerror (errno));
        goto cleanup;
    }
    if (rename (fresh, self->path) || s_sync_dir (self->path)) {
        snprintf (err, errlen, "%s: cannot put the version 2 journal in place: %s",
                  self->path, strerror (errno));
        goto cleanup;
    }
    close (self->fd);
    self->fd = fd;
    fd = -1;
    self->committed = size;
    rc = EL_OK;
cleanup:
    if (fd >= 0) {
        close (fd);
        unlink (fresh);
    }
    return rc;
}

//  Room in the index for `more` records
static el_err_t
s_index_room (journal_t *self, size_t more)
{
    if (self->records + more <= self->ends_capacity)
        return EL_OK;
    size_t capacity = self->ends_capacity ? self->ends_capacity : 1024;
    while (capacity < self->records + more)
        capacity *= 2;
    uint64_t *ends = realloc (self->ends, capacity * sizeof *ends);
    if (!ends)
        return EL_ERR_NOMEM;
    self->ends = ends;
    self->ends_capacity = capacity;
    return EL_OK;
}

//  Indexes the committed frames (read and checked already): where each
//  record ends, so that one can be read again or cut after
static el_err_t
s_index (journal_t *self, char *err, size_t errlen)
{
    uint8_t *data = NULL;
    if (s_read_all (self->fd, (size_t) self->committed, 0, &data)) {
        snprintf (err, errlen, "%s: cannot read", self->path);
        return EL_ERR_IO;
    }
    size_t at = JOURNAL_MAGIC_SIZE;
    at += JOURNAL_FRAME_SIZE + s_get_u32 (data + at + 4);
    self->first = at;
    self->records = 0;
    el_err_t rc = EL_OK;
    while (at < self->committed && !rc) {
        at += JOURNAL_FRAME_SIZE + s_get_u32 (data + at + 4);
        rc = s_index_room (self, 1);
        if (!rc)
            self->ends [self->records++] = at;
    }
    free (data);
    return rc;
}

//  Saves the bytes about to be cut, for the audit trail
static void
s_save_cut (const char *path, const uint8_t *data, size_t size)
{
    char name [4096];
    snprintf (name, sizeof name, "%s.corrupt", path);
    int fd = open (name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (s_write_all (fd, data, size, 0) == 0)
            fsync (fd);
        close (fd);
    }
}

el_err_t
journal_open (const char *path, const journal_options_t *options,
              const journal_reader_t *reader, journal_scan_t *scan,
              journal_t **self_p, char *err, size_t errlen)
{
    *self_p = NULL;
    memset (scan, 0, sizeof *scan);
    if (options->header_size > JOURNAL_MAX_HEADER)
        return EL_ERR_INVALID;
    uint8_t *data = NULL;
    size_t size = 0;
    bool created = false;
    journal_t *self = calloc (1, sizeof *self);
    if (!self)
        return EL_ERR_NOMEM;
    self->fd = -1;
    self->path = strdup (path);
    el_err_t rc = self->path ? s_open_locked (path, &self->fd, &created, err, errlen) : EL_ERR_NOMEM;
    if (rc)
        goto cleanup;
    rc = s_slurp (self->fd, &data, &size);
    if (rc) {
        snprintf (err, errlen, "%s: cannot read", path);
        goto cleanup;
    }
    rc = s_scan (data, size, path, reader, scan, err, errlen);
    if (rc == EL_ERR_CORRUPT && options->truncate_corrupt) {
        s_save_cut (path, data + scan->corrupt_at, size - scan->corrupt_at);
        scan->cut_bytes = size - scan->corrupt_at;
        rc = EL_OK;
    }
    if (rc)
        goto cleanup;
    if (scan->stopped) {
        snprintf (err, errlen, "%s: refused by its reader at record %zu", path, scan->records + 1);
        rc = EL_ERR_INVALID;
        goto cleanup;
    }
    if (scan->version == 1) {
        rc = s_upgrade (self, options, data, scan, err, errlen);
        if (!rc)
            rc = s_index (self, err, errlen);
        goto cleanup;
    }
    self->committed = size - scan->cut_bytes;
    if (scan->cut_bytes && (ftruncate (self->fd, (off_t) self->committed) || fdatasync (self->fd))) {
        snprintf (err, errlen, "%s: cannot cut torn tail: %s", path, strerror (errno));
        rc = EL_ERR_IO;
        goto cleanup;
    }
    if (self->committed == 0)
        rc = s_write_start (self, options, err, errlen);
    if (!rc && created && s_sync_dir (path)) {
        snprintf (err, errlen, "%s: cannot sync its directory: %s", path, strerror (errno));
        rc = EL_ERR_IO;
    }
    if (!rc)
        rc = s_index (self, err, errlen);
cleanup:
    free (data);
    if (rc)
        journal_close (&self);
    *self_p = self;
    return rc;
}

size_t
journal_records (const journal_t *self)
{
    return self->records;
}

el_err_t
journal_get (journal_t *self, size_t index, uint8_t **payload, size_t *size,
             char *err, size_t errlen)
{
    *payload = NULL;
    if (index >= self->records)
        return EL_ERR_NOT_FOUND;
    uint64_t start = index ? self->ends [index - 1] : self->first;
    size_t frame = (size_t) (self->ends [index] - start);
    uint8_t *data;
    el_err_t rc = s_read_all (self->fd, frame, start, &data);
    if (rc) {
        snprintf (err, errlen, "%s: cannot read record %zu", self->path, index + 1);
        return rc;
    }
    uint32_t length = 0;
    if (s_frame (data, frame, 0, S_KIND_RECORD, S_MAX_RECORD, &length) != S_FRAME_WHOLE
    ||  length != frame - JOURNAL_FRAME_SIZE) {
        free (data);
        snprintf (err, errlen, "%s: record %zu no longer reads whole", self->path, index + 1);
        return EL_ERR_CORRUPT;
    }
    memmove (data, data + JOURNAL_FRAME_SIZE, length);
    *payload = data;
    *size = length;
    return EL_OK;
}

el_err_t
journal_truncate (journal_t *self, size_t keep, char *err, size_t errlen)
{
    if (self->used)
        return EL_ERR_INVALID;
    if (keep >= self->records)
        return EL_OK;
    uint64_t size = keep ? self->ends [keep - 1] : self->first;
    if (ftruncate (self->fd, (off_t) size) || fdatasync (self->fd)) {
        snprintf (err, errlen, "%s: cannot cut back to %zu records: %s", self->path, keep,
                  strerror (errno));
        return EL_ERR_IO;
    }
    self->committed = size;
    self->records = keep;
    return EL_OK;
}

void
journal_close (journal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    journal_t *self = *self_p;
    if (self->fd >= 0)
        close (self->fd);       //  and with it the lock
    free (self->path);
    free (self->ends);
    free (self->buffer);
    free (self);
    *self_p = NULL;
}

el_err_t
journal_replay (journal_t *self, const journal_reader_t *reader, char *err, size_t errlen)
{
    uint8_t *data = NULL;
    if (s_read_all (self->fd, (size_t) self->committed, 0, &data)) {
        snprintf (err, errlen, "%s: cannot read its committed records", self->path);
        return EL_ERR_IO;
    }
    journal_scan_t scan;
    el_err_t rc = s_scan (data, (size_t) self->committed, self->path, reader, &scan, err, errlen);
    free (data);
    if (!rc && scan.cut_bytes) {
        snprintf (err, errlen, "%s: its committed records no longer read whole", self->path);
        rc = EL_ERR_CORRUPT;
    }
    return rc;
}

el_err_t
journal_append (journal_t *self, const void *payload, size_t size)
{
    if (size > S_MAX_RECORD)
        return EL_ERR_INVALID;
    size_t need = self->used + JOURNAL_FRAME_SIZE + size;
    if (need > self->capacity) {
        size_t capacity = self->capacity ? self->capacity : 64 * 1024;
        while (capacity < need)
            capacity *= 2;
        uint8_t *buffer = realloc (self->buffer, capacity);
        if (!buffer)
            return EL_ERR_NOMEM;
        self->buffer = buffer;
        self->capacity = capacity;
    }
    self->used += s_put_frame (self->buffer + self->used, S_KIND_RECORD, payload, size);
    self->pending++;
    return EL_OK;
}

el_err_t
journal_commit (journal_t *self, char *err, size_t errlen)
{
    if (self->used == 0)
        return EL_OK;
    //  Room to index the batch first: once it is on disk it must be indexed
    if (s_index_room (self, self->pending)) {
        snprintf (err, errlen, "%s: out of memory", self->path);
        journal_discard (self);
        return EL_ERR_NOMEM;
    }
    int failure = s_write_all (self->fd, self->buffer, self->used, self->committed);
    if (!failure && fdatasync (self->fd))
        failure = errno;
    size_t written = self->used;
    self->used = 0;
    self->pending = 0;
    if (failure) {
        snprintf (err, errlen, "%s: %s", self->path, strerror (failure));
        //  Leave no record on disk that was not acknowledged as durable
        if (ftruncate (self->fd, (off_t) self->committed) == 0)
            fdatasync (self->fd);
        return EL_ERR_IO;
    }
    for (size_t at = 0; at < written;) {
        at += JOURNAL_FRAME_SIZE + s_get_u32 (self->buffer + at + 4);
        self->ends [self->records++] = self->committed + at;
    }
    self->committed += written;
    return EL_OK;
}

void
journal_discard (journal_t *self)
{
    self->used = 0;
    self->pending = 0;
}

size_t
journal_pending (const journal_t *self)
{
    return self->pending;
}
