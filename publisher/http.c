/*  http.c: see http.h.  */
#include "http.h"
#include "log.h"
#include "state_json.h"
#include "state_view.h"
#include "update_head.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define S_RING_SIZE        4096    /* events kept for resuming and for slow readers */
#define S_SPARE_CONNECTIONS 64     /* beyond the streams: /state, /seat, files */
#define S_KEEPALIVE_MS     5000    /* a comment line this often finds dead clients, and keeps
                                      a quiet stream well inside the idle timeout */
#define S_BATCH_BYTES      65536   /* events handed to a stream per wake-up */
#define S_RETRY_MS         2000    /* browsers reconnect after this */
#define S_FULL_RETRY_S     5       /* Retry-After when every stream is taken */
#define S_REFUSED_LOG_S    10      /* refused streams are logged once per this, counted */
#define S_MAX_PATH         256
#define S_MAX_PENDING      1024    /* updates of one sequence held for its national update
                                       (a batch's last carries the projection and the seats
                                       whose projected winner it changed) */
#define S_STACK_SIZE       (512 * 1024)    /* per connection thread; the default 8 MiB is
                                              address space 10,000 streams do not need */
#define S_GZIP_LEVEL       6       /* the 2017 night's 623 KB to 134 KB in ~20 ms */
#define S_JSON_FLAGS       (JSON_COMPACT | JSON_REAL_PRECISION (10))

typedef struct {
    uint64_t sequence;
    char *text;                 /* "id: N\nevent: seat\ndata: {...}\n\n" */
    size_t size;
} s_event_t;

//  A document rendered from the view on demand, kept (and its gzip form)
//  until the view changes: /state and /seats
typedef enum { S_DOC_STATE, S_DOC_SEATS, S_DOCS } s_doc_kind_t;

typedef struct {
    char *text;                 /* NULL: stale */
    size_t size;
    char *gzip;                 /* the same, gzip-compressed on demand; NULL: not yet */
    size_t gzip_size;
    char etag [64];             /* "epoch-sequence" of text (and "-stale" when not live) */
} s_doc_t;

//  A live update held until its sequence is complete
typedef struct {
    char *topic;
    void *bytes;
    size_t size;
    update_head_t head;
} s_pending_t;

struct http {
    struct MHD_Daemon *daemon;
    http_config_t config;
    char *root;                 /* the web root, symlinks resolved; NULL: no files */
    state_view_t *loading;      /* the snapshot being loaded; feeding thread only */
    s_pending_t pending [S_MAX_PENDING];    /* feeding thread only */
    size_t pending_count;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    //  Everything below is shared with the request threads, under lock
    state_view_t *view;
    bool synced;
    bool stopping;
    uint64_t generation;        /* a new snapshot: every stream starts over */
    uint64_t base;              /* the sequence that snapshot was at */
    s_doc_t docs [S_DOCS];      /* the view as JSON documents, rendered on demand */
    uint64_t state_version;     /* changes with the state: a gzip made meanwhile is stale */
    s_event_t ring [S_RING_SIZE];
    uint64_t head;              /* absolute index of the next event */
    uint64_t tail;              /* first event of this generation */
    char *health_text;          /* the latest health event */
    size_t health_size;
    uint64_t health_count;
    size_t streams;
    uint64_t refused;           /* streams refused since the last log line about it */
    time_t refused_logged;
    //  Under log_lock (libmicrohttpd's log callback, any of its threads)
    pthread_mutex_t log_lock;
    time_t mhd_logged;
    uint64_t mhd_unlogged;
};

//  One SSE client: where it is in the ring, and the text it is being sent
typedef struct {
    http_t *http;
    uint64_t generation;        /* 0: not yet sent a state event */
    uint64_t next;              /* absolute ring index of its next event */
    uint64_t health_count;
    char *text;
    size_t size;
    size_t sent;
    size_t capacity;
} s_stream_t;

static char *
s_dump (json_t *json, size_t *size)
{
    char *text = json ? json_dumps (json, S_JSON_FLAGS) : NULL;
    json_decref (json);
    if (text && size)
        *size = strlen (text);
    return text;
}

//  One SSE event; an id of 0 leaves the browser's Last-Event-ID as it was
static char *
s_event_text (uint64_t id, const char *event, const char *data, size_t *size)
{
    char *text = NULL;
    int length = id
        ? asprintf (&text, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long) id, event, data)
        : asprintf (&text, "event: %s\ndata: %s\n\n", event, data);
    if (length < 0)
        return NULL;
    *size = (size_t) length;
    return text;
}

//  The oldest event still in the ring for this generation
static uint64_t
s_oldest (const http_t *self)
{
    uint64_t wrapped = self->head > S_RING_SIZE ? self->head - S_RING_SIZE : 0;
    return wrapped > self->tail ? wrapped : self->tail;
}

