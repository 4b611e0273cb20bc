/*  guard.c: see guard.h.

    The bytes a peer has made libzmq hold are
        received by the kernel (TCP_INFO) - still in the kernel (FIONREAD)
        - delivered to us (each frame's size and its framing on the wire)
        - what the wire carries that libzmq never delivers
    The last term is the ZMTP greeting and handshake (a fixed allowance)
    and any heartbeat (PING) commands the peer sends, about 9 bytes each,
    which we cannot see: the allowance grows by S_PING_BYTES_PER_S with the
    connection's age, so a peer heartbeating once a second is never taken
    for one that holds back a message, and a slow attacker gains no more
    than that rate.

    held_hard is judged on what the peer has sent, the bytes still in the
    kernel included: libzmq will read them (an XPUB files subscriptions in
    its tree as it reads them, before we see one), so a peer that has sent
    far more than any honest one is cut before they are read. The other
    rules leave those bytes out (they may be whole messages libzmq has not
    read yet).

    When to look: nothing outside libzmq says that it has read a
    connection's bytes (epoll re-checks readiness, and libzmq has emptied
    the socket by then), so the guard looks on a timer. Every S_FULL_MS it
    measures every connection; every S_TICK_MS it measures those it
    suspects or whose bytes wait in the kernel, and, if the process's peak
    memory has grown by S_GROWTH_KIB since the last full look, every
    connection again: a message of empty frames costs 32 times its wire
    bytes in memory, and is caught as the memory grows, not 250 ms later.
    While memory grows the ticks come every S_ALERT_MS, so that libzmq,
    which can take a few hundred MB a second of empty frames, is caught
    within a few MB; idle, a tick costs little.                             */
#include "guard.h"
#include "clock.h"
#include "log.h"
#include "net.h"
#include <arpa/inet.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_HANDSHAKE_BYTES   2048    /* greeting, READY or the CURVE handshake */
#define S_PING_BYTES_PER_S  16      /* ZMTP heartbeats, unseen: 9 bytes each */
#define S_CURVE_FRAME       33      /* a CURVE MESSAGE adds name, nonce, MAC, flags */
#define S_STALL_MS          1000    /* no whole message for this long: unfinished */
#define S_TICK_MS           20      /* the suspected looked at again, memory too */
#define S_ALERT_MS          2       /* the same, while memory grows */
#define S_ALERT_KIB         1024    /* peak memory grown this much in a tick */
#define S_FULL_MS           250     /* every connection looked at */
#define S_GROWTH_KIB        4096    /* peak memory grown this much: look at all */

typedef struct {
    int fd;
    char address [64];          /* the peer, for logs and to recognise the fd */
    int64_t since_ms;           /* connected at (mono) */
    int64_t active_ms;          /* the last frame it gave us, or since_ms */
    uint64_t delivered;         /* wire bytes of the frames the owner received */
    uint64_t received;          /* bytes libzmq had read at the last check */
    uint64_t arrived;           /* bytes the kernel had received then */
    int64_t suspect_ms;         /* holds too much, maybe in whole messages; 0: no */
    uint64_t suspect_delivered;
    bool measured;              /* in this call of guard_handle */
    size_t subscriptions;       /* XPUB: admitted and not cancelled */
    bool cut;                   /* shut down; the monitor will say when it is gone */
} s_peer_t;

struct guard {
    guard_limits_t limits;
    void *socket;
    int type;                   /* ZMQ_ROUTER skips the identity frame it makes up */
    bool curve;
    void *monitor;
    bool monitoring;            /* the socket's monitor is on */
    s_peer_t *peers;
    size_t n_peers;
    size_t capacity;
    size_t *by_fd;              /* fd -> index in peers + 1; 0: none */
    size_t n_by_fd;
    int64_t last_read_ms;       /* the owner last received from the socket */
    int frame_fd;               /* where the frame being counted came from */
    bool more;                  /* the last frame counted had more to follow */
    int64_t next_tick_ms;       /* mono */
    int64_t next_full_ms;
    long peak_kib;              /* the process's peak memory at the last full look */
    long tick_kib;              /* ... and at the last tick */
    size_t live;                /* peers not cut */
    uint64_t cut_count;
    bool no_tcp_info;           /* the kernel does not count received bytes */
};

