/*  webload: a load client for the web tier (issue 16). Opens N Server-Sent
    Events streams to one URL (the publisher's gateway or nginx), reads every
    event on each, and says how late each event reached the last of them.

    One thread, libcurl's multi interface driven by epoll: libcurl does the
    HTTP (status, headers, chunked bodies) that a hand-written client would
    get subtly wrong, and curl_multi_socket_action costs only the sockets
    that have data, so ten thousand idle streams cost nothing between events.

    Per event (seat, region, national: the topic and sequence in its data)
    it keeps the publish stamp (sent_at_us, the aggregator's clock) and the
    first and last receipt among the streams; the latency "to the last
    client" is last receipt - stamp. Per stream it checks that the national
    update of every sequence came, in order, and hashes the events it got
    (FNV-1a of "name\ndata\n"), so that streams can be compared with each
    other and with a reference. Same machine, same clock: loopback only.   */
#include "cli.h"
#include "clock.h"
#include "log.h"
#include "signals.h"
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_CLIENTS       100000
#define S_MAX_DURATION_S    3600
#define S_EVENT_SLOTS       (1 << 16)   /* distinct events tracked; a night has ~3,000 */
#define S_HISTOGRAM_US      100         /* resolution of the all-deliveries histogram */
#define S_HISTOGRAM_SLOTS   600000      /* ... up to 60 s */
#define S_PEEK              512         /* an event's topic, sequence and stamp come first */
#define S_BUFFER_KEEP       65536       /* a stream's buffer shrinks back to this after a big event */

typedef enum { S_CONNECTING, S_OPEN, S_DONE, S_FAILED } s_phase_t;

typedef struct webload webload_t;

typedef struct {
    webload_t *load;
    CURL *easy;
    s_phase_t phase;
    char *buffer;               /* bytes not yet parsed into events */
    size_t size, capacity;
    uint64_t national;          /* the last national sequence seen; 0: none yet */
    uint64_t digest;
    uint64_t events;
    uint32_t gaps;              /* a national sequence missing */
    uint32_t disorder;          /* a sequence lower than one before it */
    uint64_t last_sequence;
} s_client_t;

typedef struct {
    uint64_t key;               /* 0: free */
    int64_t stamp_us;
    int64_t first_us, last_us;
    uint32_t count;
} s_event_t;

struct webload {
    const char *url;
    int clients;
    uint64_t from;              /* the state the streams start from: sequences after it count */
    uint64_t until;             /* 0: run for the duration */
    double connect_rate;        /* streams opened per second */
    int64_t deadline_ms;
    CURLM *multi;
    int epoll;
    long timer_ms;              /* libcurl's next timeout; -1: none */
    int64_t timer_at;
    s_client_t *client;
    int started;                /* transfers begun */
    int opened;                 /* streams that answered 200 */
    int finished;               /* streams that reached --until-sequence */
    int failed, failed_opening; /* streams that failed (before they opened) */
    json_t *failures;           /* reason -> count */
    struct curl_slist *headers; /* of every request */
    s_event_t *events;
    size_t distinct;
    uint32_t *histogram;
    uint64_t deliveries, health, resyncs;
    int64_t started_ms, ready_ms;
};