//  The kind of a topic ("seat" of seat.E14000800, "region" of
//  region.Scotland, "national"): the name of its events. Lower-case letters
//  only, so that it can never break an event's framing.
static bool
s_event_kind (const char *topic, char *kind, size_t size)
{
    size_t length = strcspn (topic, ".");
    if (length == 0 || length >= size)
        return false;
    for (size_t i = 0; i < length; i++)
        if (topic [i] < 'a' || topic [i] > 'z')
            return false;
    memcpy (kind, topic, length);
    kind [length] = 0;
    return true;
}

//  Under lock. Renders a document as JSON if it is stale. false on no memory.
static bool
s_doc_render (http_t *self, s_doc_kind_t kind)
{
    s_doc_t *doc = &self->docs [kind];
    if (!doc->text) {
        doc->text = s_dump (kind == S_DOC_STATE ? state_json_state (self->view)
                                                : state_json_seats (self->view), &doc->size);
        //  The view is always a whole sequence (updates wait for their
        //  national one), so epoch and sequence name this document exactly,
        //  with the health it carries (the figures may stop being live)
        const char *source = state_view_source (self->view);
        bool live = state_view_upstream_ok (self->view);
        snprintf (doc->etag, sizeof doc->etag, "\"%016llx-%llu%s%s\"",
                  (unsigned long long) state_view_epoch (self->view),
                  (unsigned long long) state_view_sequence (self->view),
                  live ? "" : "-stale-", live ? "" : source ? source : "");
    }
    return doc->text != NULL;
}

static bool
s_state_render (http_t *self)
{
    return s_doc_render (self, S_DOC_STATE);
}

