/*  auth.c: see auth.h.  */
#include "auth.h"
#include "keys.h"
#include "log.h"
#include "strmap.h"
#include "clock.h"
#include "net.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ZAP_ENDPOINT  "inproc://zeromq.zap.01"
#define S_ZAP_FRAMES    8       /* a request has 7 frames for CURVE */
#define S_QUIET_MS      10000   /* a refused key is logged once per this */
#define S_RECENT        16
#define S_ONLY          4       /* domains of one key each */

typedef struct {
    char *centre;
    char key_id [KEYS_ID_SIZE];
} s_key_t;

typedef struct {
    char key_id [KEYS_ID_SIZE];
    int64_t logged_ms;
    size_t suppressed;
} s_refusal_t;

//  A key let in on a ZAP domain of its own (the peer link of a pair)
typedef struct {
    char domain [AUTH_MAX_NAME + 1];
    char key [KEYS_Z85_SIZE];
    char name [AUTH_MAX_NAME + 1];
} s_only_t;

struct auth {
    void *handler;
    char *domain;               /* the allow-list's domain; NULL: none */
    s_only_t only [S_ONLY];
    size_t n_only;
    strmap_t *by_key;           /* Z85 public key -> index in keys */
    strmap_t *centres;          /* centre name -> 1 */
    strmap_t *permits;          /* "centre ONS_ID" -> 1 */
    s_key_t *keys;
    size_t n_keys;
    s_refusal_t recent [S_RECENT];  /* refused keys, so a retrying client
                                       does not flood the log */
    size_t next_recent;
};

//  Letters, digits and . _ - @ : what a centre name or seat id may hold
static bool
s_token_ok (const char *text, size_t max)
{
    size_t len = strlen (text);
    if (len == 0 || len > max)
        return false;
    for (const char *c = text; *c; c++)
        if (!isalnum ((unsigned char) *c) && !strchr ("._-@", *c))
            return false;
    return true;
}

static el_err_t
s_parse_line (auth_t *self, char *line, const char *path, size_t number,
              char *err, size_t errlen)
{
    char *save = NULL;
    char *key = strtok_r (line, " \t\r\n", &save);
    if (!key || *key == '#')
        return EL_OK;       //  blank or comment
    char *centre = strtok_r (NULL, " \t\r\n", &save);
    size_t index;
    if (!keys_valid (key)) {
        snprintf (err, errlen, "%s:%zu: \"%.48s\" is not a public key (40 Z85 characters)",
                  path, number, key);
        return EL_ERR_PARSE;
    }
    if (strmap_get (self->by_key, key, &index)) {
        snprintf (err, errlen, "%s:%zu: key %.8s is listed twice", path, number, key);
        return EL_ERR_PARSE;
    }
    if (!centre || !s_token_ok (centre, AUTH_MAX_NAME)) {
        snprintf (err, errlen, "%s:%zu: a centre name (letters, digits, . _ - @; at most %d) "
                  "must follow the key", path, number, AUTH_MAX_NAME);
        return EL_ERR_PARSE;
    }
    s_key_t *keys = realloc (self->keys, (self->n_keys + 1) * sizeof *keys);
    if (!keys)
        goto nomem;
    self->keys = keys;
    s_key_t *entry = &self->keys [self->n_keys];
    entry->centre = strdup (centre);
    if (!entry->centre)
        goto nomem;
    keys_id (key, entry->key_id);
    self->n_keys++;
    if (strmap_put (self->by_key, key, self->n_keys - 1)
    ||  strmap_put (self->centres, centre, 1))
        goto nomem;
    char *seat;
    while ((seat = strtok_r (NULL, " \t\r\n", &save))) {
        if (*seat == '#')
            break;          //  a trailing comment
        if (!s_token_ok (seat, AUTH_MAX_NAME)) {
            snprintf (err, errlen, "%s:%zu: \"%.48s\" is not a seat id", path, number, seat);
            return EL_ERR_PARSE;
        }
        char permit [2 * AUTH_MAX_NAME + 2];
        snprintf (permit, sizeof permit, "%s %s", centre, seat);
        if (strmap_put (self->permits, permit, 1))
            goto nomem;
    }
    return EL_OK;
nomem:
    snprintf (err, errlen, "%s:%zu: out of memory", path, number);
    return EL_ERR_NOMEM;
}