static uint64_t
s_fnv (uint64_t hash, const char *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        hash ^= (unsigned char) data [i];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

//  The value after "key": in the first S_PEEK bytes of data, or NULL
static const char *
s_field (const char *data, size_t size, const char *key)
{
    size_t length = strlen (key);
    size_t limit = size < S_PEEK ? size : S_PEEK;
    for (size_t i = 0; i + length <= limit; i++)
        if (data [i] == '"' && memcmp (data + i, key, length) == 0)
            return data + i + length;
    return NULL;
}

static void
s_fail (s_client_t *client, const char *reason)
{
    webload_t *self = client->load;
    if (client->phase == S_FAILED || client->phase == S_DONE)
        return;
    if (client->phase == S_CONNECTING)
        self->failed_opening++;
    client->phase = S_FAILED;
    self->failed++;
    json_t *count = json_object_get (self->failures, reason);
    json_object_set_new (self->failures, reason, json_integer (count ? json_integer_value (count) + 1 : 1));
}

//  One update event's receipt, for the latency to the last stream
static void
s_record (webload_t *self, uint64_t sequence, const char *topic, size_t topic_length, int64_t stamp_us,
          int64_t now_us)
{
    uint64_t key = s_fnv (0xcbf29ce484222325ULL ^ sequence * 0x9E3779B97F4A7C15ULL, topic, topic_length) | 1;
    size_t slot = key & (S_EVENT_SLOTS - 1);
    while (self->events [slot].key && self->events [slot].key != key)
        slot = (slot + 1) & (S_EVENT_SLOTS - 1);
    s_event_t *event = &self->events [slot];
    if (!event->key) {
        if (self->distinct >= S_EVENT_SLOTS / 2)
            return;             //  beyond any night: counted in deliveries only
        self->distinct++;
        *event = (s_event_t) { key, stamp_us, now_us, now_us, 0 };
    }
    event->count++;
    if (now_us > event->last_us)
        event->last_us = now_us;
    int64_t latency = now_us - stamp_us;
    size_t bucket = latency < 0 ? 0 : (size_t) (latency / S_HISTOGRAM_US);
    self->histogram [bucket < S_HISTOGRAM_SLOTS ? bucket : S_HISTOGRAM_SLOTS - 1]++;
}

//  One whole event of a stream
static void
s_event (s_client_t *client, const char *name, const char *data, size_t size)
{
    webload_t *self = client->load;
    int64_t now_us = clock_now_us ();
    const char *value;
    if (strcmp (name, "state") == 0) {
        //  The gateway's first event: the stream starts from its sequence
        value = s_field (data, size, "\"sequence\":");
        if (value && client->national == 0)
            client->national = strtoull (value, NULL, 10);
        return;
    }
    if (strcmp (name, "health") == 0) {
        self->health++;
        return;
    }
    if (strcmp (name, "resync") == 0) {
        self->resyncs++;
        return;
    }
    const char *topic = s_field (data, size, "\"topic\":\"");
    const char *sequence_at = s_field (data, size, "\"sequence\":");
    const char *stamp_at = s_field (data, size, "\"sent_at_us\":");
    if (!topic || !sequence_at)
        return;
    uint64_t sequence = strtoull (sequence_at, NULL, 10);
    if (sequence <= self->from)
        return;                 //  before the run (nchan's first event is the latest old one)
    size_t topic_length = strcspn (topic, "\"");
    self->deliveries++;
    client->events++;
    client->digest = s_fnv (s_fnv (s_fnv (client->digest, name, strlen (name)), "\n", 1), data, size);
    client->digest = s_fnv (client->digest, "\n", 1);
    if (sequence < client->last_sequence)
        client->disorder++;
    client->last_sequence = sequence;
    if (stamp_at)
        s_record (self, sequence, topic, topic_length, strtoll (stamp_at, NULL, 10), now_us);
    if (strcmp (name, "national") == 0 && topic_length == 8 && memcmp (topic, "national", 8) == 0) {
        uint64_t expected = (client->national ? client->national : self->from) + 1;
        if (sequence != expected)
            client->gaps++;
        client->national = sequence;
        if (self->until && sequence >= self->until && client->phase == S_OPEN) {
            client->phase = S_DONE;
            self->finished++;
        }
    }
}

//  Splits the stream's buffer into events ("field: value" lines, a blank line after each)
static void
s_parse (s_client_t *client)
{
    size_t start = 0;
    while (client->phase == S_OPEN) {
        char *end = memmem (client->buffer + start, client->size - start, "\n\n", 2);
        if (!end)
            break;
        char name [32] = "message";
        const char *data = NULL;
        size_t data_size = 0;
        char *line = client->buffer + start;
        while (line < end) {
            char *eol = memchr (line, '\n', (size_t) (end - line));
            if (!eol)
                eol = end;
            if (eol - line >= 6 && memcmp (line, "event:", 6) == 0) {
                const char *v = line + 6 + (line [6] == ' ');
                snprintf (name, sizeof name, "%.*s", (int) (eol - v), v);
            }
            else
            if (eol - line >= 5 && memcmp (line, "data:", 5) == 0) {
                data = line + 5 + (line [5] == ' ');
                data_size = (size_t) (eol - data);
            }
            line = eol + 1;
        }
        if (data)
            s_event (client, name, data, data_size);
        start = (size_t) (end - client->buffer) + 2;
    }
    memmove (client->buffer, client->buffer + start, client->size - start);
    client->size -= start;
    if (client->capacity > S_BUFFER_KEEP && client->size < S_BUFFER_KEEP) {
        char *smaller = realloc (client->buffer, S_BUFFER_KEEP);
        if (smaller) {
            client->buffer = smaller;
            client->capacity = S_BUFFER_KEEP;
        }
    }
}

static size_t
s_write (char *data, size_t size, size_t count, void *arg)
{
    s_client_t *client = arg;
    webload_t *self = client->load;
    size_t bytes = size * count;
    if (client->phase == S_CONNECTING) {
        long status = 0;
        curl_easy_getinfo (client->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) {
            char reason [32];
            snprintf (reason, sizeof reason, "HTTP %ld", status);
            s_fail (client, reason);
            return 0;           //  ends this transfer
        }
        client->phase = S_OPEN;
        self->opened++;
    }
    if (client->phase != S_OPEN)
        return bytes;           //  done: the rest is not counted
    if (client->size + bytes > client->capacity) {
        size_t capacity = client->capacity ? client->capacity : 4096;
        while (capacity < client->size + bytes)
            capacity *= 2;
        char *grown = realloc (client->buffer, capacity);
        if (!grown) {
            s_fail (client, "out of memory");
            return 0;
        }
        client->buffer = grown;
        client->capacity = capacity;
    }
    memcpy (client->buffer + client->size, data, bytes);
    client->size += bytes;
    s_parse (client);
    return bytes;
}

static int
s_on_socket (CURL *easy, curl_socket_t fd, int what, void *arg, void *socket_arg)
{
    webload_t *self = arg;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl (self->epoll, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    struct epoll_event event = {
        .events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0),
        .data.fd = fd
    };
    if (epoll_ctl (self->epoll, EPOLL_CTL_MOD, fd, &event) && errno == ENOENT)
        epoll_ctl (self->epoll, EPOLL_CTL_ADD, fd, &event);
    return 0;
}

static int
s_on_timer (CURLM *multi, long timeout_ms, void *arg)
{
    webload_t *self = arg;
    self->timer_ms = timeout_ms;
    self->timer_at = timeout_ms >= 0 ? clock_mono_ms () + timeout_ms : -1;
    return 0;
}

static int
s_open (webload_t *self, s_client_t *client)
{
    client->load = self;
    client->digest = 0xcbf29ce484222325ULL;     //  FNV-1a's offset basis
    client->easy = curl_easy_init ();
    if (!client->easy)
        return -1;
    curl_easy_setopt (client->easy, CURLOPT_URL, self->url);
    curl_easy_setopt (client->easy, CURLOPT_HTTPHEADER, self->headers);
    curl_easy_setopt (client->easy, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (client->easy, CURLOPT_WRITEDATA, client);
    curl_easy_setopt (client->easy, CURLOPT_PRIVATE, client);
    curl_easy_setopt (client->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (client->easy, CURLOPT_CONNECTTIMEOUT, 60L);
    curl_easy_setopt (client->easy, CURLOPT_PROTOCOLS_STR, "http");
    return curl_multi_add_handle (self->multi, client->easy) == CURLM_OK ? 0 : -1;
}

//  Transfers that ended: a stream that ends before it is done has failed
static void
s_reap (webload_t *self)
{
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read (self->multi, &left))) {
        if (message->msg != CURLMSG_DONE)
            continue;
        s_client_t *client;
        curl_easy_getinfo (message->easy_handle, CURLINFO_PRIVATE, (char **) &client);
        long status = 0;
        curl_easy_getinfo (message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        char reason [64];
        if (message->data.result == CURLE_OK)
            snprintf (reason, sizeof reason, status == 200 ? "closed by the server" : "HTTP %ld", status);
        else
        if (client->phase == S_CONNECTING && status == 0)
            snprintf (reason, sizeof reason, "connect: %s", curl_easy_strerror (message->data.result));
        else
            snprintf (reason, sizeof reason, "%s", curl_easy_strerror (message->data.result));
        s_fail (client, reason);
        curl_multi_remove_handle (self->multi, client->easy);
        curl_easy_cleanup (client->easy);
        client->easy = NULL;
    }
}

static int
s_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

static void
s_quantiles (json_t *object, const char *name, int64_t *values, size_t count)
{
    if (count == 0) {
        json_object_set_new (object, name, json_null ());
        return;
    }
    qsort (values, count, sizeof *values, s_compare);
    size_t p50 = (size_t) ceil (0.50 * (double) count) - 1, p99 = (size_t) ceil (0.99 * (double) count) - 1;
    json_object_set_new (object, name, json_pack ("{s:f, s:f, s:f}", "p50", values [p50] / 1000.0,
        "p99", values [p99] / 1000.0, "max", values [count - 1] / 1000.0));
}

static json_t *
s_report (webload_t *self)
{
    json_t *report = json_pack ("{s:s, s:i, s:i, s:i, s:O, s:I, s:I, s:I, s:I, s:I}",
        "url", self->url, "clients", self->clients, "connected", self->opened,
        "failed", self->failed, "failures", self->failures, "events", (json_int_t) self->distinct,
        "deliveries", (json_int_t) self->deliveries, "health_events", (json_int_t) self->health,
        "resyncs", (json_int_t) self->resyncs, "until_sequence", (json_int_t) self->until);
    //  Per stream: finished in order, and what it got
    int complete = 0;
    uint64_t gaps = 0, disorder = 0;
    json_t *digests = json_object ();
    for (int i = 0; i < self->started; i++) {
        s_client_t *client = &self->client [i];
        gaps += client->gaps;
        disorder += client->disorder;
        if (client->phase != S_FAILED && client->gaps == 0 && client->disorder == 0
        &&  (!self->until || client->national >= self->until))
            complete++;
        char hex [17];
        snprintf (hex, sizeof hex, "%016llx", (unsigned long long) client->digest);
        json_t *count = json_object_get (digests, hex);
        json_object_set_new (digests, hex, json_integer (count ? json_integer_value (count) + 1 : 1));
    }
    json_object_set_new (report, "complete", json_integer (complete));
    json_object_set_new (report, "gaps", json_integer ((json_int_t) gaps));
    json_object_set_new (report, "out_of_order", json_integer ((json_int_t) disorder));
    json_object_set_new (report, "digests", digests);
    //  Latency to the last stream, over the events every open stream got
    int receivers = self->started - self->failed;
    int64_t *last = malloc ((self->distinct + 1) * sizeof *last);
    int64_t *first = malloc ((self->distinct + 1) * sizeof *first);
    size_t whole = 0, partial = 0;
    for (size_t i = 0; last && first && i < S_EVENT_SLOTS; i++) {
        const s_event_t *event = &self->events [i];
        if (!event->key)
            continue;
        if ((int) event->count >= receivers) {
            last [whole] = event->last_us - event->stamp_us;
            first [whole++] = event->first_us - event->stamp_us;
        }
        else
            partial++;
    }
    s_quantiles (report, "latency_last_ms", last, whole);
    s_quantiles (report, "latency_first_ms", first, whole);
    free (last);
    free (first);
    json_object_set_new (report, "events_missed_by_some", json_integer ((json_int_t) partial));
    //  Over every delivery
    uint64_t total = 0, seen = 0;
    for (size_t i = 0; i < S_HISTOGRAM_SLOTS; i++)
        total += self->histogram [i];
    double p50 = -1, p99 = -1, max = 0;
    for (size_t i = 0; i < S_HISTOGRAM_SLOTS && total; i++) {
        if (!self->histogram [i])
            continue;
        seen += self->histogram [i];
        double ms = (double) (i + 1) * S_HISTOGRAM_US / 1000.0;
        if (p50 < 0 && seen * 2 >= total) p50 = ms;
        if (p99 < 0 && seen * 100 >= total * 99) p99 = ms;
        max = ms;
    }
    json_object_set_new (report, "latency_all_ms", total
        ? json_pack ("{s:f, s:f, s:f}", "p50", p50, "p99", p99, "max", max) : json_null ());
    //  Its own cost, so that the figures can be read against it
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    double cpu = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec
               + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    double wall = (clock_mono_ms () - self->started_ms) / 1000.0;
    json_object_set_new (report, "wall_s", json_real (wall));
    json_object_set_new (report, "connect_s", self->ready_ms
        ? json_real ((self->ready_ms - self->started_ms) / 1000.0) : json_null ());
    json_object_set_new (report, "cpu_s", json_real (cpu));
    json_object_set_new (report, "cpu_percent", json_real (wall > 0 ? 100.0 * cpu / wall : 0));
    json_object_set_new (report, "max_rss_kib", json_integer (usage.ru_maxrss));
    return report;
}

//  Loopback only: a load client must never be pointed at someone else
static bool
s_loopback (const char *url)
{
    CURLU *parsed = curl_url ();
    char *host = NULL, *scheme = NULL;
    bool ok = parsed && curl_url_set (parsed, CURLUPART_URL, url, 0) == CURLUE_OK
           && curl_url_get (parsed, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK && strcmp (scheme, "http") == 0
           && curl_url_get (parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK
           && (strncmp (host, "127.", 4) == 0 || strcmp (host, "[::1]") == 0);
    curl_free (host);
    curl_free (scheme);
    curl_url_cleanup (parsed);
    return ok;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
        "Usage: webload --url URL [OPTIONS]\n"
        "Opens N Server-Sent Events streams to URL (loopback only), reads every event,\n"
        "and prints one JSON object: streams opened and failed (and why), whether each\n"
        "got the national update of every sequence in order, a digest of what each got,\n"
        "the delivery latency (publish stamp to receipt) to the last and first stream\n"
        "per event (p50, p99, max), and its own CPU. Logs \"ready\" (LOD002) once every\n"
        "stream is open (or has failed). SIGINT or SIGTERM ends it with a report.\n\n"
        "  --url URL             http://127.0.0.1:PORT/events (a numeric loopback address)\n"
        "  --clients N           streams (default 100; at most %d)\n"
        "  --from-sequence S     the state the streams start from (default 0): the national\n"
        "                        update of every sequence after it must come, in order\n"
        "  --until-sequence S    stop when every stream has had sequence S's national update\n"
        "                        (default: run for --duration)\n"
        "  --duration SEC        give up after SEC seconds (default 600; at most %d)\n"
        "  --connect-rate N      streams opened per second (default 2000)\n"
        "  --quiet               log warnings and errors only\n"
        "  --help                this text\n\n"
        "Exit status: 0 if every stream opened and got every event in order, 1 if not,\n"
        "2 for bad usage.\n", S_MAX_CLIENTS, S_MAX_DURATION_S);
}

int
main (int argc, char *argv [])
{
    webload_t self = { .clients = 100, .connect_rate = 2000, .timer_ms = -1, .timer_at = -1 };
    double duration = 600;
    log_level_t level = LOG_INFO;
    static const struct option options [] = {
        { "url", required_argument, NULL, 'u' },
        { "clients", required_argument, NULL, 'c' },
        { "from-sequence", required_argument, NULL, 'f' },
        { "until-sequence", required_argument, NULL, 's' },
        { "duration", required_argument, NULL, 'd' },
        { "connect-rate", required_argument, NULL, 'r' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    long long number;
    int opt;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
            case 'u': self.url = optarg; break;
            case 'q': level = LOG_WARN; break;
            case 'h': s_usage (stdout); return 0;
            case 'c':
                if (cli_integer ("webload", "--clients", optarg, 1, S_MAX_CLIENTS, &number))
                    return 2;
                self.clients = (int) number;
                break;
            case 'f': case 's':
                if (cli_integer ("webload", opt == 'f' ? "--from-sequence" : "--until-sequence", optarg,
                                 0, 1000000000000LL, &number))
                    return 2;
                *(opt == 'f' ? &self.from : &self.until) = (uint64_t) number;
                break;
            case 'd':
                if (cli_real ("webload", "--duration", optarg, 1, S_MAX_DURATION_S, &duration))
                    return 2;
                break;
            case 'r':
                if (cli_real ("webload", "--connect-rate", optarg, 1, 1e6, &self.connect_rate))
                    return 2;
                break;
            default: s_usage (stderr); return 2;
        }
    }
    if (!self.url || optind < argc) {
        s_usage (stderr);
        return 2;
    }
    log_init ("webload", level);
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    if (!s_loopback (self.url)) {
        fprintf (stderr, "webload: %s: loopback only (http://127.x.x.x:PORT/... or http://[::1]:PORT/...)\n",
                 self.url);
        return 2;
    }
    //  A descriptor per stream, and some to spare
    struct rlimit files;
    getrlimit (RLIMIT_NOFILE, &files);
    if (files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit (RLIMIT_NOFILE, &files);
    }
    if (files.rlim_cur < (rlim_t) self.clients + 64) {
        log_error ("LOD003", "%d streams need %d file descriptors; this process may have %llu "
                   "(raise ulimit -n)", self.clients, self.clients + 64, (unsigned long long) files.rlim_cur);
        return 2;
    }
    self.client = calloc ((size_t) self.clients, sizeof *self.client);
    self.events = calloc (S_EVENT_SLOTS, sizeof *self.events);
    self.histogram = calloc (S_HISTOGRAM_SLOTS, sizeof *self.histogram);
    self.failures = json_object ();
    self.multi = curl_multi_init ();
    self.headers = curl_slist_append (NULL, "Accept: text/event-stream");
    self.epoll = epoll_create1 (EPOLL_CLOEXEC);
    if (!self.client || !self.events || !self.histogram || !self.failures || !self.multi || !self.headers
    ||  self.epoll < 0) {
        log_error ("LOD004", "out of memory");
        return 1;
    }
    curl_multi_setopt (self.multi, CURLMOPT_SOCKETFUNCTION, s_on_socket);
    curl_multi_setopt (self.multi, CURLMOPT_SOCKETDATA, &self);
    curl_multi_setopt (self.multi, CURLMOPT_TIMERFUNCTION, s_on_timer);
    curl_multi_setopt (self.multi, CURLMOPT_TIMERDATA, &self);

    self.started_ms = clock_mono_ms ();
    self.deadline_ms = self.started_ms + (int64_t) (duration * 1000);
    log_info ("LOD001", "opening %d streams to %s at %.0f a second", self.clients, self.url, self.connect_rate);
    struct epoll_event ready [1024];
    int running = 0;
    //  SIGINT or SIGTERM: stop, and report what was seen so far
    signals_catch ();
    while (!signals_interrupted () && clock_mono_ms () < self.deadline_ms) {
        //  Open what the connect rate allows by now
        int64_t now = clock_mono_ms ();
        int due = (int) ((double) (now - self.started_ms) * self.connect_rate / 1000.0) + 1;
        while (self.started < self.clients && self.started < due) {
            if (s_open (&self, &self.client [self.started]))
                s_fail (&self.client [self.started], "cannot start a transfer");
            self.started++;
        }
        if (!self.ready_ms && self.started == self.clients
        &&  self.opened + self.failed_opening == self.clients) {
            self.ready_ms = clock_mono_ms ();
            log_info ("LOD002", "ready: %d streams open, %d failed, in %.1f s", self.opened,
                      self.failed_opening, (self.ready_ms - self.started_ms) / 1000.0);
        }
        if (self.until && self.started == self.clients && self.finished + self.failed == self.clients)
            break;
        if (self.started == self.clients && self.failed == self.clients)
            break;
        long wait = 1000;
        if (self.started < self.clients)
            wait = 10;
        if (self.timer_at >= 0 && self.timer_at - now < wait)
            wait = self.timer_at - now > 0 ? (long) (self.timer_at - now) : 0;
        int count = epoll_wait (self.epoll, ready, 1024, (int) wait);
        if (count < 0 && errno != EINTR) {
            log_error ("LOD005", "epoll_wait: %s", strerror (errno));
            break;
        }
        for (int i = 0; i < count; i++) {
            int flags = (ready [i].events & EPOLLIN ? CURL_CSELECT_IN : 0)
                      | (ready [i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0)
                      | (ready [i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action (self.multi, ready [i].data.fd, flags, &running);
        }
        if (self.timer_at >= 0 && clock_mono_ms () >= self.timer_at) {
            self.timer_at = -1;
            curl_multi_socket_action (self.multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        s_reap (&self);
    }
    if (self.until && self.finished + self.failed < self.clients)
        log_warn ("LOD006", "%d streams had not reached sequence %llu when it %s",
                  self.clients - self.finished - self.failed, (unsigned long long) self.until,
                  signals_interrupted () ? "was stopped" : "ran out of time");
    json_t *report = s_report (&self);
    char *text = json_dumps (report, JSON_COMPACT);
    printf ("%s\n", text ? text : "{}");
    fflush (stdout);
    int complete = (int) json_integer_value (json_object_get (report, "complete"));
    free (text);
    json_decref (report);
    log_info ("LOD007", "%d of %d streams complete", complete, self.clients);
    for (int i = 0; i < self.started; i++) {
        if (self.client [i].easy) {
            curl_multi_remove_handle (self.multi, self.client [i].easy);
            curl_easy_cleanup (self.client [i].easy);
        }
        free (self.client [i].buffer);
    }
    curl_multi_cleanup (self.multi);
    curl_slist_free_all (self.headers);
    curl_global_cleanup ();
    close (self.epoll);
    json_decref (self.failures);
    free (self.client);
    free (self.events);
    free (self.histogram);
    return complete == self.clients ? 0 : 1;
}
