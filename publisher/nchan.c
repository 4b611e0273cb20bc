/*  nchan.c: see nchan.h.  */
#include "nchan.h"
#include "log.h"
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_TIMEOUT_MS        2000    /* a post nginx has not answered by then has failed */
#define S_CONNECT_MS        1000
#define S_BACKOFF_MIN_MS    100     /* between attempts while nginx does not answer */
#define S_BACKOFF_MAX_MS    2000

typedef struct s_item {
    struct s_item *next;
    char event [16];
    size_t size;
    char data [];               /* size bytes, then a NUL */
} s_item_t;

struct nchan {
    char *url;
    size_t limit;               /* bytes the queue may hold */
    pthread_t thread;
    bool started;
    atomic_bool stopping;       /* also read by libcurl's progress callback */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    //  Under lock
    s_item_t *head, *tail;
    size_t bytes;
    bool resync;                /* tell readers to start over before the next event */
    uint64_t sequence;          /* the latest event's, for a resync */
    uint64_t epoch;
    bool ok;
    uint64_t dropped;
    uint64_t dropped_outage;    /* since the last time nginx answered */
};

// --------------------------------------------------------------------------
//  The caller's side

void
nchan_post (nchan_t *self, const char *event, uint64_t sequence, uint64_t epoch,
            const char *data, size_t size)
{
    pthread_mutex_lock (&self->lock);
    self->sequence = sequence;
    self->epoch = epoch;
    s_item_t *item = NULL;
    if (self->bytes + size <= self->limit && strlen (event) < sizeof item->event)
        item = malloc (sizeof *item + size + 1);
    if (item) {
        item->next = NULL;
        snprintf (item->event, sizeof item->event, "%s", event);
        item->size = size;
        memcpy (item->data, data, size);
        item->data [size] = 0;
        if (self->tail)
            self->tail->next = item;
        else
            self->head = item;
        self->tail = item;
        self->bytes += size;
        pthread_cond_signal (&self->changed);
    }
    else {
        //  nginx is away and the queue is full: readers will miss this one,
        //  and learn it from the resync they get when nginx is back
        if (self->dropped_outage++ == 0)
            log_warn ("PUB113", "nchan queue full (%zu KiB): dropping events until nginx takes them again",
                      self->limit / 1024);
        self->dropped++;
        self->resync = true;
    }
    pthread_mutex_unlock (&self->lock);
}

void
nchan_resync (nchan_t *self, uint64_t sequence, uint64_t epoch)
{
    pthread_mutex_lock (&self->lock);
    self->sequence = sequence;
    self->epoch = epoch;
    self->resync = true;
    pthread_cond_signal (&self->changed);
    pthread_mutex_unlock (&self->lock);
}

void
nchan_stats (nchan_t *self, bool *ok, uint64_t *dropped)
{
    pthread_mutex_lock (&self->lock);
    *ok = self->ok;
    *dropped = self->dropped;
    pthread_mutex_unlock (&self->lock);
}

// --------------------------------------------------------------------------
//  The posting thread

static size_t
s_discard (char *data, size_t size, size_t count, void *arg)
{
    return size * count;
}

//  Abandons a post when the publisher stops
static int
s_progress (void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    nchan_t *self = arg;
    return atomic_load (&self->stopping) ? 1 : 0;
}

//  One POST; false (with why) unless nginx accepted it (201: readers had it, 202: none yet)
static bool
s_post (CURL *curl, const char *event, const char *data, size_t size, char *why, size_t why_size)
{
    char header [64];
    snprintf (header, sizeof header, "X-EventSource-Event: %s", event);
    //  No "Expect: 100-continue": it would wait for nginx's go-ahead on every event
    struct curl_slist *headers = curl_slist_append (NULL, header);
    headers = headers ? curl_slist_append (headers, "Content-Type: application/json") : NULL;
    headers = headers ? curl_slist_append (headers, "Expect:") : NULL;
    if (!headers) {
        snprintf (why, why_size, "out of memory");
        return false;
    }
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) size);
    CURLcode rc = curl_easy_perform (curl);
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all (headers);
    if (rc != CURLE_OK)
        snprintf (why, why_size, "%s", curl_easy_strerror (rc));
    else
    if (status != 201 && status != 202)
        snprintf (why, why_size, "HTTP %ld", status);
    return rc == CURLE_OK && (status == 201 || status == 202);
}