//  text gzip-compressed; NULL on no memory. Caller frees.
static char *
s_gzip (const char *text, size_t size, size_t *zipped_size)
{
    z_stream zip = { 0 };
    if (deflateInit2 (&zip, S_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t bound = deflateBound (&zip, size);
    char *out = malloc (bound);
    zip.next_in = (Bytef *) text;
    zip.avail_in = (uInt) size;
    zip.next_out = (Bytef *) out;
    zip.avail_out = (uInt) bound;
    if (out && deflate (&zip, Z_FINISH) == Z_STREAM_END)
        *zipped_size = zip.total_out;
    else {
        free (out);
        out = NULL;
    }
    deflateEnd (&zip);
    return out;
}

//  Under lock (taken and given back): the state's gzip form, compressed
//  outside the lock, so that the publisher's thread never waits the ~20 ms
//  it takes. false if the state changed meanwhile, or no memory.
static bool
s_doc_gzip (http_t *self, s_doc_kind_t kind)
{
    s_doc_t *doc = &self->docs [kind];
    if (doc->gzip)
        return true;
    uint64_t version = self->state_version;
    size_t size = doc->size, zipped_size = 0;
    char *copy = malloc (size);
    if (!copy)
        return false;
    memcpy (copy, doc->text, size);
    pthread_mutex_unlock (&self->lock);
    char *zipped = s_gzip (copy, size, &zipped_size);
    free (copy);
    pthread_mutex_lock (&self->lock);
    if (zipped && version == self->state_version && !doc->gzip) {
        doc->gzip = zipped;
        doc->gzip_size = zipped_size;
        return true;
    }
    free (zipped);
    return doc->gzip && version == self->state_version;
}

static void
s_state_stale (http_t *self)
{
    self->state_version++;
    for (size_t i = 0; i < S_DOCS; i++) {
        free (self->docs [i].text);
        self->docs [i].text = NULL;
        free (self->docs [i].gzip);
        self->docs [i].gzip = NULL;
    }
}

static void
s_ring_clear (http_t *self)
{
    for (size_t i = 0; i < S_RING_SIZE; i++) {
        free (self->ring [i].text);
        self->ring [i].text = NULL;
    }
}

// --------------------------------------------------------------------------
//  Feeding side (the publisher's thread)

static void
s_pending_clear (http_t *self)
{
    for (size_t i = 0; i < self->pending_count; i++) {
        free (self->pending [i].topic);
        free (self->pending [i].bytes);
    }
    self->pending_count = 0;
}

//  Keeps a copy of a live update until its sequence is complete. false on no memory.
static bool
s_pending_add (http_t *self, const char *topic, const update_head_t *head, const void *bytes, size_t size)
{
    s_pending_t *pending = &self->pending [self->pending_count];
    pending->topic = strdup (topic);
    pending->bytes = malloc (size ? size : 1);
    if (!pending->topic || !pending->bytes) {
        free (pending->topic);
        free (pending->bytes);
        return false;
    }
    memcpy (pending->bytes, bytes, size);
    pending->size = size;
    pending->head = *head;
    self->pending_count++;
    return true;
}

//  Under lock: one update into the view and, if anyone is listening, into
//  the ring and to nginx
static void
s_apply (http_t *self, const char *topic, const update_head_t *head, const void *bytes, size_t size,
         bool render)
{
    if (state_view_put (self->view, topic, bytes, size)) {
        log_error ("HTTP010", "%s does not unpack: left out of the page's state", topic);
        return;
    }
    if (!render)
        return;
    //  Rendered under the lock: the view's copy is what the lock guards
    const Election__Update *update = state_view_get (self->view, topic);
    char kind [16];
    size_t json_size = 0, text_size = 0;
    char *json = update && s_event_kind (topic, kind, sizeof kind)
               ? s_dump (state_json_update (topic, update), &json_size) : NULL;
    char *text = json ? s_event_text (head->sequence, kind, json, &text_size) : NULL;
    if (json && self->config.nchan)
        nchan_post (self->config.nchan, kind, head->sequence, head->epoch, json, json_size);
    free (json);
    if (text) {
        s_event_t *slot = &self->ring [self->head % S_RING_SIZE];
        free (slot->text);
        *slot = (s_event_t) { head->sequence, text, text_size };
        self->head++;
    }
    else {
        //  Streams cannot be told this one: make them all start over
        log_error ("HTTP011", "cannot render %s seq %llu: streams restart",
                   topic, (unsigned long long) head->sequence);
        self->generation++;
        if (self->config.nchan)
            nchan_resync (self->config.nchan, head->sequence, head->epoch);
    }
}

//  The held updates (and this one, if topic is not NULL) reach the state and
//  the streams together: a reader of /state never sees a seat without the
//  national figures it changed
static void
s_commit (http_t *self, const char *topic, const update_head_t *head, const void *bytes, size_t size)
{
    pthread_mutex_lock (&self->lock);
    bool render = self->streams > 0 || self->config.nchan;
    uint64_t last = topic ? head->sequence : self->pending [self->pending_count - 1].head.sequence;
    for (size_t i = 0; i < self->pending_count; i++) {
        const s_pending_t *pending = &self->pending [i];
        s_apply (self, pending->topic, &pending->head, pending->bytes, pending->size, render);
    }
    if (topic)
        s_apply (self, topic, head, bytes, size, render);
    s_state_stale (self);
    if (!render) {
        //  Nobody streaming: keep the state for /state but render no events
        //  (rendering was most of the publisher's CPU). The ring starts over
        //  after this sequence, so a browser coming back gets a fresh state,
        //  never a gap.
        self->tail = self->head;
        self->base = last + 1;
    }
    pthread_cond_broadcast (&self->changed);
    pthread_mutex_unlock (&self->lock);
    s_pending_clear (self);
}

void
http_on_reset (http_t *self, const Election__Snapshot *header)
{
    s_pending_clear (self);
    state_view_reset (self->loading, header);
}

void
http_on_update (http_t *self, const char *topic, const update_head_t *head,
                const void *bytes, size_t size, bool live)
{
    if (!live) {
        if (state_view_put (self->loading, topic, bytes, size))
            log_error ("HTTP010", "%s does not unpack: left out of the page's state", topic);
        return;
    }
    //  Summaries: seats, scopes, the desk, the projection (heartbeats come
    //  by http_on_health)
    if (head->body != ELECTION__UPDATE__BODY_SEAT && head->body != ELECTION__UPDATE__BODY_NATIONAL
    &&  head->body != ELECTION__UPDATE__BODY_DESK && head->body != ELECTION__UPDATE__BODY_PROJECTION)
        return;
    if (self->pending_count
    && (self->pending [0].head.sequence != head->sequence || self->pending_count == S_MAX_PENDING)) {
        log_warn ("PUB100", "sequence %llu: %zu updates held without the national update that ends it: "
                  "streamed as they came", (unsigned long long) self->pending [0].head.sequence,
                  self->pending_count);
        s_commit (self, NULL, NULL, NULL, 0);
    }
    //  "national" is always the last update of its sequence
    if (strcmp (topic, "national") == 0 || !s_pending_add (self, topic, head, bytes, size))
        s_commit (self, topic, head, bytes, size);
}

void
http_on_synced (http_t *self, const Election__Snapshot *header)
{
    s_pending_clear (self);
    pthread_mutex_lock (&self->lock);
    state_view_t *loaded = self->loading;
    self->loading = self->view;
    self->view = loaded;
    self->synced = true;
    self->generation++;
    self->base = header->sequence;
    self->tail = self->head;
    //  The header says what upstream said of its source; live, it is our word
    if (state_view_upstream_ok (self->view))
        state_view_set_health (self->view, true, "publisher");
    s_state_stale (self);
    //  A health said before this snapshot (not yet synced) is no longer true
    free (self->health_text);
    self->health_text = NULL;
    pthread_cond_broadcast (&self->changed);
    pthread_mutex_unlock (&self->lock);
    //  nginx's readers start over too, from /state
    if (self->config.nchan)
        nchan_resync (self->config.nchan, header->sequence, header->epoch);
    //  Frees the old state outside the lock
    state_view_reset (self->loading, header);
    log_info ("HTTP002", "serving state at sequence %llu", (unsigned long long) header->sequence);
}

void
http_on_health (http_t *self, const Election__Update *update)
{
    size_t size = 0, json_size = 0;
    char *json = s_dump (state_json_update ("health", update), &json_size);
    char *text = json ? s_event_text (0, "health", json, &size) : NULL;
    if (json && self->config.nchan)
        nchan_post (self->config.nchan, "health", update->sequence, update->epoch, json, json_size);
    free (json);
    if (!text)
        return;
    const Election__Heartbeat *beat = update->heartbeat;
    bool ok = !beat->has_upstream_ok || beat->upstream_ok;
    const char *source = ok ? beat->source : beat->stale_source ? beat->stale_source : beat->source;
    pthread_mutex_lock (&self->lock);
    //  /state says whether it is live: a change of health is a new document
    const char *was = state_view_source (self->view);
    if (ok != state_view_upstream_ok (self->view)
    ||  strcmp (was ? was : "", source ? source : "") != 0) {
        state_view_set_health (self->view, ok, source);
        s_state_stale (self);
    }
    free (self->health_text);
    self->health_text = text;
    self->health_size = size;
    self->health_count++;
    pthread_cond_broadcast (&self->changed);
    pthread_mutex_unlock (&self->lock);
}

// --------------------------------------------------------------------------
//  Serving side (libmicrohttpd's threads)

static enum MHD_Result
s_queue (struct MHD_Connection *connection, unsigned int status, struct MHD_Response *response,
         const char *content_type)
{
    if (!response)
        return MHD_NO;
    if (content_type)
        MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    //  Graphics templates load the API from other origins (file://, a CasparCG host)
    MHD_add_response_header (response, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

static enum MHD_Result
s_json (struct MHD_Connection *connection, unsigned int status, const char *text, size_t size)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (size, (void *) text,
                                                                     MHD_RESPMEM_MUST_COPY);
    if (response)
        MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return s_queue (connection, status, response, "application/json");
}

static enum MHD_Result
s_error (struct MHD_Connection *connection, unsigned int status, const char *message)
{
    char text [256];
    int size = snprintf (text, sizeof text, "{\"error\":\"%s\"}", message);
    return s_json (connection, status, text, (size_t) size);
}

//  Every stream is taken: 503, and when to try again (a page reads both)
static enum MHD_Result
s_full (struct MHD_Connection *connection, bool head)
{
    static const char text [] = "{\"error\":\"too many event streams: try again later\"}";
    struct MHD_Response *response = MHD_create_response_from_buffer (head ? 0 : sizeof text - 1,
                                                                     (void *) text, MHD_RESPMEM_PERSISTENT);
    if (response) {
        char seconds [16];
        snprintf (seconds, sizeof seconds, "%d", S_FULL_RETRY_S);
        MHD_add_response_header (response, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
        MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        //  A page from another origin may read it too
        MHD_add_response_header (response, "Access-Control-Expose-Headers", "Retry-After");
    }
    return s_queue (connection, MHD_HTTP_SERVICE_UNAVAILABLE, response, "application/json");
}

//  Whether Accept-Encoding takes gzip ("gzip", "gzip;q=0.5", "*"; q=0 refuses)
static bool
s_accepts_gzip (struct MHD_Connection *connection)
{
    const char *value = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_ACCEPT_ENCODING);
    while (value && *value) {
        value += strspn (value, " \t,");
        size_t length = strcspn (value, ",");
        char token [64];
        if (length > 0 && length < sizeof token) {
            memcpy (token, value, length);
            token [length] = 0;
            char *quality = strchr (token, ';');
            if (quality)
                *quality++ = 0;
            token [strcspn (token, " \t")] = 0;
            if (strcasecmp (token, "gzip") == 0 || strcmp (token, "*") == 0) {
                const char *q = quality ? strstr (quality, "q=") : NULL;
                return !q || strtod (q + 2, NULL) > 0;
            }
        }
        value += length;
    }
    return false;
}

//  If-None-Match: "*", or a list of entity tags (weak ones compare too)
static bool
s_etag_matches (const char *header, const char *etag)
{
    while (header && *header) {
        header += strspn (header, " \t,");
        size_t length = strcspn (header, ",");
        const char *tag = header;
        size_t tag_length = length;
        while (tag_length && (tag [tag_length - 1] == ' ' || tag [tag_length - 1] == '\t'))
            tag_length--;
        if (tag_length >= 2 && strncmp (tag, "W/", 2) == 0) {
            tag += 2;
            tag_length -= 2;
        }
        if ((tag_length == 1 && *tag == '*')
        ||  (tag_length == strlen (etag) && strncmp (tag, etag, tag_length) == 0))
            return true;
        header += length;
    }
    return false;
}

//  /state or /seats: gzip-compressed for a client that takes it, with an
//  ETag a cache revalidates with (304 until the next change)
static enum MHD_Result
s_serve_doc (http_t *self, struct MHD_Connection *connection, s_doc_kind_t kind)
{
    bool gzip = s_accepts_gzip (connection);
    const char *if_none_match = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_IF_NONE_MATCH);
    s_doc_t *doc = &self->docs [kind];
    pthread_mutex_lock (&self->lock);
    bool ready = self->synced && s_doc_render (self, kind);
    //  The state may change while it is compressed (outside the lock): then
    //  once more, and after that it goes out uncompressed rather than wait
    for (int attempt = 0; ready && gzip && !s_doc_gzip (self, kind); attempt++) {
        ready = s_doc_render (self, kind);
        gzip = attempt == 0;
    }
    if (!ready) {
        bool synced = self->synced;
        pthread_mutex_unlock (&self->lock);
        return s_error (connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                        synced ? "out of memory" : "no state yet: waiting for the aggregator");
    }
    //  Each representation has its own tag: a cache must not mistake one for the other
    char etag [sizeof doc->etag + 8];
    size_t length = strlen (doc->etag);
    snprintf (etag, sizeof etag, "%.*s%s\"", (int) length - 1, doc->etag, gzip ? "-gzip" : "");
    unsigned int status = MHD_HTTP_OK;
    struct MHD_Response *response;
    if (if_none_match && s_etag_matches (if_none_match, etag)) {
        status = MHD_HTTP_NOT_MODIFIED;
        response = MHD_create_response_from_buffer (0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    else
        response = MHD_create_response_from_buffer (gzip ? doc->gzip_size : doc->size,
                                                    gzip ? doc->gzip : doc->text,
                                                    MHD_RESPMEM_MUST_COPY);
    pthread_mutex_unlock (&self->lock);
    if (response) {
        MHD_add_response_header (response, MHD_HTTP_HEADER_ETAG, etag);
        MHD_add_response_header (response, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
        //  A cache may keep it, but asks each time (a 304 when nothing changed)
        MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        if (gzip && status == MHD_HTTP_OK)
            MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    }
    return s_queue (connection, status, response, status == MHD_HTTP_OK ? "application/json" : NULL);
}

static bool
s_valid_id (const char *id)
{
    size_t length = strlen (id);
    if (length == 0 || length > 32)
        return false;
    for (const char *c = id; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
            return false;
    return true;
}

//  A seat, declared or not (its "declared" and "withdrawn" say which); 404
//  for an id that is not a seat: the aggregator publishes every seat from
//  the start, so the store holds the seat list
static enum MHD_Result
s_serve_seat (http_t *self, struct MHD_Connection *connection, const char *ons_id)
{
    if (!s_valid_id (ons_id))
        return s_error (connection, MHD_HTTP_NOT_FOUND, "unknown seat");
    pthread_mutex_lock (&self->lock);
    bool synced = self->synced;
    const Election__SeatSummary *seat = synced ? state_view_seat (self->view, ons_id) : NULL;
    size_t size = 0;
    char *text = seat ? s_dump (state_json_seat (seat), &size) : NULL;
    pthread_mutex_unlock (&self->lock);
    enum MHD_Result rc = text ? s_json (connection, MHD_HTTP_OK, text, size)
                       : !synced ? s_error (connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                                            "no state yet: waiting for the aggregator")
                       : seat ? s_error (connection, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory")
                       : s_error (connection, MHD_HTTP_NOT_FOUND, "unknown seat");
    free (text);
    return rc;
}

//  The gains, in declaration order (small: rendered per request)
static enum MHD_Result
s_serve_gains (http_t *self, struct MHD_Connection *connection)
{
    pthread_mutex_lock (&self->lock);
    bool synced = self->synced;
    size_t size = 0;
    char *text = synced ? s_dump (json_pack ("{s:I, s:o}", "sequence",
                                             (json_int_t) state_view_sequence (self->view),
                                             "gains", state_json_gains (self->view)), &size)
                        : NULL;
    pthread_mutex_unlock (&self->lock);
    enum MHD_Result rc = text ? s_json (connection, MHD_HTTP_OK, text, size)
                       : s_error (connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                                  synced ? "out of memory" : "no state yet: waiting for the aggregator");
    free (text);
    return rc;
}

static bool
s_stream_append (s_stream_t *stream, const char *text, size_t size)
{
    if (stream->size + size > stream->capacity) {
        size_t capacity = stream->capacity ? stream->capacity : 4096;
        while (capacity < stream->size + size)
            capacity *= 2;
        char *grown = realloc (stream->text, capacity);
        if (!grown)
            return false;
        stream->text = grown;
        stream->capacity = capacity;
    }
    memcpy (stream->text + stream->size, text, size);
    stream->size += size;
    return true;
}

//  Under lock: what the stream is owed now (possibly nothing)
static bool
s_stream_collect (http_t *self, s_stream_t *stream)
{
    uint64_t oldest = s_oldest (self);
    if (stream->generation != self->generation || stream->next < oldest) {
        //  New, lapped by the ring, or the state was replaced: start over
        char head [96];
        int size = snprintf (head, sizeof head, "retry: %d\nid: %llu\nevent: state\ndata: ",
                             S_RETRY_MS, (unsigned long long) state_view_sequence (self->view));
        if (!s_state_render (self)
        ||  !s_stream_append (stream, head, (size_t) size)
        ||  !s_stream_append (stream, self->docs [S_DOC_STATE].text, self->docs [S_DOC_STATE].size)
        ||  !s_stream_append (stream, "\n\n", 2))
            return false;
        stream->generation = self->generation;
        stream->next = self->head;
        stream->health_count = 0;       //  and the health that goes with it
    }
    while (stream->next < self->head && stream->size < S_BATCH_BYTES) {
        const s_event_t *event = &self->ring [stream->next % S_RING_SIZE];
        if (!s_stream_append (stream, event->text, event->size))
            return false;
        stream->next++;
    }
    if (stream->health_count != self->health_count && self->health_text) {
        if (!s_stream_append (stream, self->health_text, self->health_size))
            return false;
        stream->health_count = self->health_count;
    }
    return true;
}

//  Blocks (this connection's own thread) until there is something to send.
//  Returns false when the stream must end.
static bool
s_stream_fill (s_stream_t *stream)
{
    http_t *self = stream->http;
    stream->size = stream->sent = 0;
    struct timespec deadline;
    clock_gettime (CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += S_KEEPALIVE_MS / 1000;
    bool ok = true;
    pthread_mutex_lock (&self->lock);
    while (ok && !self->stopping && stream->size == 0) {
        if (self->synced)
            ok = s_stream_collect (self, stream);
        if (ok && stream->size == 0
        &&  pthread_cond_timedwait (&self->changed, &self->lock, &deadline) == ETIMEDOUT)
            ok = s_stream_append (stream, ": keepalive\n\n", 13);
    }
    if (self->stopping)
        ok = false;
    pthread_mutex_unlock (&self->lock);
    return ok;
}

static ssize_t
s_stream_read (void *cls, uint64_t position, char *buffer, size_t max)
{
    s_stream_t *stream = cls;
    if (stream->sent == stream->size && !s_stream_fill (stream))
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t size = stream->size - stream->sent;
    if (size > max)
        size = max;
    memcpy (buffer, stream->text + stream->sent, size);
    stream->sent += size;
    return (ssize_t) size;
}

static void
s_stream_free (void *cls)
{
    s_stream_t *stream = cls;
    pthread_mutex_lock (&stream->http->lock);
    stream->http->streams--;
    pthread_mutex_unlock (&stream->http->lock);
    free (stream->text);
    free (stream);
}

//  Under lock: places a stream that asks to resume after last_id, if the
//  ring still holds every event since; otherwise it will get a fresh state.
//  The events of last_id itself are sent again: the browser may have had
//  only part of that sequence's group, and applying one twice is harmless.
static void
s_stream_resume (http_t *self, s_stream_t *stream, const char *last_id)
{
    char *end;
    errno = 0;
    unsigned long long wanted = strtoull (last_id, &end, 10);
    if (errno || *end || end == last_id || !self->synced
    ||  wanted < self->base || wanted > state_view_sequence (self->view))
        return;
    uint64_t oldest = s_oldest (self);
    if (oldest != self->tail && self->ring [oldest % S_RING_SIZE].sequence >= wanted)
        return;                 //  part of what it missed has left the ring
    uint64_t next = oldest;
    while (next < self->head && self->ring [next % S_RING_SIZE].sequence < wanted)
        next++;
    stream->generation = self->generation;
    stream->next = next;
}

//  Under lock: counts a refused stream and logs about them at most once per
//  S_REFUSED_LOG_S (a full gateway is asked again and again)
static void
s_refused (http_t *self)
{
    self->refused++;
    time_t now = time (NULL);
    if (now - self->refused_logged >= S_REFUSED_LOG_S) {
        log_warn ("HTTP020", "%llu event stream%s refused (503, retry after %d s): %u streams open, "
                  "the most --http-streams allows", (unsigned long long) self->refused,
                  self->refused == 1 ? "" : "s", S_FULL_RETRY_S, self->config.max_streams);
        self->refused = 0;
        self->refused_logged = now;
    }
}

static enum MHD_Result
s_serve_events (http_t *self, struct MHD_Connection *connection, bool head)
{
    if (head) {
        //  Says whether a stream would be taken now: a page that was refused
        //  asks, to tell its viewer why
        pthread_mutex_lock (&self->lock);
        bool full = self->streams >= self->config.max_streams;
        pthread_mutex_unlock (&self->lock);
        return full ? s_full (connection, true)
             : s_queue (connection, MHD_HTTP_OK, MHD_create_response_from_buffer (0, NULL, MHD_RESPMEM_PERSISTENT),
                        "text/event-stream; charset=utf-8");
    }
    s_stream_t *stream = calloc (1, sizeof *stream);
    if (!stream)
        return s_error (connection, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
    stream->http = self;
    const char *last_id = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                       MHD_HTTP_HEADER_LAST_EVENT_ID);
    pthread_mutex_lock (&self->lock);
    bool full = self->streams >= self->config.max_streams;
    if (full)
        s_refused (self);
    else {
        self->streams++;
        if (last_id)
            s_stream_resume (self, stream, last_id);
    }
    pthread_mutex_unlock (&self->lock);
    if (full) {
        free (stream);
        return s_full (connection, false);
    }
    struct MHD_Response *response = MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 16384,
        s_stream_read, stream, s_stream_free);
    if (!response) {
        s_stream_free (stream);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    //  Tells a buffering reverse proxy (nginx) to pass events straight on
    MHD_add_response_header (response, "X-Accel-Buffering", "no");
    return s_queue (connection, MHD_HTTP_OK, response, "text/event-stream; charset=utf-8");
}

static const char *
s_content_type (const char *path)
{
    static const struct { const char *extension, *type; } types [] = {
        { ".html", "text/html; charset=utf-8" },
        { ".js",   "text/javascript; charset=utf-8" },
        { ".css",  "text/css; charset=utf-8" },
        { ".json", "application/json" },
        { ".hexjson", "application/json" },     /* the page's hex map (HexJSON) */
        { ".svg",  "image/svg+xml" },
        { ".png",  "image/png" },
        { ".ico",  "image/x-icon" },
        { ".woff2", "font/woff2" },
        { ".txt",  "text/plain; charset=utf-8" }
    };
    const char *dot = strrchr (path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types [0]; i++)
        if (strcmp (dot, types [i].extension) == 0)
            return types [i].type;
    return "application/octet-stream";
}

//  A URL path is served only if it is plain: letters, digits, '.', '-',
//  '_' and single '/', no "..", so it cannot leave the web root, and no
//  name that starts with a dot (.git/, .env, .htpasswd: never meant for readers)
static bool
s_plain_path (const char *url)
{
    if (url [0] != '/' || strlen (url) >= S_MAX_PATH || strstr (url, "..") || strstr (url, "//")
    ||  strstr (url, "/."))
        return false;
    for (const char *c = url; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')
           || *c == '.' || *c == '-' || *c == '_' || *c == '/'))
            return false;
    return true;
}

static enum MHD_Result
s_serve_file (http_t *self, struct MHD_Connection *connection, const char *url)
{
    if (!self->root || !s_plain_path (url))
        return s_error (connection, MHD_HTTP_NOT_FOUND, "not found");
    char path [PATH_MAX], real [PATH_MAX];
    size_t length = strlen (url);
    int size = snprintf (path, sizeof path, "%s%s%s", self->root, url,
                         url [length - 1] == '/' ? "index.html" : "");
    //  A symbolic link is followed only while it stays inside the web root:
    //  a link to /etc (or anywhere else) is not part of the page
    size_t root_length = strlen (self->root);
    bool inside = size > 0 && (size_t) size < sizeof path && realpath (path, real)
               && strncmp (real, self->root, root_length) == 0 && real [root_length] == '/';
    int fd = inside ? open (real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    struct stat status;
    if (fd < 0 || fstat (fd, &status) || !S_ISREG (status.st_mode)) {
        if (fd >= 0)
            close (fd);
        return s_error (connection, MHD_HTTP_NOT_FOUND, "not found");
    }
    struct MHD_Response *response = MHD_create_response_from_fd ((uint64_t) status.st_size, fd);
    if (!response) {
        close (fd);
        return MHD_NO;
    }
    //  Always revalidate: an operator may change the page during the night
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return s_queue (connection, MHD_HTTP_OK, response, s_content_type (path));
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    http_t *self = cls;
    if (strcmp (method, MHD_HTTP_METHOD_OPTIONS) == 0) {
        //  A CORS preflight (a template sending Last-Event-ID or Cache-Control)
        struct MHD_Response *response = MHD_create_response_from_buffer (0, NULL, MHD_RESPMEM_PERSISTENT);
        if (response) {
            MHD_add_response_header (response, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_METHODS,
                                     "GET, HEAD, OPTIONS");
            MHD_add_response_header (response, "Access-Control-Allow-Headers",
                                     "Last-Event-ID, Cache-Control, If-None-Match");
            MHD_add_response_header (response, "Access-Control-Max-Age", "86400");
        }
        return s_queue (connection, MHD_HTTP_NO_CONTENT, response, NULL);
    }
    bool head = strcmp (method, MHD_HTTP_METHOD_HEAD) == 0;
    if (!head && strcmp (method, MHD_HTTP_METHOD_GET) != 0) {
        struct MHD_Response *response = MHD_create_response_from_buffer (0, NULL, MHD_RESPMEM_PERSISTENT);
        if (response)
            MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, OPTIONS");
        return s_queue (connection, MHD_HTTP_METHOD_NOT_ALLOWED, response, NULL);
    }
    if (strcmp (url, "/state") == 0)
        return s_serve_doc (self, connection, S_DOC_STATE);
    if (strcmp (url, "/seats") == 0)
        return s_serve_doc (self, connection, S_DOC_SEATS);
    if (strcmp (url, "/gains") == 0)
        return s_serve_gains (self, connection);
    if (strcmp (url, "/events") == 0)
        return s_serve_events (self, connection, head);
    if (strncmp (url, "/seat/", 6) == 0)
        return s_serve_seat (self, connection, url + 6);
    return s_serve_file (self, connection, url);
}

//  libmicrohttpd's complaints, at most one a second: a flood of refused
//  connections (one address over its limit) would flood the log too
static void
s_mhd_log (void *cls, const char *format, va_list args)
{
    http_t *self = cls;
    char line [512];
    vsnprintf (line, sizeof line, format, args);
    line [strcspn (line, "\n")] = 0;
    pthread_mutex_lock (&self->log_lock);
    time_t now = time (NULL);
    if (now != self->mhd_logged) {
        if (self->mhd_unlogged)
            log_warn ("HTTP090", "libmicrohttpd: %s (%llu more of its messages left out in the last %lld s)",
                      line, (unsigned long long) self->mhd_unlogged, (long long) (now - self->mhd_logged));
        else
            log_warn ("HTTP090", "libmicrohttpd: %s", line);
        self->mhd_logged = now;
        self->mhd_unlogged = 0;
    }
    else
        self->mhd_unlogged++;
    pthread_mutex_unlock (&self->log_lock);
}

http_t *
http_new (const http_config_t *config)
{
    http_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    const char *address = config->address ? config->address : "127.0.0.1";
    pthread_mutex_init (&self->lock, NULL);
    pthread_mutex_init (&self->log_lock, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init (&attributes);
    pthread_condattr_setclock (&attributes, CLOCK_MONOTONIC);
    pthread_cond_init (&self->changed, &attributes);
    pthread_condattr_destroy (&attributes);
    self->view = state_view_new ();
    self->loading = state_view_new ();
    if (!self->view || !self->loading)
        goto failed;
    //  Files are served from the root as it resolves now; a path that
    //  resolves outside it is refused
    if (config->web_root && !(self->root = realpath (config->web_root, NULL)))
        log_warn ("PUB101", "web root %s: %s: no files served", config->web_root, strerror (errno));

    char service [8];
    snprintf (service, sizeof service, "%d", config->port);
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
    struct addrinfo *found = NULL;
    int rc = getaddrinfo (address, service, &hints, &found);
    if (rc) {
        log_error ("HTTP030", "bad HTTP address %s: %s", address, gai_strerror (rc));
        goto failed;
    }
    //  A thread per connection, each polling with poll(): select() would
    //  refuse descriptors above 1,024, and there may be thousands of streams
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL
                       | MHD_USE_ERROR_LOG | (found->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    //  The zmq thread is the one that hears SIGINT: the server's threads,
    //  which inherit this mask, never take it
    sigset_t blocked, previous;
    sigemptyset (&blocked);
    sigaddset (&blocked, SIGINT);
    sigaddset (&blocked, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &blocked, &previous);
    //  The connection timeout and the per-address limit are what stand
    //  between a slow client (slowloris: a header line now and then) and
    //  everybody else: the timeout closes a connection that says nothing for
    //  timeout_s, and one address can hold per_ip connections at most
    self->daemon = MHD_start_daemon (flags, (uint16_t) config->port, NULL, NULL, s_handle, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_SOCK_ADDR, found->ai_addr,
        MHD_OPTION_CONNECTION_LIMIT, config->max_streams + S_SPARE_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, config->per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, config->timeout_s,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t) S_STACK_SIZE,
        MHD_OPTION_END);
    pthread_sigmask (SIG_SETMASK, &previous, NULL);
    freeaddrinfo (found);
    if (!self->daemon) {
        log_error ("HTTP031", "cannot serve HTTP on %s port %d (in use, or a bad address?)", address, config->port);
        goto failed;
    }
    log_info ("HTTP001", "serving http://%s:%d/ (state, events, seats, gains, seat/<ons_id>) and files from %s; "
              "at most %u event streams, %u connections per address, idle timeout %u s",
              address, config->port, self->root ? self->root : "nowhere", config->max_streams,
              config->per_ip, config->timeout_s);
    return self;
failed:
    http_destroy (&self);
    return NULL;
}

void
http_destroy (http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    http_t *self = *self_p;
    if (self->daemon) {
        //  Wake every stream so it ends, then let the server join its threads
        pthread_mutex_lock (&self->lock);
        self->stopping = true;
        pthread_cond_broadcast (&self->changed);
        pthread_mutex_unlock (&self->lock);
        MHD_stop_daemon (self->daemon);
    }
    s_pending_clear (self);
    s_ring_clear (self);
    s_state_stale (self);
    free (self->health_text);
    free (self->root);
    state_view_destroy (&self->view);
    state_view_destroy (&self->loading);
    pthread_cond_destroy (&self->changed);
    pthread_mutex_destroy (&self->lock);
    pthread_mutex_destroy (&self->log_lock);
    free (self);
    *self_p = NULL;
}
