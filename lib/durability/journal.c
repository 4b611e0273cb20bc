/*  journal.c: see journal.h.  */
#include "journal.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define S_HEADER_SIZE   8
#define S_MAX_RECORD    (16u * 1024 * 1024)

struct journal {
    int fd;
    char *path;
    uint64_t committed;     /* file size after the last good commit */
    uint8_t *buffer;        /* records appended since */
    size_t used;
    size_t capacity;
    size_t pending;
};

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
s_crc (const uint8_t *payload, size_t size)
{
    return (uint32_t) crc32 (crc32 (0L, Z_NULL, 0), payload, (uInt) size);
}

//  Reads the whole file into memory: a night's journal is a few megabytes
static el_err_t
s_slurp (int fd, uint8_t **data_p, size_t *size_p)
{
    struct stat st;
    if (fstat (fd, &st))
        return EL_ERR_IO;
    size_t size = (size_t) st.st_size;
    uint8_t *data = malloc (size ? size : 1);
    if (!data)
        return EL_ERR_NOMEM;
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread (fd, data + got, size - got, (off_t) got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free (data);
            return EL_ERR_IO;
        }
        got += (size_t) n;
    }
    *data_p = data;
    *size_p = size;
    return EL_OK;
}

//  Walks the records of data; fills scan
static el_err_t
s_scan (const uint8_t *data, size_t size, const char *path, journal_record_fn *fn,
        void *arg, journal_scan_t *scan, char *err, size_t errlen)
{
    memset (scan, 0, sizeof *scan);
    if (size == 0)
        return EL_OK;
    if (size < JOURNAL_MAGIC_SIZE || memcmp (data, JOURNAL_MAGIC, JOURNAL_MAGIC_SIZE) != 0) {
        //  A crash while writing the magic of a new file leaves a prefix of it
        if (size < JOURNAL_MAGIC_SIZE && memcmp (data, JOURNAL_MAGIC, size) == 0) {
            scan->cut_bytes = size;
            return EL_OK;
        }
        snprintf (err, errlen, "%s: not a journal (bad magic)", path);
        return EL_ERR_PARSE;
    }
    size_t at = JOURNAL_MAGIC_SIZE;
    scan->good_bytes = at;
    while (at < size) {
        bool whole = size - at >= S_HEADER_SIZE;
        uint32_t length = whole ? s_get_u32 (data + at) : 0;
        whole = whole && length <= S_MAX_RECORD && size - at - S_HEADER_SIZE >= length;
        bool sound = whole && s_crc (data + at + S_HEADER_SIZE, length) == s_get_u32 (data + at + 4);
        if (!sound) {
            //  Bad and running to the end of the file: a torn write
            if (!whole || at + S_HEADER_SIZE + length == size) {
                scan->cut_bytes = size - at;
                return EL_OK;
            }
            scan->corrupt_middle = true;
            scan->corrupt_at = at;
            snprintf (err, errlen, "%s: corrupt record at byte %zu (record %zu), "
                      "%zu bytes follow it", path, at, scan->records + 1, size - at);
            return EL_ERR_CORRUPT;
        }
        if (fn && fn (arg, data + at + S_HEADER_SIZE, length))
            return EL_OK;
        at += S_HEADER_SIZE + length;
        scan->records++;
        scan->good_bytes = at;
    }
    return EL_OK;
}

el_err_t
journal_read (const char *path, journal_record_fn *fn, void *arg,
              journal_scan_t *scan, char *err, size_t errlen)
{
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
    rc = s_scan (data, size, path, fn, arg, scan, err, errlen);
    free (data);
    return rc;
}

//  Saves the bytes about to be cut, for the audit trail
static void
s_save_cut (const char *path, const uint8_t *data, size_t size)
{
    char name [4096];
    snprintf (name, sizeof name, "%s.corrupt", path);
    FILE *file = fopen (name, "wb");
    if (file) {
        fwrite (data, 1, size, file);
        fclose (file);
    }
}

el_err_t
journal_open (const char *path, bool truncate_corrupt, journal_record_fn *fn,
              void *arg, journal_scan_t *scan, journal_t **self_p,
              char *err, size_t errlen)
{
    *self_p = NULL;
    uint8_t *data = NULL;
    size_t size = 0;
    el_err_t rc = EL_OK;
    journal_t *self = calloc (1, sizeof *self);
    if (!self)
        return EL_ERR_NOMEM;
    self->fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    self->path = strdup (path);
    if (self->fd < 0 || !self->path) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        rc = EL_ERR_IO;
        goto cleanup;
    }
    rc = s_slurp (self->fd, &data, &size);
    if (rc) {
        snprintf (err, errlen, "%s: cannot read", path);
        goto cleanup;
    }
    rc = s_scan (data, size, path, fn, arg, scan, err, errlen);
    if (rc == EL_ERR_CORRUPT && truncate_corrupt) {
        s_save_cut (path, data + scan->corrupt_at, size - scan->corrupt_at);
        scan->cut_bytes = size - scan->corrupt_at;
        rc = EL_OK;
    }
    if (rc)
        goto cleanup;
    self->committed = size - scan->cut_bytes;
    if (scan->cut_bytes && (ftruncate (self->fd, (off_t) self->committed) || fdatasync (self->fd))) {
        snprintf (err, errlen, "%s: cannot cut torn tail: %s", path, strerror (errno));
        rc = EL_ERR_IO;
        goto cleanup;
    }
    if (self->committed == 0) {
        if (pwrite (self->fd, JOURNAL_MAGIC, JOURNAL_MAGIC_SIZE, 0) != JOURNAL_MAGIC_SIZE
        ||  fsync (self->fd)) {
            snprintf (err, errlen, "%s: cannot write: %s", path, strerror (errno));
            rc = EL_ERR_IO;
            goto cleanup;
        }
        self->committed = JOURNAL_MAGIC_SIZE;
    }
cleanup:
    free (data);
    if (rc)
        journal_close (&self);
    *self_p = self;
    return rc;
}

void
journal_close (journal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    journal_t *self = *self_p;
    if (self->fd >= 0)
        close (self->fd);
    free (self->path);
    free (self->buffer);
    free (self);
    *self_p = NULL;
}

el_err_t
journal_append (journal_t *self, const void *payload, size_t size)
{
    if (size > S_MAX_RECORD)
        return EL_ERR_INVALID;
    size_t need = self->used + S_HEADER_SIZE + size;
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
    uint8_t *at = self->buffer + self->used;
    s_put_u32 (at, (uint32_t) size);
    s_put_u32 (at + 4, s_crc (payload, size));
    memcpy (at + S_HEADER_SIZE, payload, size);
    self->used = need;
    self->pending++;
    return EL_OK;
}

el_err_t
journal_commit (journal_t *self, char *err, size_t errlen)
{
    if (self->used == 0)
        return EL_OK;
    size_t done = 0;
    int failure = 0;
    while (done < self->used) {
        ssize_t n = pwrite (self->fd, self->buffer + done, self->used - done,
                            (off_t) (self->committed + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            failure = n < 0 ? errno : ENOSPC;
            break;
        }
        done += (size_t) n;
    }
    if (!failure && fdatasync (self->fd))
        failure = errno;
    self->used = 0;
    self->pending = 0;
    if (failure) {
        snprintf (err, errlen, "%s: %s", self->path, strerror (failure));
        //  Leave no record on disk that was not acknowledged as durable
        if (ftruncate (self->fd, (off_t) self->committed) == 0)
            fdatasync (self->fd);
        return EL_ERR_IO;
    }
    self->committed += done;
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
