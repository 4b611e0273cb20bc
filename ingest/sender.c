/*  sender.c: see sender.h.  */
#include "sender.h"
#include "log.h"
#include "clock.h"
#include "net.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_QUEUED, S_IN_FLIGHT, S_FINISHED } s_state_t;

#define S_BLOCKED_MS 20     /* pause after the socket refuses a send */
#define S_MAX_ENDPOINTS 2   /* a pair */
#define S_MIN_DWELL_MS 200  /* at least this long with one before a standby's
                               word turns us to the other again */
#define S_APPENDED   14     /* at most: the request id (a tag and 10 varint
                               bytes) and the failover flag (3) */
#define S_READ_EVERY 256    /* sends between two looks at the acks */

typedef struct {
    char *label;
    uint8_t *bytes;
    size_t size;
    int64_t due_ms;
    int64_t first_sent_ms;
    int64_t last_sent_ms;
    int64_t sent_here_ms;       /* first sent to the endpoint we talk to now */
    bool failover;              /* its bytes say the sender failed over */
    int attempts;
    s_state_t state;
} s_request_t;

struct sender {
    sender_config_t config;
    void *ctx;
    char *endpoints [S_MAX_ENDPOINTS];
    size_t n_endpoints;
    size_t current;             /* the endpoint we talk to */
    int64_t switched_at;        /* mono ms */
    bool to_other;              /* the one we talk to said it is the standby */
    bool failed_over;           /* we turned because the other left us unanswered */
    void *dealer;
    void *monitor;              /* handshake failures of the dealer (CURVE) */
    bool told_refused;          /* said once that the aggregator refuses us */
    uint64_t monitors;          /* monitor sockets made (each needs its own name) */
    sender_done_fn *done;
    void *arg;
    uint64_t id_base;           /* request id = id_base + index */
    s_request_t *requests;
    size_t count;
    size_t capacity;
    size_t next_queued;         /* requests below this have been sent */
    size_t *in_flight;          /* indexes, at most window */
    size_t n_in_flight;
    size_t finished;
    int64_t blocked_until;      /* mono ms: the socket refused a send; wait */
    int64_t refused_since;      /* mono ms of the first refusal since it last took one; 0: none */
};

//  CURVE client, and a monitor so that a refused key is said plainly rather
//  than showing only as declarations never acknowledged
static int
s_secure (sender_t *self, void *ctx)
{
    if (keys_apply_client (self->dealer, self->config.curve)) {
        log_error ("ING030", "cannot set CURVE keys: %s", zmq_strerror (errno));
        return -1;
    }
    char endpoint [96];
    //  A new name for each socket: a pair's sender makes one per turn
    snprintf (endpoint, sizeof endpoint, "inproc://sender-monitor-%p-%llu", (void *) self,
              (unsigned long long) self->monitors++);
    if (zmq_socket_monitor (self->dealer, endpoint, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                            | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                            | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                            | ZMQ_EVENT_HANDSHAKE_SUCCEEDED))
        return 0;   //  no monitor: we only lose the clearer message
    self->monitor = net_socket (ctx, ZMQ_PAIR, endpoint, false);
    return 0;
}

//  Reads monitor events: says once if the aggregator refuses the handshake
static void
s_read_monitor (sender_t *self)
{
    uint16_t event;
    uint32_t value;
    while (net_recv_event (self->monitor, &event, &value, ZMQ_DONTWAIT) == 0) {
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            if (self->told_refused)
                log_info ("ING032", "aggregator %s accepted our key", self->endpoints [self->current]);
            self->told_refused = false;
        }
        else
        if (event && !self->told_refused) {
            if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
                log_error ("ING031", "aggregator %s REFUSED our key (ZAP status %u): is this "
                           "centre's public key on its allow-list?", self->endpoints [self->current], value);
            else
                log_error ("ING031", "CURVE handshake with %s failed: is --curve-server-key "
                           "the aggregator's public key, and does it run CURVE?", self->endpoints [self->current]);
            self->told_refused = true;
        }
    }
}