//  ---------------------------------------------------------------------
//  Peers by file descriptor

static s_peer_t *
s_find (guard_t *self, int fd)
{
    if (fd < 0 || (size_t) fd >= self->n_by_fd || !self->by_fd [fd])
        return NULL;
    return &self->peers [self->by_fd [fd] - 1];
}

static void
s_address (int fd, char *text, size_t size)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    char host [INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (getpeername (fd, (struct sockaddr *) &addr, &len) == 0) {
        if (addr.ss_family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *) &addr;
            inet_ntop (AF_INET, &in->sin_addr, host, sizeof host);
            port = ntohs (in->sin_port);
        }
        else
        if (addr.ss_family == AF_INET6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &addr;
            inet_ntop (AF_INET6, &in6->sin6_addr, host, sizeof host);
            port = ntohs (in6->sin6_port);
        }
    }
    snprintf (text, size, "%s:%d", host, port);
}

static void
s_add (guard_t *self, int fd)
{
    if (fd < 0 || s_find (self, fd))
        return;
    if ((size_t) fd >= self->n_by_fd) {
        size_t n = self->n_by_fd ? self->n_by_fd : 64;
        while (n <= (size_t) fd)
            n *= 2;
        size_t *by_fd = realloc (self->by_fd, n * sizeof *by_fd);
        if (!by_fd)
            return;     //  unguarded, but counted by the kernel: harmless
        memset (by_fd + self->n_by_fd, 0, (n - self->n_by_fd) * sizeof *by_fd);
        self->by_fd = by_fd;
        self->n_by_fd = n;
    }
    if (self->n_peers == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 16;
        s_peer_t *peers = realloc (self->peers, capacity * sizeof *peers);
        if (!peers)
            return;
        self->peers = peers;
        self->capacity = capacity;
    }
    s_peer_t *peer = &self->peers [self->n_peers++];
    memset (peer, 0, sizeof *peer);
    peer->fd = fd;
    peer->since_ms = peer->active_ms = clock_mono_ms ();
    s_address (fd, peer->address, sizeof peer->address);
    self->by_fd [fd] = self->n_peers;
    self->live++;
}

static void
s_remove (guard_t *self, int fd)
{
    s_peer_t *peer = s_find (self, fd);
    if (!peer)
        return;
    if (!peer->cut)
        self->live--;
    size_t index = self->by_fd [fd] - 1;
    self->by_fd [fd] = 0;
    if (index != --self->n_peers) {
        self->peers [index] = self->peers [self->n_peers];
        self->by_fd [self->peers [index].fd] = index + 1;
    }
}

//  Cuts a connection: libzmq sees the end of the stream, drops the
//  connection and frees what it held for it (the unfinished message too).
static void
s_cut (guard_t *self, s_peer_t *peer, const char *why)
{
    if (peer->cut)
        return;
    //  The fd may have been closed and given to another connection since the
    //  monitor's last news: only the same peer is cut
    char now [sizeof peer->address];
    s_address (peer->fd, now, sizeof now);
    if (strcmp (now, peer->address) != 0)
        return;
    peer->cut = true;
    self->live--;
    self->cut_count++;
    //  Said before it is done: whoever sees the connection end can read why
    log_warn ("NET001", "%s: cut the connection from %s: %s", self->limits.name, peer->address, why);
    shutdown (peer->fd, SHUT_RDWR);
}

//  ---------------------------------------------------------------------
//  The monitor: connections coming and going

//  Past peers_max: cut the longest idle connection, or the newest
static void
s_enforce_peers_max (guard_t *self, int newest)
{
    if (!self->limits.peers_max || self->live <= self->limits.peers_max)
        return;
    s_peer_t *victim = s_find (self, newest);
    if (self->limits.evict_idle)
        for (size_t i = 0; i < self->n_peers; i++) {
            s_peer_t *peer = &self->peers [i];
            if (!peer->cut && (!victim || victim->cut || peer->active_ms < victim->active_ms))
                victim = peer;
        }
    if (victim) {
        char why [96];
        snprintf (why, sizeof why, "%zu connections is the most this port takes (%s)",
                  self->limits.peers_max, self->limits.evict_idle ? "the longest idle goes"
                                                                 : "the newest goes");
        s_cut (self, victim, why);
    }
}

