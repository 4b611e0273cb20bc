/*  keys.c: see keys.h.  */
#include "keys.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

bool
keys_valid (const char *text)
{
    uint8_t raw [32];
    return text && strlen (text) == 40 && zmq_z85_decode (raw, text) != NULL;
}

void
keys_id_raw (const unsigned char raw [32], char id [KEYS_ID_SIZE])
{
    char z85 [KEYS_Z85_SIZE];
    if (zmq_z85_encode (z85, raw, 32))
        snprintf (id, KEYS_ID_SIZE, "%.8s", z85);
    else
        snprintf (id, KEYS_ID_SIZE, "????????");
}

void
keys_id (const char *z85, char id [KEYS_ID_SIZE])
{
    snprintf (id, KEYS_ID_SIZE, "%.8s", z85 ? z85 : "");
}

//  Writes one line to a new file; never replaces an existing one
static el_err_t
s_write_new (const char *path, const char *line, mode_t mode, char *err, size_t errlen)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf (err, errlen, "cannot create %s: %s", path, strerror (errno));
        return EL_ERR_IO;
    }
    //  The umask may have widened nothing, but be explicit about the secret
    size_t len = strlen (line);
    bool ok = fchmod (fd, mode) == 0 && write (fd, line, len) == (ssize_t) len
           && write (fd, "\n", 1) == 1 && fsync (fd) == 0;
    int saved = errno;
    if (close (fd) && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        unlink (path);
        snprintf (err, errlen, "cannot write %s: %s", path, strerror (saved));
        return EL_ERR_IO;
    }
    return EL_OK;
}

el_err_t
keys_generate (const char *name, char *err, size_t errlen)
{
    char public_key [KEYS_Z85_SIZE], secret_key [KEYS_Z85_SIZE];
    char public_path [4096], secret_path [4096];
    if (snprintf (public_path, sizeof public_path, "%s.pub", name) >= (int) sizeof public_path
    ||  snprintf (secret_path, sizeof secret_path, "%s.key", name) >= (int) sizeof secret_path) {
        snprintf (err, errlen, "key name too long");
        return EL_ERR_INVALID;
    }
    if (zmq_curve_keypair (public_key, secret_key)) {
        snprintf (err, errlen, "cannot make a key pair: %s (libzmq without CURVE?)",
                  zmq_strerror (errno));
        return EL_ERR_INVALID;
    }
    el_err_t rc = s_write_new (secret_path, secret_key, 0600, err, errlen);
    if (rc == EL_OK) {
        rc = s_write_new (public_path, public_key, 0644, err, errlen);
        if (rc)
            unlink (secret_path);
    }
    memset (secret_key, 0, sizeof secret_key);
    return rc;
}

el_err_t
keys_check_private (int fd, const char *path, const char *what, const char *advice,
                    char *err, size_t errlen)
{
    struct stat st;
    if (fstat (fd, &st)) {
        snprintf (err, errlen, "cannot stat %s: %s", path, strerror (errno));
        return EL_ERR_IO;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf (err, errlen, "%s %s is readable by group or others (mode %03o): refusing it; "
                  "run chmod 600 %s%s", what, path, (unsigned) (st.st_mode & 0777), path, advice);
        return EL_ERR_INVALID;
    }
    return EL_OK;
}

//  Reads the one line of a key file into key
static el_err_t
s_read_key (const char *path, bool secret, char key [KEYS_Z85_SIZE], char *err, size_t errlen)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (err, errlen, "cannot open %s: %s", path, strerror (errno));
        return EL_ERR_IO;
    }
    el_err_t rc = secret ? keys_check_private (fileno (file), path, "secret key",
                                               ", and make a new key if others may have read it",
                                               err, errlen)
                         : EL_OK;
    if (rc == EL_OK) {
        char line [128] = "";
        if (!fgets (line, sizeof line, file))
            line [0] = 0;
        line [strcspn (line, "\r\n")] = 0;
        int extra = fgetc (file);
        if (!keys_valid (line) || (extra != EOF && extra != '\n')) {
            snprintf (err, errlen, "%s is not a key file (one line of 40 Z85 characters)", path);
            rc = EL_ERR_PARSE;
        }
        else
            memcpy (key, line, KEYS_Z85_SIZE);
        memset (line, 0, sizeof line);
    }
    fclose (file);
    return rc;
}

el_err_t
keys_read_public (const char *path, char key [KEYS_Z85_SIZE], char *err, size_t errlen)
{
    return s_read_key (path, false, key, err, errlen);
}

el_err_t
keys_read_secret (const char *path, char key [KEYS_Z85_SIZE], char *err, size_t errlen)
{
    return s_read_key (path, true, key, err, errlen);
}

el_err_t
keys_read_pair (const char *name, char public_key [KEYS_Z85_SIZE],
                char secret_key [KEYS_Z85_SIZE], char *err, size_t errlen)
{
    char stem [4096], path [4200];
    size_t len = strlen (name);
    if (len >= sizeof stem) {
        snprintf (err, errlen, "key name too long");
        return EL_ERR_INVALID;
    }
    memcpy (stem, name, len + 1);
    if (len > 4 && (strcmp (stem + len - 4, ".key") == 0 || strcmp (stem + len - 4, ".pub") == 0))
        stem [len - 4] = 0;
    snprintf (path, sizeof path, "%s.key", stem);
    el_err_t rc = keys_read_secret (path, secret_key, err, errlen);
    if (rc)
        return rc;
    snprintf (path, sizeof path, "%s.pub", stem);
    rc = keys_read_public (path, public_key, err, errlen);
    if (rc)
        return rc;
    char derived [KEYS_Z85_SIZE];
    if (zmq_curve_public (derived, secret_key) || strcmp (derived, public_key) != 0) {
        snprintf (err, errlen, "%s.pub is not the public key of %s.key", stem, stem);
        return EL_ERR_INVALID;
    }
    return EL_OK;
}

el_err_t
keys_client_load (keys_client_t *self, const char *server_public_file,
                  const char *own_name, char *err, size_t errlen)
{
    el_err_t rc = keys_read_public (server_public_file, self->server_public, err, errlen);
    if (rc == EL_OK)
        rc = keys_read_pair (own_name, self->public_key, self->secret_key, err, errlen);
    return rc;
}

int
keys_apply_client (void *socket, const keys_client_t *self)
{
    return zmq_setsockopt (socket, ZMQ_CURVE_SERVERKEY, self->server_public, 40)
        || zmq_setsockopt (socket, ZMQ_CURVE_PUBLICKEY, self->public_key, 40)
        || zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, self->secret_key, 40) ? -1 : 0;
}

int
keys_apply_server (void *socket, const char *secret_key, const char *zap_domain)
{
    int on = 1;
    if (zmq_setsockopt (socket, ZMQ_CURVE_SERVER, &on, sizeof on)
    ||  zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, secret_key, 40))
        return -1;
    if (zap_domain && zmq_setsockopt (socket, ZMQ_ZAP_DOMAIN, zap_domain, strlen (zap_domain)))
        return -1;
    return 0;
}