//  A DEALER to the endpoint we talk to now (and its monitor, under CURVE)
static int
s_connect (sender_t *self)
{
    if (self->dealer)
        zmq_close (self->dealer);
    if (self->monitor)
        zmq_close (self->monitor);
    self->monitor = NULL;
    self->dealer = net_socket (self->ctx, ZMQ_DEALER, NULL, false);
    if (!self->dealer)
        return -1;
    //  Queue while the aggregator is away instead of blocking
    int hwm = 100000;
    zmq_setsockopt (self->dealer, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->dealer, ZMQ_RCVHWM, &hwm, sizeof hwm);
    //  An ack is small: anything far larger is not from an aggregator
    int64_t max_size = 64 * 1024;
    zmq_setsockopt (self->dealer, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
    if (self->config.curve && s_secure (self, self->ctx))
        return -1;
    return net_attach (self->dealer, self->endpoints [self->current], false);
}

//  "A,B": the endpoints of a pair, or of one aggregator
static int
s_endpoints (sender_t *self, const char *to)
{
    const char *at = to;
    while (self->n_endpoints < S_MAX_ENDPOINTS) {
        size_t length = strcspn (at, ",");
        if (!length)
            break;
        self->endpoints [self->n_endpoints] = strndup (at, length);
        if (!self->endpoints [self->n_endpoints])
            return -1;
        self->n_endpoints++;
        at += length;
        if (*at == ',')
            at++;
    }
    if (!self->n_endpoints || *at) {
        log_error ("ING150", "--to must be one endpoint or a pair \"A,B\", not \"%s\"", to);
        return -1;
    }
    return 0;
}

sender_t *
sender_new (void *ctx, const sender_config_t *config, sender_done_fn *done, void *arg)
{
    sender_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    self->ctx = ctx;
    self->done = done;
    self->arg = arg;
    //  Random high bits: ids of two runs never collide at the aggregator's logs
    self->id_base = clock_random_u64 () & 0xFFFFFFFF00000000ULL;
    self->in_flight = calloc (config->window ? config->window : 1, sizeof *self->in_flight);
    if (!self->in_flight || s_endpoints (self, config->to) || s_connect (self))
        goto failed;
    self->switched_at = clock_mono_ms ();
    return self;
failed:
    sender_destroy (&self);
    return NULL;
}

//  Turns to the other aggregator of the pair, and sends it every request
//  in flight at once, with its own request id (a duplicate, if the first
//  one had taken it)
static int
s_turn (sender_t *self, int64_t now, const char *why)
{
    size_t from = self->current;
    self->current = (self->current + 1) % self->n_endpoints;
    log_warn ("ING151", "%s %s: turning to %s with %zu declarations in flight",
              self->endpoints [from], why, self->endpoints [self->current], self->n_in_flight);
    self->switched_at = now;
    self->failed_over = !self->to_other;
    self->to_other = false;
    self->told_refused = false;
    self->refused_since = 0;
    self->blocked_until = 0;
    if (s_connect (self))
        return -1;
    for (size_t i = 0; i < self->n_in_flight; i++) {
        s_request_t *request = &self->requests [self->in_flight [i]];
        request->last_sent_ms = now - self->config.retry_ms;     //  due at once
        request->sent_here_ms = 0;
    }
    return 0;
}

void
sender_destroy (sender_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sender_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->requests [i].label);
        free (self->requests [i].bytes);
    }
    free (self->requests);
    free (self->in_flight);
    if (self->dealer)
        zmq_close (self->dealer);
    if (self->monitor)
        zmq_close (self->monitor);
    for (size_t i = 0; i < self->n_endpoints; i++)
        free (self->endpoints [i]);
    free (self);
    *self_p = NULL;
}

//  Appends field 11 (request_id, varint) to a packed Declaration. Protobuf
//  readers keep the last value of a repeated scalar field, so this sets the
//  id whatever the bytes held, without unpacking and packing again.
static size_t
s_append_request_id (uint8_t *at, uint64_t id)
{
    size_t n = 0;
    at [n++] = 11 << 3;     //  field 11, wire type 0
    do {
        at [n++] = (uint8_t) ((id & 0x7F) | (id > 0x7F ? 0x80 : 0));
        id >>= 7;
    } while (id);
    return n;
}

//  A request that can never be sent: finished now as rejected, never sent
static void
s_refuse (sender_t *self, size_t index, size_t size)
{
    char text [160];
    snprintf (text, sizeof text, "declaration too large: a frame of %zu bytes, and the "
              "aggregator takes at most %d; not sent", size + S_APPENDED, NET_MAX_DECLARATION);
    log_error ("ING060", "%s: %s", self->requests [index].label, text);
    Election__Ack ack = ELECTION__ACK__INIT;
    ack.has_status = true;
    ack.status = ELECTION__ACK_STATUS__ACK_REJECTED;
    ack.text = text;
    s_request_t *request = &self->requests [index];
    request->state = S_FINISHED;
    self->finished++;
    self->done (self->arg, request->label, &ack, 0);
}