static el_err_t
s_load (auth_t *self, const char *path, char *err, size_t errlen)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (err, errlen, "cannot open allow-list %s: %s", path, strerror (errno));
        return EL_ERR_IO;
    }
    char *line = NULL;
    size_t capacity = 0, number = 0;
    //  Whoever can change it can let themselves in; only its owner reads it,
    //  as with a secret key
    el_err_t rc = keys_check_private (fileno (file), path, "allow-list", "", err, errlen);
    while (rc == EL_OK && getline (&line, &capacity, file) >= 0) {
        number++;
        if (strlen (line) > 64 * 1024) {
            snprintf (err, errlen, "%s:%zu: line too long", path, number);
            rc = EL_ERR_PARSE;
        }
        else
            rc = s_parse_line (self, line, path, number, err, errlen);
    }
    if (rc == EL_OK && ferror (file)) {
        snprintf (err, errlen, "cannot read allow-list %s", path);
        rc = EL_ERR_IO;
    }
    if (rc == EL_OK && self->n_keys == 0) {
        snprintf (err, errlen, "allow-list %s lists no keys: nobody could connect", path);
        rc = EL_ERR_PARSE;
    }
    free (line);
    fclose (file);
    return rc;
}

//  A handler with no keys yet, bound in ctx: there is one per context
static el_err_t
s_new (void *ctx, auth_t **self_p, char *err, size_t errlen)
{
    auth_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return EL_ERR_NOMEM;
    }
    *self_p = self;
    self->by_key = strmap_new (64);
    self->centres = strmap_new (64);
    self->permits = strmap_new (1024);
    if (!self->by_key || !self->centres || !self->permits) {
        snprintf (err, errlen, "out of memory");
        return EL_ERR_NOMEM;
    }
    self->handler = zmq_socket (ctx, ZMQ_REP);
    int linger = 0;
    if (!self->handler
    ||  zmq_setsockopt (self->handler, ZMQ_LINGER, &linger, sizeof linger)
    ||  zmq_bind (self->handler, S_ZAP_ENDPOINT)) {
        snprintf (err, errlen, "cannot bind the ZAP handler %s: %s", S_ZAP_ENDPOINT,
                  zmq_strerror (errno));
        return EL_ERR_IO;
    }
    return EL_OK;
}

el_err_t
auth_load (void *ctx, const char *path, const char *domain, auth_t **self_p,
           char *err, size_t errlen)
{
    auth_t *self = NULL;
    el_err_t rc = s_new (ctx, &self, err, errlen);
    if (rc == EL_OK && !(self->domain = strdup (domain ? domain : ""))) {
        snprintf (err, errlen, "out of memory");
        rc = EL_ERR_NOMEM;
    }
    if (rc == EL_OK)
        rc = s_load (self, path, err, errlen);
    if (rc)
        auth_destroy (&self);
    *self_p = self;
    return rc;
}

el_err_t
auth_allow_only (void *ctx, auth_t **self_p, const char *domain, const char *public_key,
                 const char *name, char *err, size_t errlen)
{
    if (!keys_valid (public_key) || !s_token_ok (domain, AUTH_MAX_NAME)
    ||  !s_token_ok (name, AUTH_MAX_NAME)) {
        snprintf (err, errlen, "not a public key, domain or name: \"%.48s\" \"%.48s\" \"%.48s\"",
                  public_key, domain, name);
        return EL_ERR_INVALID;
    }
    if (!*self_p) {
        el_err_t rc = s_new (ctx, self_p, err, errlen);
        if (rc) {
            auth_destroy (self_p);
            return rc;
        }
    }
    auth_t *self = *self_p;
    bool taken = self->domain && strcmp (self->domain, domain) == 0;
    for (size_t i = 0; i < self->n_only; i++)
        taken |= strcmp (self->only [i].domain, domain) == 0;
    if (taken || self->n_only == S_ONLY) {
        snprintf (err, errlen, "ZAP domain %s is taken (or too many domains)", domain);
        return EL_ERR_INVALID;
    }
    s_only_t *only = &self->only [self->n_only++];
    snprintf (only->domain, sizeof only->domain, "%s", domain);
    snprintf (only->key, sizeof only->key, "%s", public_key);
    snprintf (only->name, sizeof only->name, "%s", name);
    return EL_OK;
}