static void
s_read_monitor (guard_t *self)
{
    uint16_t event;
    uint32_t value;
    while (net_recv_event (self->monitor, &event, &value, ZMQ_DONTWAIT) == 0) {
        if (event == ZMQ_EVENT_ACCEPTED || event == ZMQ_EVENT_CONNECTED) {
            s_add (self, (int) value);
            s_enforce_peers_max (self, (int) value);
        }
        else
        if (event == ZMQ_EVENT_DISCONNECTED || event == ZMQ_EVENT_CLOSED)
            s_remove (self, (int) value);
    }
}

//  The peer a frame came from. A connection's ACCEPTED event is queued
//  before anything it sends can be read, so an unknown fd means news not
//  yet taken.
static s_peer_t *
s_peer_of (guard_t *self, int fd)
{
    s_peer_t *peer = s_find (self, fd);
    if (!peer && fd >= 0) {
        s_read_monitor (self);
        peer = s_find (self, fd);
    }
    return peer;
}

static s_peer_t *
s_source (guard_t *self, zmq_msg_t *frame)
{
    return s_peer_of (self, zmq_msg_get (frame, ZMQ_SRCFD));
}

//  ---------------------------------------------------------------------
//  What a peer makes us hold

static bool
s_readable (guard_t *self)
{
    int events = 0;
    size_t size = sizeof events;
    return zmq_getsockopt (self->socket, ZMQ_EVENTS, &events, &size) == 0
        && (events & ZMQ_POLLIN);
}

//  Of bytes the peer sent, those not delivered to us, beyond what the wire
//  carries unseen
static uint64_t
s_undelivered (const s_peer_t *peer, uint64_t bytes, int64_t now)
{
    uint64_t unseen = S_HANDSHAKE_BYTES + (uint64_t) (now - peer->since_ms) / 1000 * S_PING_BYTES_PER_S;
    uint64_t accounted = peer->delivered + unseen;
    return bytes > accounted ? bytes - accounted : 0;
}

//  Bytes libzmq holds for the peer as of its last check
static uint64_t
s_held (const s_peer_t *peer, int64_t now)
{
    return s_undelivered (peer, peer->received, now);
}

//  Asks the kernel how much the connection has received that libzmq read
static bool
s_measure (guard_t *self, s_peer_t *peer)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    memset (&info, 0, sizeof info);
    if (getsockopt (peer->fd, IPPROTO_TCP, TCP_INFO, &info, &len))
        return false;       //  not TCP (ipc://), or gone
    if (len < offsetof (struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received) {
        if (!self->no_tcp_info)
            log_error ("NET006", "%s: this kernel does not count the bytes a connection "
                       "received (TCP_INFO): unfinished messages are not bounded", self->limits.name);
        self->no_tcp_info = true;
        return false;
    }
    //  Asked second: bytes arriving between the two calls are counted as
    //  still in the kernel, so libzmq's share is never overstated
    int waiting = 0;
    if (ioctl (peer->fd, FIONREAD, &waiting) || waiting < 0)
        waiting = 0;
    peer->arrived = info.tcpi_bytes_received;
    peer->received = (uint64_t) waiting < peer->arrived ? peer->arrived - (uint64_t) waiting : 0;
    return true;
}

//  The rules of guard.h, for one peer measured just now
static void
s_judge (guard_t *self, s_peer_t *peer, bool drained, int64_t now)
{
    uint64_t held = s_held (peer, now);
    uint64_t sent = s_undelivered (peer, peer->arrived, now);
    char why [160];
    if (sent > self->limits.held_hard) {
        snprintf (why, sizeof why, "it sent %llu bytes we have not read (at most %zu)",
                  (unsigned long long) sent, self->limits.held_hard);
        s_cut (self, peer, why);
    }
    else
    if (held <= self->limits.held_max)
        peer->suspect_ms = 0;
    else
    if (drained) {
        snprintf (why, sizeof why, "%llu bytes of an unfinished message (at most %zu)",
                  (unsigned long long) held, self->limits.held_max);
        s_cut (self, peer, why);
    }
    else
    if (!peer->suspect_ms || peer->delivered != peer->suspect_delivered) {
        //  Maybe whole messages the owner has not read yet: wait and see
        peer->suspect_ms = now;
        peer->suspect_delivered = peer->delivered;
    }
    else
    if (now - peer->suspect_ms >= S_STALL_MS && self->last_read_ms > peer->suspect_ms) {
        snprintf (why, sizeof why, "%llu bytes and no whole message in %d ms (at most %zu)",
                  (unsigned long long) held, S_STALL_MS, self->limits.held_max);
        s_cut (self, peer, why);
    }
}