int
sender_submit (sender_t *self, const char *label, const void *bytes, size_t size, int64_t due_ms)
{
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 1024;
        s_request_t *requests = realloc (self->requests, capacity * sizeof *requests);
        if (!requests)
            return -1;
        self->requests = requests;
        self->capacity = capacity;
    }
    s_request_t *request = &self->requests [self->count];
    memset (request, 0, sizeof *request);
    request->label = strdup (label);
    if (request->label && size + S_APPENDED > NET_MAX_DECLARATION) {
        //  The aggregator's socket would drop the connection at such a frame,
        //  every time: refused here, at once, with the reason
        self->count++;
        s_refuse (self, self->count - 1, size);
        return 0;
    }
    request->bytes = malloc (size + S_APPENDED);
    if (!request->label || !request->bytes) {
        free (request->label);
        free (request->bytes);
        return -1;
    }
    memcpy (request->bytes, bytes, size);
    request->size = size + s_append_request_id (request->bytes + size, self->id_base + self->count);
    request->due_ms = due_ms;
    self->count++;
    return 0;
}

//  Appends field 70 (failover, varint 1): the Binary Star vote. Only a
//  request that went to one aggregator of a pair after the other left it
//  unanswered says so, so a standby never takes over because a centre
//  happened to try it first (during a partition between the two, say)
static void
s_mark_failover (s_request_t *request)
{
    if (request->failover)
        return;
    request->bytes [request->size++] = (uint8_t) (((70 << 3) & 0x7F) | 0x80);   //  key: field 70,
    request->bytes [request->size++] = (uint8_t) ((70 << 3) >> 7);             //  wire type 0
    request->bytes [request->size++] = 1;
    request->failover = true;
}

static bool
s_send (sender_t *self, s_request_t *request, int64_t now)
{
    if (self->failed_over)
        s_mark_failover (request);
    if (zmq_send (self->dealer, request->bytes, request->size, ZMQ_DONTWAIT) < 0) {
        //  Queue full: count it as tried, so the next try waits its turn
        //  instead of spinning
        self->blocked_until = now + S_BLOCKED_MS;
        if (!self->refused_since)
            self->refused_since = now;
        if (request->attempts)
            request->last_sent_ms = now;
        return false;
    }
    self->refused_since = 0;
    if (!request->attempts)
        request->first_sent_ms = now;
    if (!request->sent_here_ms)
        request->sent_here_ms = now;
    request->attempts++;
    request->last_sent_ms = now;
    return true;
}

static void
s_finish (sender_t *self, size_t index, const Election__Ack *ack)
{
    s_request_t *request = &self->requests [index];
    request->state = S_FINISHED;
    self->finished++;
    for (size_t i = 0; i < self->n_in_flight; i++)
        if (self->in_flight [i] == index) {
            self->in_flight [i] = self->in_flight [--self->n_in_flight];
            break;
        }
    self->done (self->arg, request->label, ack, request->attempts);
    //  The bytes are no longer needed; the label stays for the caller's logs
    free (request->bytes);
    request->bytes = NULL;
}

static void
s_read_acks (sender_t *self)
{
    while (true) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, self->dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&frame);
            return;
        }
        Election__Ack *ack = election__ack__unpack (NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
        zmq_msg_close (&frame);
        if (!ack) {
            log_warn ("ING020", "undecodable acknowledgement dropped");
            continue;
        }
        uint64_t index = ack->request_id - self->id_base;
        if (index < self->count && self->requests [index].state == S_IN_FLIGHT) {
            bool standby = ack->has_pair_state
                        && (ack->pair_state == ELECTION__PAIR_STATE__PAIR_PASSIVE
                        ||  ack->pair_state == ELECTION__PAIR_STATE__PAIR_STARTING);
            if (standby && self->n_endpoints > 1)
                self->to_other = true;      //  s_pump turns us to the other
            else
            if (ack->status == ELECTION__ACK_STATUS__ACK_UNAVAILABLE)
                log_warn ("ING021", "%s: aggregator cannot persist now (%s); will retry",
                          self->requests [index].label, ack->text ? ack->text : "");
            else
                s_finish (self, (size_t) index, ack);
        }
        //  else: the answer to a retry of something already finished
        election__ack__free_unpacked (ack, NULL);
    }
}