void
auth_destroy (auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    auth_t *self = *self_p;
    if (self->handler)
        zmq_close (self->handler);
    for (size_t i = 0; i < self->n_keys; i++)
        free (self->keys [i].centre);
    free (self->keys);
    strmap_destroy (&self->by_key);
    strmap_destroy (&self->centres);
    strmap_destroy (&self->permits);
    free (self->domain);
    free (self);
    *self_p = NULL;
}

void *
auth_socket (auth_t *self)
{
    return self->handler;
}

//  Logs a refusal, at most once per S_QUIET_MS per key
static void
s_log_refusal (auth_t *self, const char *key_id, const char *address, const char *why)
{
    int64_t now = clock_mono_ms ();
    s_refusal_t *slot = NULL;
    for (size_t i = 0; i < S_RECENT && !slot; i++)
        if (strcmp (self->recent [i].key_id, key_id) == 0)
            slot = &self->recent [i];
    if (slot && now - slot->logged_ms < S_QUIET_MS) {
        slot->suppressed++;
        return;
    }
    if (!slot) {
        slot = &self->recent [self->next_recent];
        self->next_recent = (self->next_recent + 1) % S_RECENT;
        snprintf (slot->key_id, sizeof slot->key_id, "%s", key_id);
        slot->suppressed = 0;
    }
    log_warn ("AUTH002", "key %s from %s refused at the handshake: %s "
              "(%zu more attempts in the last %d s)", key_id, address, why,
              slot->suppressed, S_QUIET_MS / 1000);
    slot->logged_ms = now;
    slot->suppressed = 0;
}

//  Sends the six frames of a ZAP reply. The metadata (ZMTP property
//  format) carries the key's id, so that log lines about what a connection
//  sends can name the key, read with zmq_msg_gets (frame, "X-Key-Id").
static void
s_reply (auth_t *self, zmq_msg_t *request_id, const char *status, const char *text,
         const char *user_id, const char *key_id)
{
    net_send_str (self->handler, "1.0", ZMQ_SNDMORE);
    if (request_id)
        zmq_send (self->handler, zmq_msg_data (request_id), zmq_msg_size (request_id), ZMQ_SNDMORE);
    else
        zmq_send (self->handler, "", 0, ZMQ_SNDMORE);
    net_send_str (self->handler, status, ZMQ_SNDMORE);
    net_send_str (self->handler, text, ZMQ_SNDMORE);
    net_send_str (self->handler, user_id, ZMQ_SNDMORE);
    uint8_t metadata [64];
    size_t size = 0;
    if (key_id) {
        static const char name [] = "X-Key-Id";
        size_t len = strlen (key_id);
        metadata [size++] = sizeof name - 1;
        memcpy (metadata + size, name, sizeof name - 1);
        size += sizeof name - 1;
        metadata [size++] = 0;
        metadata [size++] = 0;
        metadata [size++] = 0;
        metadata [size++] = (uint8_t) len;
        memcpy (metadata + size, key_id, len);
        size += len;
    }
    zmq_send (self->handler, metadata, size, 0);
}