//  All peers' unfinished messages together: cut the largest past the budget
static void
s_judge_budget (guard_t *self, int64_t now)
{
    while (true) {
        uint64_t total = 0, largest = 0;
        s_peer_t *victim = NULL;
        for (size_t i = 0; i < self->n_peers; i++) {
            s_peer_t *peer = &self->peers [i];
            uint64_t held = peer->cut ? 0 : s_held (peer, now);
            total += held;
            if (held > largest) {
                largest = held;
                victim = peer;
            }
        }
        if (!victim || total <= self->limits.held_budget)
            return;
        char why [160];
        snprintf (why, sizeof why, "%llu bytes of an unfinished message, the most of the %llu "
                  "the port's connections hold (at most %zu together)", (unsigned long long) largest,
                  (unsigned long long) total, self->limits.held_budget);
        s_cut (self, victim, why);
    }
}

static bool
s_watched (const s_peer_t *peer)
{
    return !peer->cut && (peer->suspect_ms || peer->arrived > peer->received);
}

//  The process's peak resident memory, in KiB
static long
s_peak_kib (void)
{
    struct rusage usage;
    return getrusage (RUSAGE_SELF, &usage) == 0 ? usage.ru_maxrss : 0;
}

void
guard_handle (guard_t *self)
{
    int64_t now = clock_mono_ms ();
    if (now < self->next_tick_ms)
        return;
    long peak = s_peak_kib ();
    self->next_tick_ms = now + (peak - self->tick_kib >= S_ALERT_KIB ? S_ALERT_MS : S_TICK_MS);
    self->tick_kib = peak;
    //  News first: a closed connection's fd must not be taken for a new one's
    s_read_monitor (self);
    if (self->no_tcp_info || self->n_peers == 0)
        return;
    bool full = now >= self->next_full_ms;
    if (full || peak - self->peak_kib >= S_GROWTH_KIB) {
        full = true;
        self->next_full_ms = now + S_FULL_MS;
        self->peak_kib = peak;
    }
    bool measured = false;
    for (size_t i = 0; i < self->n_peers; i++) {
        s_peer_t *peer = &self->peers [i];
        peer->measured = !peer->cut && (full || s_watched (peer)) && s_measure (self, peer);
        measured = measured || peer->measured;
    }
    if (!measured)
        return;
    //  After measuring: if the socket has nothing to read now, what each
    //  peer held when measured was not whole messages
    bool drained = !s_readable (self);
    for (size_t i = 0; i < self->n_peers; i++)
        if (self->peers [i].measured && !self->peers [i].cut)
            s_judge (self, &self->peers [i], drained, now);
    if (drained)
        s_judge_budget (self, now);
}

long
guard_timeout_ms (const guard_t *self)
{
    int64_t left = self->next_tick_ms - clock_mono_ms ();
    return left > 0 ? (long) left : 0;
}

//  ---------------------------------------------------------------------
//  Receiving

//  Counts a received frame against the connection it came from
static void
s_count (void *arg, zmq_msg_t *frame, size_t index)
{
    guard_t *self = arg;
    if (index == 0 && self->type == ZMQ_ROUTER)
        return;     //  the identity frame is the ROUTER's, not the peer's
    //  The frames of one message come from one connection: asked once
    if (!self->more)
        self->frame_fd = zmq_msg_get (frame, ZMQ_SRCFD);
    self->more = zmq_msg_more (frame);
    s_peer_t *peer = s_peer_of (self, self->frame_fd);
    if (!peer)
        return;
    uint64_t size = zmq_msg_size (frame) + (self->curve ? S_CURVE_FRAME : 0);
    peer->delivered += size + (size < 256 ? 2 : 9);
    peer->active_ms = self->last_read_ms;
}