int
sender_pump (sender_t *self, long wait_ms)
{
    int64_t now = clock_mono_ms ();
    //  A pair: the one we talk to is the standby, or has left a request
    //  unanswered for the failover time: the other one
    if (self->n_endpoints > 1 && now - self->switched_at >= S_MIN_DWELL_MS) {
        const char *why = self->to_other ? "says it is the standby" : NULL;
        for (size_t i = 0; !why && i < self->n_in_flight; i++) {
            s_request_t *request = &self->requests [self->in_flight [i]];
            if (request->sent_here_ms && now - request->sent_here_ms >= self->config.failover_ms)
                why = "has not answered";
        }
        if (why && s_turn (self, now, why))
            return -1;
    }
    //  Resend what is late, give up on what is hopeless
    for (size_t i = 0; i < self->n_in_flight;) {
        size_t index = self->in_flight [i];
        s_request_t *request = &self->requests [index];
        if (now - request->first_sent_ms >= self->config.give_up_ms) {
            log_warn ("ING022", "%s: no acknowledgement after %d attempts, giving up",
                      request->label, request->attempts);
            s_finish (self, index, NULL);
            continue;       //  s_finish moved another entry into slot i
        }
        if (now - request->last_sent_ms >= self->config.retry_ms) {
            log_info ("ING023", "%s: no acknowledgement in %d ms, resending (attempt %d)",
                      request->label, self->config.retry_ms, request->attempts + 1);
            s_send (self, request, now);
        }
        i++;
    }
    //  A socket that takes nothing for as long (no aggregator will have us:
    //  a refused key is never retried by ZeroMQ) gives up what is due, as an
    //  unanswered request does, or the run would never end
    while (self->refused_since && now - self->refused_since >= self->config.give_up_ms
       &&  self->next_queued < self->count && self->requests [self->next_queued].due_ms <= now) {
        size_t index = self->next_queued++;
        if (self->requests [index].state == S_FINISHED)
            continue;       //  refused when submitted
        log_warn ("ING050", "%s: never sent (%s took nothing for %d ms), giving up",
                  self->requests [index].label, self->endpoints [self->current], self->config.give_up_ms);
        s_finish (self, index, NULL);
    }
    //  Send what is due, within the window, reading acks as they come: the
    //  aggregator cuts a sender that leaves thousands unread
    for (size_t sent = 1; self->next_queued < self->count && self->n_in_flight < self->config.window;
         sent++) {
        if (sent % S_READ_EVERY == 0)
            s_read_acks (self);
        s_request_t *request = &self->requests [self->next_queued];
        if (request->state == S_FINISHED) {
            self->next_queued++;        //  refused when submitted
            continue;
        }
        if (request->due_ms > now || now < self->blocked_until || !s_send (self, request, now))
            break;
        request->state = S_IN_FLIGHT;
        self->in_flight [self->n_in_flight++] = self->next_queued++;
    }
    //  Wait for acks, no longer than the next thing we must do
    long wait = wait_ms;
    int64_t due = sender_next_due (self);
    if (due >= 0 && self->n_in_flight < self->config.window && due - now < wait) {
        int64_t next = due > self->blocked_until ? due : self->blocked_until;
        wait = next - now > 0 ? (long) (next - now) : 0;
    }
    for (size_t i = 0; i < self->n_in_flight; i++) {
        int64_t late = self->requests [self->in_flight [i]].last_sent_ms + self->config.retry_ms - now;
        if (late < wait)
            wait = late > 0 ? (long) late : 0;
    }
    zmq_pollitem_t items [] = {
        { self->dealer, 0, ZMQ_POLLIN, 0 },
        { self->monitor, 0, ZMQ_POLLIN, 0 }
    };
    if (zmq_poll (items, self->monitor ? 2 : 1, wait) < 0)
        return errno == EINTR ? 0 : -1;
    if (items [0].revents & ZMQ_POLLIN)
        s_read_acks (self);
    if (self->monitor && (items [1].revents & ZMQ_POLLIN))
        s_read_monitor (self);
    return 0;
}

size_t
sender_submitted (const sender_t *self)
{
    return self->count;
}

size_t
sender_sent (const sender_t *self)
{
    return self->next_queued;
}

size_t
sender_finished (const sender_t *self)
{
    return self->finished;
}

int64_t
sender_next_due (const sender_t *self)
{
    return self->next_queued < self->count ? self->requests [self->next_queued].due_ms : -1;
}