//  Answers one request: version, request id, domain, address, identity,
//  mechanism, then the credentials (for CURVE, the 32-byte public key)
static void
s_answer (auth_t *self, zmq_msg_t *frames, size_t count)
{
    char version [8], domain [256], address [64], mechanism [16];
    if (count < 6 || count > S_ZAP_FRAMES
    ||  !net_frame_str (&frames [0], version, sizeof version) || strcmp (version, "1.0") != 0) {
        log_error ("AUTH003", "malformed ZAP request (%zu frames) refused", count);
        s_reply (self, count >= 2 && count <= S_ZAP_FRAMES ? &frames [1] : NULL,
                 "500", "malformed request", "", NULL);
        return;
    }
    if (!net_frame_str (&frames [2], domain, sizeof domain))
        domain [0] = 0;
    if (!net_frame_str (&frames [3], address, sizeof address))
        snprintf (address, sizeof address, "?");
    if (!net_frame_str (&frames [5], mechanism, sizeof mechanism))
        mechanism [0] = 0;
    if (strcmp (mechanism, "CURVE") != 0 || count != 7 || zmq_msg_size (&frames [6]) != 32) {
        log_warn ("AUTH004", "%s connection from %s refused: only CURVE is allowed",
                  mechanism, address);
        s_reply (self, &frames [1], "400", "CURVE only", "", NULL);
        return;
    }
    char z85 [KEYS_Z85_SIZE], key_id [KEYS_ID_SIZE];
    const unsigned char *raw = zmq_msg_data (&frames [6]);
    keys_id_raw (raw, key_id);
    size_t index;
    const s_only_t *only = NULL;
    for (size_t i = 0; i < self->n_only && !only; i++)
        if (strcmp (domain, self->only [i].domain) == 0)
            only = &self->only [i];
    if (only) {
        //  Its one key, compared as Z85 text
        if (zmq_z85_encode (z85, raw, 32) && strcmp (z85, only->key) == 0) {
            log_info ("AUTH001", "key %s from %s accepted as %s", key_id, address, only->name);
            s_reply (self, &frames [1], "200", "OK", only->name, key_id);
        }
        else {
            s_log_refusal (self, key_id, address, "not the key this link allows");
            s_reply (self, &frames [1], "400", "key not allowed", "", NULL);
        }
    }
    else
    if (!self->domain || strcmp (domain, self->domain) != 0) {
        s_log_refusal (self, key_id, address, "wrong ZAP domain");
        s_reply (self, &frames [1], "400", "unknown domain", "", NULL);
    }
    else
    if (!zmq_z85_encode (z85, raw, 32) || !strmap_get (self->by_key, z85, &index)) {
        s_log_refusal (self, key_id, address, "not on the allow-list");
        s_reply (self, &frames [1], "400", "key not allowed", "", NULL);
    }
    else {
        log_info ("AUTH001", "key %s from %s accepted as %s", key_id, address,
                  self->keys [index].centre);
        s_reply (self, &frames [1], "200", "OK", self->keys [index].centre, key_id);
    }
}

void
auth_handle (auth_t *self)
{
    for (int n = 0; n < 64; n++) {
        zmq_msg_t frames [S_ZAP_FRAMES];
        size_t count;
        if (net_recv_frames (self->handler, frames, S_ZAP_FRAMES, &count, ZMQ_DONTWAIT))
            break;
        s_answer (self, frames, count);
        net_frames_close (frames, count < S_ZAP_FRAMES ? count : S_ZAP_FRAMES);
    }
}

bool
auth_permits (const auth_t *self, const char *centre, const char *ons_id)
{
    char permit [2 * AUTH_MAX_NAME + 2];
    size_t value;
    if (!centre || !ons_id || strlen (centre) > AUTH_MAX_NAME || strlen (ons_id) > AUTH_MAX_NAME)
        return false;
    snprintf (permit, sizeof permit, "%s %s", centre, ons_id);
    return strmap_get (self->permits, permit, &value);
}

size_t
auth_keys (const auth_t *self)
{
    return self->n_keys;
}

size_t
auth_centres (const auth_t *self)
{
    return strmap_size (self->centres);
}