int
guard_recv_frames (guard_t *self, zmq_msg_t *frames, size_t max, size_t *count, int flags)
{
    self->last_read_ms = clock_mono_ms ();
    return net_recv_frames_counted (self->socket, frames, max, count, flags, s_count, self);
}

int
guard_recv (guard_t *self, zmq_msg_t *frame, int flags)
{
    self->last_read_ms = clock_mono_ms ();
    int rc = zmq_msg_recv (frame, self->socket, flags);
    if (rc >= 0)
        s_count (self, frame, 1);
    return rc;
}

void
guard_cut_fd (guard_t *self, int fd, const char *why)
{
    s_peer_t *peer = s_peer_of (self, fd);
    if (peer)
        s_cut (self, peer, why);
}

int
guard_admit_subscriptions (guard_t *self, int max)
{
    int n = 0;
    for (; n < max; n++) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (guard_recv (self, &frame, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&frame);
            break;
        }
        const uint8_t *data = zmq_msg_data (&frame);
        size_t size = zmq_msg_size (&frame);
        //  No peer: libzmq cancelling a gone peer's subscriptions itself
        s_peer_t *peer = s_source (self, &frame);
        if (size >= 1 && data [0] == 1 && !(peer && peer->cut)) {
            if (size - 1 > NET_MAX_TOPIC) {
                log_warn ("NET003", "%s: subscription of %zu bytes from %s refused "
                          "(no topic is longer than %d)", self->limits.name, size - 1,
                          peer ? peer->address : "?", NET_MAX_TOPIC);
            }
            else
            if (peer && peer->subscriptions >= GUARD_MAX_SUBSCRIPTIONS) {
                char why [96];
                snprintf (why, sizeof why, "more than %d subscriptions", GUARD_MAX_SUBSCRIPTIONS);
                s_cut (self, peer, why);
            }
            else {
                //  XPUB_MANUAL: applies to the peer of the message just read
                zmq_setsockopt (self->socket, ZMQ_SUBSCRIBE, data + 1, size - 1);
                if (peer)
                    peer->subscriptions++;
            }
        }
        else
        if (size >= 1 && data [0] == 0) {
            zmq_setsockopt (self->socket, ZMQ_UNSUBSCRIBE, data + 1, size - 1);
            if (peer && peer->subscriptions)
                peer->subscriptions--;
        }
        zmq_msg_close (&frame);
    }
    return n;
}

//  ---------------------------------------------------------------------
//  Life

guard_t *
guard_new (void *ctx, void *socket, const guard_limits_t *limits)
{
    guard_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->limits = *limits;
    self->socket = socket;
    size_t size = sizeof self->type;
    zmq_getsockopt (socket, ZMQ_TYPE, &self->type, &size);
    int mechanism = 0;
    size = sizeof mechanism;
    self->curve = zmq_getsockopt (socket, ZMQ_MECHANISM, &mechanism, &size) == 0
               && mechanism == ZMQ_CURVE;
    //  A name never used before: a guard made again (a clone client's next
    //  snapshot socket) must not meet the last one's endpoint, still closing
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://guard-%016llx",
              (unsigned long long) clock_random_u64 ());
    if (zmq_socket_monitor (socket, endpoint, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_CONNECTED
                            | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED) == 0)
        self->monitoring = true;
    if (!self->monitoring || !(self->monitor = net_socket (ctx, ZMQ_PAIR, endpoint, false))) {
        log_error ("NET005", "%s: cannot watch the socket's connections: %s", limits->name,
                   zmq_strerror (errno));
        guard_destroy (&self);
        return NULL;
    }
    return self;
}

void
guard_destroy (guard_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    guard_t *self = *self_p;
    if (self->monitoring)
        zmq_socket_monitor (self->socket, NULL, 0);
    if (self->monitor)
        zmq_close (self->monitor);
    free (self->peers);
    free (self->by_fd);
    free (self);
    *self_p = NULL;
}

void *
guard_socket (const guard_t *self)
{
    return self->socket;
}

size_t
guard_peers (const guard_t *self)
{
    return self->n_peers;
}

uint64_t
guard_cut (const guard_t *self)
{
    return self->cut_count;
}