static void
s_wait_ms (nchan_t *self, long ms)
{
    struct timespec deadline;
    clock_gettime (CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    while (!atomic_load (&self->stopping)
       &&  pthread_cond_timedwait (&self->changed, &self->lock, &deadline) != ETIMEDOUT)
        ;
}

static void *
s_run (void *arg)
{
    nchan_t *self = arg;
    CURL *curl = curl_easy_init ();
    if (!curl) {
        log_error ("PUB114", "cannot start libcurl: no events go to nginx");
        return NULL;
    }
    curl_easy_setopt (curl, CURLOPT_URL, self->url);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) S_TIMEOUT_MS);
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, (long) S_CONNECT_MS);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, s_progress);
    curl_easy_setopt (curl, CURLOPT_XFERINFODATA, self);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");

    long backoff = S_BACKOFF_MIN_MS;
    time_t failed_since = 0;
    pthread_mutex_lock (&self->lock);
    while (!atomic_load (&self->stopping)) {
        if (!self->head && !self->resync) {
            pthread_cond_wait (&self->changed, &self->lock);
            continue;
        }
        //  A resync goes before anything still queued: what is queued is
        //  older than the state it names, and readers skip it
        bool resync = self->resync;
        char resync_data [96];
        const char *event = "resync", *data = resync_data;
        size_t size;
        if (resync)
            size = (size_t) snprintf (resync_data, sizeof resync_data, "{\"sequence\":%llu,\"epoch\":\"%016llx\"}",
                                      (unsigned long long) self->sequence, (unsigned long long) self->epoch);
        else {
            event = self->head->event;
            data = self->head->data;
            size = self->head->size;
        }
        //  The head item stays queued (and is only read) while it is posted
        pthread_mutex_unlock (&self->lock);
        char why [128] = "";
        bool posted = s_post (curl, event, data, size, why, sizeof why);
        pthread_mutex_lock (&self->lock);
        if (posted) {
            if (resync)
                self->resync = false;
            else {
                s_item_t *item = self->head;
                self->head = item->next;
                if (!self->head)
                    self->tail = NULL;
                self->bytes -= item->size;
                free (item);
            }
            if (!self->ok && failed_since)
                log_info ("PUB112", "nginx at %s takes events again after %lld s (%llu dropped meanwhile)",
                          self->url, (long long) (time (NULL) - failed_since),
                          (unsigned long long) self->dropped_outage);
            self->ok = true;
            self->dropped_outage = 0;
            failed_since = 0;
            backoff = S_BACKOFF_MIN_MS;
        }
        else
        if (!atomic_load (&self->stopping)) {
            if (self->ok || !failed_since) {
                log_warn ("PUB111", "nginx at %s does not take events (%s): queueing up to %zu KiB, "
                          "then dropping", self->url, why, self->limit / 1024);
                failed_since = time (NULL);
            }
            self->ok = false;
            //  It may have restarted empty, or kept only part of what it got
            self->resync = true;
            s_wait_ms (self, backoff);
            backoff = backoff * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : backoff * 2;
        }
    }
    pthread_mutex_unlock (&self->lock);
    curl_easy_cleanup (curl);
    return NULL;
}

nchan_t *
nchan_new (const char *url, size_t buffer_bytes)
{
    if (strncmp (url, "http://", 7) != 0 && strncmp (url, "https://", 8) != 0) {
        log_error ("PUB110", "--nchan-publish %s: not an http:// or https:// URL", url);
        return NULL;
    }
    nchan_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url = strdup (url);
    self->limit = buffer_bytes;
    self->ok = true;            //  until a post says otherwise
    atomic_init (&self->stopping, false);
    pthread_mutex_init (&self->lock, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init (&attributes);
    pthread_condattr_setclock (&attributes, CLOCK_MONOTONIC);
    pthread_cond_init (&self->changed, &attributes);
    pthread_condattr_destroy (&attributes);
    //  Once, before any thread uses libcurl
    if (!self->url || curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        nchan_destroy (&self);
        return NULL;
    }
    if (pthread_create (&self->thread, NULL, s_run, self)) {
        log_error ("PUB110", "cannot start the thread that posts to nginx");
        nchan_destroy (&self);
        return NULL;
    }
    self->started = true;
    log_info ("PUB110", "posting events to nginx at %s (queue up to %zu KiB)", url, buffer_bytes / 1024);
    return self;
}

void
nchan_destroy (nchan_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    nchan_t *self = *self_p;
    if (self->started) {
        pthread_mutex_lock (&self->lock);
        atomic_store (&self->stopping, true);
        pthread_cond_broadcast (&self->changed);
        pthread_mutex_unlock (&self->lock);
        pthread_join (self->thread, NULL);
        curl_global_cleanup ();
    }
    while (self->head) {
        s_item_t *item = self->head;
        self->head = item->next;
        free (item);
    }
    pthread_cond_destroy (&self->changed);
    pthread_mutex_destroy (&self->lock);
    free (self->url);
    free (self);
    *self_p = NULL;
}
