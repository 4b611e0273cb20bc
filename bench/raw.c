/*  raw.c: see bench.h. Raw libzmq with the same message size, as the
    yardstick for every figure.  */
#include "bench.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

typedef struct {
    void *ctx;
    char endpoint [64];
    size_t messages;
    size_t size;
    int ready [2];              /* a pipe: the receiver has bound */
} s_raw_t;

static void *
s_pull_thread (void *arg)
{
    s_raw_t *raw = arg;
    void *pull = zmq_socket (raw->ctx, ZMQ_PULL);
    char *buffer = malloc (raw->size + 1);
    size_t len = sizeof raw->endpoint;
    bool ok = pull && buffer && zmq_bind (pull, "tcp://127.0.0.1:*") == 0
           && zmq_getsockopt (pull, ZMQ_LAST_ENDPOINT, raw->endpoint, &len) == 0;
    char byte = ok ? 1 : 0;
    if (write (raw->ready [1], &byte, 1) != 1)
        ok = false;
    for (size_t i = 0; ok && i < raw->messages; i++)
        if (zmq_recv (pull, buffer, raw->size + 1, 0) < 0)
            break;
    free (buffer);
    if (pull)
        zmq_close (pull);
    return NULL;
}

static void *
s_echo_thread (void *arg)
{
    s_raw_t *raw = arg;
    void *router = zmq_socket (raw->ctx, ZMQ_ROUTER);
    size_t len = sizeof raw->endpoint;
    bool ok = router && zmq_bind (router, "tcp://127.0.0.1:*") == 0
           && zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, raw->endpoint, &len) == 0;
    char byte = ok ? 1 : 0;
    if (write (raw->ready [1], &byte, 1) != 1)
        ok = false;
    for (size_t i = 0; ok && i < raw->messages; i++) {
        zmq_msg_t identity, body;
        zmq_msg_init (&identity);
        zmq_msg_init (&body);
        if (zmq_msg_recv (&identity, router, 0) < 0 || zmq_msg_recv (&body, router, 0) < 0
        ||  zmq_msg_send (&identity, router, ZMQ_SNDMORE) < 0 || zmq_msg_send (&body, router, 0) < 0)
            ok = false;
        zmq_msg_close (&identity);
        zmq_msg_close (&body);
    }
    if (router)
        zmq_close (router);
    return NULL;
}

//  Starts the receiving thread (own context, as if another process) and
//  connects `type` to it. Returns the socket, or NULL.
static void *
s_raw_start (bench_t *self, s_raw_t *raw, pthread_t *thread, void *(*body) (void *), int type)
{
    raw->ctx = zmq_ctx_new ();
    if (!raw->ctx || pipe (raw->ready))
        return NULL;
    if (pthread_create (thread, NULL, body, raw)) {
        close (raw->ready [0]);
        close (raw->ready [1]);
        return NULL;
    }
    char byte = 0;
    if (read (raw->ready [0], &byte, 1) != 1)
        byte = 0;
    close (raw->ready [0]);
    close (raw->ready [1]);
    void *socket = byte ? zmq_socket (self->ctx, type) : NULL;
    if (socket && zmq_connect (socket, raw->endpoint)) {
        zmq_close (socket);
        socket = NULL;
    }
    return socket;
}

//  PUSH/PULL: messages of message_bytes, first send to last receive
int
raw_pushpull (bench_t *self)
{
    s_raw_t raw = { .messages = self->options.raw_messages, .size = self->message_bytes };
    pthread_t thread;
    void *push = s_raw_start (self, &raw, &thread, s_pull_thread, ZMQ_PUSH);
    if (!push) {
        fprintf (stderr, "bench: raw PUSH/PULL setup failed\n");
        return -1;      //  the thread, if any, is left blocked: we exit anyway
    }
    char *buffer = calloc (1, raw.size);
    //  One message first so that the connection is up before the clock starts
    int64_t start = bench_now_ns ();
    for (size_t i = 0; buffer && i < raw.messages; i++) {
        if (i == 1)
            start = bench_now_ns ();
        if (zmq_send (push, buffer, raw.size, 0) < 0)
            break;
    }
    pthread_join (thread, NULL);
    double elapsed = (double) (bench_now_ns () - start) / 1e9;
    free (buffer);
    zmq_close (push);
    zmq_ctx_term (raw.ctx);
    report_record (self, "raw_pushpull_msg_per_s", "raw PUSH/PULL throughput", "msg/s",
                   (double) (raw.messages - 1) / elapsed);
    return 0;
}

//  DEALER/ROUTER echo: one message out, wait for it back, repeat
int
raw_rtt (bench_t *self)
{
    s_raw_t raw = { .messages = self->options.raw_round_trips + 100, .size = self->message_bytes };
    pthread_t thread;
    void *dealer = s_raw_start (self, &raw, &thread, s_echo_thread, ZMQ_DEALER);
    if (!dealer) {
        fprintf (stderr, "bench: raw DEALER/ROUTER setup failed\n");
        return -1;
    }
    char *buffer = calloc (1, raw.size + 1);
    int64_t *rtt = calloc (raw.messages, sizeof (int64_t));
    size_t n = 0;
    for (size_t i = 0; buffer && rtt && i < raw.messages; i++) {
        int64_t t0 = bench_now_ns ();
        if (zmq_send (dealer, buffer, raw.size, 0) < 0 || zmq_recv (dealer, buffer, raw.size + 1, 0) < 0)
            break;
        if (i >= 100)           //  the first hundred warm the path up
            rtt [n++] = bench_now_ns () - t0;
    }
    pthread_join (thread, NULL);
    zmq_close (dealer);
    zmq_ctx_term (raw.ctx);
    qsort (rtt, n, sizeof (int64_t), report_cmp_i64);
    report_record (self, "raw_rtt_p50_us", "raw DEALER/ROUTER RTT p50", "us", report_percentile (rtt, n, 0.50) / 1e3);
    report_record (self, "raw_rtt_p99_us", "raw DEALER/ROUTER RTT p99", "us", report_percentile (rtt, n, 0.99) / 1e3);
    report_record (self, "raw_rtt_p999_us", "raw DEALER/ROUTER RTT p99.9", "us", report_percentile (rtt, n, 0.999) / 1e3);
    free (buffer);
    free (rtt);
    return n ? 0 : -1;
}
