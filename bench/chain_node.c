/*  bench-chain: the two processes of the raw durable chain that bench
    measures our pipeline against (issue 17; frames in chain.h).

      store   plays the aggregator with none of its work: a ROUTER reads a
              batch of up to CHAIN_BATCH declarations as they come, appends
              them to a file, makes the batch durable with one fdatasync,
              then publishes each declaration's updates and acks it: the
              aggregator's group commit, in the aggregator's order.
      relay   plays the publisher: a SUB on the store and a PUB for bench,
              every message forwarded as it came, frame by frame.

    Both run until SIGINT or SIGTERM. bench starts them (never by hand in a
    real night): they trust their one sender and keep nothing but the file. */
#include "chain.h"
#include "cli.h"
#include "net.h"
#include "signals.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

typedef struct {
    const char *role;
    const char *ingest, *updates, *upstream, *journal;
    size_t ack_bytes, topic_bytes, update_bytes;
} s_options_t;

//  One declaration of the batch under way: who to ack, what to publish
typedef struct {
    zmq_msg_t identity;
    uint64_t index;
    unsigned updates;
} s_pending_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
        "Usage: bench-chain store --ingest EP --updates EP --journal PATH [SIZES]\n"
        "       bench-chain relay --upstream EP --updates EP\n"
        "The raw durable chain that bench measures the pipeline against (bench\n"
        "starts both; BENCHMARKS.md). store: ROUTER on --ingest; each batch of up to\n"
        "%d declarations appended to --journal with one fdatasync, then each one's\n"
        "updates published on --updates (PUB) and its ack sent. relay: SUB on\n"
        "--upstream, every message forwarded on --updates (PUB).\n\n"
        "  --ingest EP          store: the ROUTER's endpoint (bound)\n"
        "  --updates EP         the PUB's endpoint (bound)\n"
        "  --upstream EP        relay: the store's PUB (connected)\n"
        "  --journal PATH       store: the file (truncated first; on a real disk)\n"
        "  --ack-bytes N        store: size of an ack (default %d)\n"
        "  --topic-bytes N      store: size of an update's topic frame (default 16)\n"
        "  --update-bytes N     store: size of an update's body (default 128)\n"
        "  --help               this text\n",
        CHAIN_BATCH, CHAIN_ACK_MIN);
}

static int
s_size (const char *text, const char *option, long long min, size_t *value)
{
    long long parsed;
    if (cli_integer ("bench-chain", option, text, min, CHAIN_MAX_FRAME, &parsed))
        return -1;
    *value = (size_t) parsed;
    return 0;
}

static int
s_parse (int argc, char *argv [], s_options_t *options)
{
    static const struct option table [] = {
        { "ingest", required_argument, NULL, 'i' },
        { "updates", required_argument, NULL, 'u' },
        { "upstream", required_argument, NULL, 'U' },
        { "journal", required_argument, NULL, 'j' },
        { "ack-bytes", required_argument, NULL, 'a' },
        { "topic-bytes", required_argument, NULL, 't' },
        { "update-bytes", required_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int opt, rc = 0;
    while (rc == 0 && (opt = getopt_long (argc, argv, "h", table, NULL)) != -1) {
        switch (opt) {
            case 'i': options->ingest = optarg; break;
            case 'u': options->updates = optarg; break;
            case 'U': options->upstream = optarg; break;
            case 'j': options->journal = optarg; break;
            case 'a': rc = s_size (optarg, "--ack-bytes", CHAIN_ACK_MIN, &options->ack_bytes); break;
            case 't': rc = s_size (optarg, "--topic-bytes", 1, &options->topic_bytes); break;
            case 'b': rc = s_size (optarg, "--update-bytes", CHAIN_UPDATE_MIN, &options->update_bytes); break;
            case 'h': s_usage (stdout); exit (0);
            default:  rc = -1;
        }
    }
    if (rc)
        return -1;
    if (optind + 1 != argc) {
        fprintf (stderr, "bench-chain: say store or relay (--help)\n");
        return -1;
    }
    options->role = argv [optind];
    bool store = strcmp (options->role, "store") == 0;
    if (!store && strcmp (options->role, "relay") != 0) {
        fprintf (stderr, "bench-chain: no role \"%s\": store or relay\n", options->role);
        return -1;
    }
    if (!options->updates || (store ? !options->ingest || !options->journal : !options->upstream)) {
        fprintf (stderr, "bench-chain: %s needs --updates and %s\n", options->role,
                 store ? "--ingest and --journal" : "--upstream");
        return -1;
    }
    return 0;
}

//  Writes all of buffer at offset and makes it durable: false on failure
static bool
s_commit (int fd, const uint8_t *buffer, size_t size, off_t offset)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite (fd, buffer + done, size - done, offset + (off_t) done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += (size_t) n;
    }
    return fdatasync (fd) == 0;
}

//  Reads one batch from the ROUTER, commits it, publishes and acks it.
//  Returns -1 when the file cannot be written (bench sees us exit).
static int
s_store_batch (const s_options_t *options, void *ingest, void *updates, int fd, off_t *offset,
               s_pending_t *pending, uint8_t *buffer, uint8_t *frame)
{
    size_t n = 0, used = 0;
    while (n < CHAIN_BATCH) {
        s_pending_t *entry = &pending [n];
        zmq_msg_t body;
        zmq_msg_init (&entry->identity);
        zmq_msg_init (&body);
        if (zmq_msg_recv (&entry->identity, ingest, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&entry->identity);
            zmq_msg_close (&body);
            break;
        }
        bool whole = zmq_msg_more (&entry->identity) && zmq_msg_recv (&body, ingest, 0) >= 0;
        size_t size = whole ? zmq_msg_size (&body) : 0;
        const uint8_t *data = zmq_msg_data (&body);
        //  One frame of a sensible size, or dropped unanswered: bench, the
        //  only sender, then stalls and says so
        bool sound = whole && !zmq_msg_more (&body) && size >= CHAIN_DECL_MIN
                  && size <= CHAIN_MAX_FRAME && data [8] >= 1;
        while (whole && zmq_msg_more (&body))
            if (zmq_msg_recv (&body, ingest, 0) < 0)
                break;
        if (!sound) {
            fprintf (stderr, "bench-chain: a malformed declaration dropped\n");
            zmq_msg_close (&entry->identity);
            zmq_msg_close (&body);
            continue;
        }
        //  Appended as the journal does, but raw: a length, then the bytes
        uint8_t *at = buffer + used;
        at [0] = (uint8_t) size; at [1] = (uint8_t) (size >> 8);
        at [2] = (uint8_t) (size >> 16); at [3] = (uint8_t) (size >> 24);
        memcpy (at + 4, data, size);
        used += 4 + size;
        entry->index = chain_get_u64 (data);
        entry->updates = data [8];
        zmq_msg_close (&body);
        n++;
    }
    if (n == 0)
        return 0;
    if (!s_commit (fd, buffer, used, *offset)) {
        fprintf (stderr, "bench-chain: cannot write %s: %s\n", options->journal, strerror (errno));
        return -1;
    }
    *offset += (off_t) used;
    //  Durable: publish, then ack, as the aggregator does after its commit.
    //  The padding of every frame is whatever the buffer holds.
    for (size_t i = 0; i < n; i++)
        for (unsigned position = 0; position < pending [i].updates; position++) {
            chain_put_u64 (frame, pending [i].index);
            frame [8] = (uint8_t) position;
            frame [9] = (uint8_t) pending [i].updates;
            zmq_send (updates, buffer, options->topic_bytes, ZMQ_SNDMORE);
            zmq_send (updates, frame, options->update_bytes, 0);
        }
    for (size_t i = 0; i < n; i++) {
        chain_put_u64 (frame, pending [i].index);
        if (zmq_msg_send (&pending [i].identity, ingest, ZMQ_SNDMORE) >= 0)
            zmq_send (ingest, frame, options->ack_bytes, 0);
        zmq_msg_close (&pending [i].identity);
    }
    return 0;
}

static int
s_store (const s_options_t *options, void *ctx)
{
    void *ingest = net_socket (ctx, ZMQ_ROUTER, NULL, true);
    void *updates = net_socket (ctx, ZMQ_PUB, NULL, true);
    int fd = open (options->journal, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    s_pending_t *pending = malloc (CHAIN_BATCH * sizeof *pending);
    uint8_t *buffer = malloc (CHAIN_BATCH * (4 + CHAIN_MAX_FRAME));
    uint8_t *frame = calloc (1, CHAIN_MAX_FRAME);
    int rc = 1, hwm = CHAIN_HWM;
    if (fd < 0)
        fprintf (stderr, "bench-chain: %s: %s\n", options->journal, strerror (errno));
    if (!ingest || !updates || fd < 0 || !pending || !buffer || !frame)
        goto cleanup;
    zmq_setsockopt (ingest, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (updates, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (net_attach (ingest, options->ingest, true) || net_attach (updates, options->updates, true))
        goto cleanup;
    off_t offset = 0;
    while (!signals_interrupted ()) {
        zmq_pollitem_t item = { ingest, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            goto cleanup;
        }
        if (s_store_batch (options, ingest, updates, fd, &offset, pending, buffer, frame))
            goto cleanup;
    }
    rc = 0;
cleanup:
    if (fd >= 0)
        close (fd);
    free (pending);
    free (buffer);
    free (frame);
    if (ingest)
        zmq_close (ingest);
    if (updates)
        zmq_close (updates);
    return rc;
}

static int
s_relay (const s_options_t *options, void *ctx)
{
    void *sub = net_socket (ctx, ZMQ_SUB, NULL, false);
    void *pub = net_socket (ctx, ZMQ_PUB, NULL, true);
    int rc = 1;
    if (!sub || !pub)
        goto cleanup;
    //  As the publisher's subscription (clone_client) and its PUB
    int rcvhwm = 1000000, sndhwm = CHAIN_HWM;
    zmq_setsockopt (sub, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0);
    zmq_setsockopt (pub, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
    if (net_attach (pub, options->updates, true) || net_attach (sub, options->upstream, false))
        goto cleanup;
    while (!signals_interrupted ()) {
        zmq_pollitem_t item = { sub, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            goto cleanup;
        }
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        while (zmq_msg_recv (&frame, sub, ZMQ_DONTWAIT) >= 0) {
            //  The rest of a message is already here: wait for it
            while (zmq_msg_more (&frame)) {
                if (zmq_msg_send (&frame, pub, ZMQ_SNDMORE) < 0 || zmq_msg_recv (&frame, sub, 0) < 0)
                    break;
            }
            zmq_msg_send (&frame, pub, 0);
        }
        zmq_msg_close (&frame);
    }
    rc = 0;
cleanup:
    if (sub)
        zmq_close (sub);
    if (pub)
        zmq_close (pub);
    return rc;
}

int
main (int argc, char *argv [])
{
    s_options_t options = { .ack_bytes = CHAIN_ACK_MIN, .topic_bytes = 16, .update_bytes = 128 };
    if (s_parse (argc, argv, &options))
        return 2;
    signals_catch ();
    void *ctx = zmq_ctx_new ();
    if (!ctx)
        return 1;
    int rc = strcmp (options.role, "store") == 0 ? s_store (&options, ctx) : s_relay (&options, ctx);
    zmq_ctx_term (ctx);
    return rc;
}
