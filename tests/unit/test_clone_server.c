/*  test_clone_server: the server side of the Clone pattern. It keeps the
    latest Update of each topic byte for byte; a snapshot request over a
    real ZeroMQ ROUTER/DEALER pair (inproc) is answered with a header made
    of the caller's head and upstream_ok (count filled in) and the (topic,
    Update) pairs under the asked prefix, in order of first publication, as
    the bytes that went out.                                                */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "clone_server.h"
#include "net.h"

#define S_ENDPOINT  "inproc://test-clone-server"
#define S_WAIT_MS   10000       /* generous: this is asking, not timing */

//  A real packed Update: a seat's summary, or a scope's
static uint8_t *
s_update (const char *topic, uint64_t sequence, size_t *size)
{
    Election__Update update = ELECTION__UPDATE__INIT;
    update.has_sequence = true;
    update.sequence = sequence;
    update.has_epoch = true;
    update.epoch = 0x1234;
    update.has_mode = true;
    update.mode = ELECTION__MODE__MODE_REHEARSAL;
    Election__SeatSummary seat = ELECTION__SEAT_SUMMARY__INIT;
    Election__NationalSummary national = ELECTION__NATIONAL_SUMMARY__INIT;
    if (strncmp (topic, "seat.", 5) == 0) {
        seat.ons_id = (char *) topic + 5;
        seat.has_revision = true;
        seat.revision = (uint32_t) sequence;
        update.body_case = ELECTION__UPDATE__BODY_SEAT;
        update.seat = &seat;
    }
    else {
        national.scope = (char *) topic;
        national.has_declared = true;
        national.declared = (uint32_t) sequence;
        update.body_case = ELECTION__UPDATE__BODY_NATIONAL;
        update.national = &national;
    }
    *size = election__update__get_packed_size (&update);
    uint8_t *bytes = malloc (*size);
    assert_non_null (bytes);
    election__update__pack (&update, bytes);
    return bytes;
}

static void
s_put (clone_server_t *store, const char *topic, uint64_t sequence)
{
    size_t size;
    uint8_t *bytes = s_update (topic, sequence, &size);
    assert_int_equal (clone_server_put (store, topic, bytes, size), 0);
    free (bytes);
}

static void
test_put_get_replace_clear (void **state)
{
    clone_server_t *store = clone_server_new (4);
    assert_non_null (store);
    assert_int_equal (clone_server_count (store), 0);
    size_t size = 777;
    assert_null (clone_server_get (store, "national", &size));
    assert_int_equal (size, 777);

    //  The store keeps a copy: the caller's buffer may change or go
    size_t a_size;
    uint8_t *a = s_update ("seat.E14000800", 1, &a_size);
    assert_int_equal (clone_server_put (store, "seat.E14000800", a, a_size), 0);
    uint8_t *a_copy = malloc (a_size);
    memcpy (a_copy, a, a_size);
    memset (a, 0, a_size);
    const uint8_t *held = clone_server_get (store, "seat.E14000800", &size);
    assert_non_null (held);
    assert_int_equal (size, a_size);
    assert_memory_equal (held, a_copy, a_size);
    free (a);

    s_put (store, "national", 1);
    assert_int_equal (clone_server_count (store), 2);

    //  A new Update of a topic replaces the old one, and adds nothing
    size_t b_size;
    uint8_t *b = s_update ("seat.E14000800", 300, &b_size);
    assert_int_not_equal (b_size, a_size);
    assert_int_equal (clone_server_put (store, "seat.E14000800", b, b_size), 0);
    assert_int_equal (clone_server_count (store), 2);
    held = clone_server_get (store, "seat.E14000800", &size);
    assert_int_equal (size, b_size);
    assert_memory_equal (held, b, b_size);
    assert_non_null (clone_server_get (store, "national", NULL));

    //  A smaller one is written over the last in place, and reads back
    //  as itself, at its own size; then the larger again
    assert_true (a_size < b_size);
    assert_int_equal (clone_server_put (store, "seat.E14000800", a_copy, a_size), 0);
    held = clone_server_get (store, "seat.E14000800", &size);
    assert_int_equal (size, a_size);
    assert_memory_equal (held, a_copy, a_size);
    assert_int_equal (clone_server_put (store, "seat.E14000800", b, b_size), 0);
    assert_ptr_equal (clone_server_get (store, "seat.E14000800", &size), held);
    assert_int_equal (size, b_size);
    assert_memory_equal (held, b, b_size);

    //  An empty Update is still an Update
    assert_int_equal (clone_server_put (store, "health", "", 0), 0);
    assert_non_null (clone_server_get (store, "health", &size));
    assert_int_equal (size, 0);

    //  Cleared, it holds nothing, and fills again
    assert_int_equal (clone_server_clear (store), 0);
    assert_int_equal (clone_server_count (store), 0);
    assert_null (clone_server_get (store, "seat.E14000800", NULL));
    assert_null (clone_server_get (store, "national", NULL));
    assert_int_equal (clone_server_put (store, "national", b, b_size), 0);
    assert_int_equal (clone_server_count (store), 1);
    assert_memory_equal (clone_server_get (store, "national", NULL), b, b_size);

    //  Well past the size it was made for
    char topic [32];
    for (int i = 0; i < 1000; i++) {
        snprintf (topic, sizeof topic, "seat.E%08d", i);
        s_put (store, topic, (uint64_t) i + 1);
    }
    assert_int_equal (clone_server_count (store), 1001);
    for (int i = 0; i < 1000; i++) {
        snprintf (topic, sizeof topic, "seat.E%08d", i);
        size_t expect_size;
        uint8_t *expect = s_update (topic, (uint64_t) i + 1, &expect_size);
        held = clone_server_get (store, topic, &size);
        assert_non_null (held);
        assert_int_equal (size, expect_size);
        assert_memory_equal (held, expect, size);
        free (expect);
    }
    free (a_copy);
    free (b);
    clone_server_destroy (&store);
    assert_null (store);
}

typedef struct {
    void *ctx;
    void *router;
    void *dealer;
    clone_server_t *store;
    update_head_t head;         /* what the snapshot header is made of */
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    if (!fx)
        return -1;
    fx->ctx = zmq_ctx_new ();
    fx->router = net_socket (fx->ctx, ZMQ_ROUTER, S_ENDPOINT, true);
    fx->dealer = net_socket (fx->ctx, ZMQ_DEALER, S_ENDPOINT, false);
    fx->store = clone_server_new (16);
    if (!fx->router || !fx->dealer || !fx->store)
        return -1;
    fx->head = (update_head_t) { .sequence = 650, .epoch = 0xFEDCBA9876543210ULL,
                                 .mode = ELECTION__MODE__MODE_LIVE };
    //  Published in this order; seat.E14000800 again later (a correction)
    s_put (fx->store, "seat.E14000800", 1);
    s_put (fx->store, "region.East", 1);
    s_put (fx->store, "seat.S14000001", 2);
    s_put (fx->store, "national", 2);
    s_put (fx->store, "seat.E14000800", 3);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    zmq_close (fx->dealer);
    zmq_close (fx->router);
    zmq_ctx_term (fx->ctx);
    clone_server_destroy (&fx->store);
    free (fx);
    return 0;
}

//  Sends a snapshot request; prefix NULL leaves the field out
static void
s_request (void *dealer, const char *prefix)
{
    Election__SnapshotRequest request = ELECTION__SNAPSHOT_REQUEST__INIT;
    request.topic_prefix = (char *) prefix;
    assert_int_equal (net_send_pb (dealer, &request.base, 0), 0);
}

//  Waits (by asking) for a request to reach the server, then serves at most max
static int
s_serve (fixture_t *fx, int max)
{
    zmq_pollitem_t item = { fx->router, 0, ZMQ_POLLIN, 0 };
    assert_int_equal (zmq_poll (&item, 1, S_WAIT_MS), 1);
    return clone_server_serve_snapshots (fx->store, fx->router, &fx->head, true, max);
}

static bool
s_more (void *socket)
{
    int more = 0;
    size_t size = sizeof more;
    assert_int_equal (zmq_getsockopt (socket, ZMQ_RCVMORE, &more, &size), 0);
    return more != 0;
}

//  Reads one snapshot reply and checks it is the header, then exactly the
//  given topics in that order, each with the store's bytes
static void
s_expect_snapshot (fixture_t *fx, const char *const *topics, size_t n)
{
    zmq_pollitem_t item = { fx->dealer, 0, ZMQ_POLLIN, 0 };
    assert_int_equal (zmq_poll (&item, 1, S_WAIT_MS), 1);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    assert_true (zmq_msg_recv (&frame, fx->dealer, 0) >= 0);
    Election__Snapshot *header = election__snapshot__unpack (NULL, zmq_msg_size (&frame),
                                                             zmq_msg_data (&frame));
    assert_non_null (header);
    assert_int_equal (header->sequence, 650);
    assert_true (header->epoch == 0xFEDCBA9876543210ULL);
    assert_int_equal (header->mode, ELECTION__MODE__MODE_LIVE);
    assert_true (header->has_upstream_ok && header->upstream_ok);
    assert_true (header->has_count);
    assert_int_equal (header->count, n);
    election__snapshot__free_unpacked (header, NULL);
    assert_int_equal (s_more (fx->dealer), n > 0);
    for (size_t i = 0; i < n; i++) {
        assert_true (zmq_msg_recv (&frame, fx->dealer, 0) >= 0);
        assert_true (s_more (fx->dealer));
        assert_int_equal (zmq_msg_size (&frame), strlen (topics [i]));
        assert_memory_equal (zmq_msg_data (&frame), topics [i], strlen (topics [i]));
        assert_true (zmq_msg_recv (&frame, fx->dealer, 0) >= 0);
        assert_int_equal (s_more (fx->dealer), i + 1 < n);
        size_t size;
        const void *bytes = clone_server_get (fx->store, topics [i], &size);
        assert_non_null (bytes);
        assert_int_equal (zmq_msg_size (&frame), size);
        assert_memory_equal (zmq_msg_data (&frame), bytes, size);
    }
    zmq_msg_close (&frame);
}

//  Nothing more for the dealer: deterministic, as only this thread serves
static void
s_expect_nothing (fixture_t *fx)
{
    zmq_pollitem_t item = { fx->dealer, 0, ZMQ_POLLIN, 0 };
    assert_int_equal (zmq_poll (&item, 1, 0), 0);
}

static void
test_snapshot_of_everything (void **state)
{
    fixture_t *fx = *state;
    //  No request waiting: answers none, and does not block
    assert_int_equal (clone_server_serve_snapshots (fx->store, fx->router, &fx->head, true, 10), 0);

    const char *all [] = { "seat.E14000800", "region.East", "seat.S14000001", "national" };
    s_request (fx->dealer, NULL);
    assert_int_equal (s_serve (fx, 10), 1);
    s_expect_snapshot (fx, all, 4);
    s_request (fx->dealer, "");
    assert_int_equal (s_serve (fx, 10), 1);
    s_expect_snapshot (fx, all, 4);
    s_expect_nothing (fx);

    //  The corrected seat went out as its latest bytes, in its first place
    size_t size, first_size;
    uint8_t *first = s_update ("seat.E14000800", 1, &first_size);
    const void *held = clone_server_get (fx->store, "seat.E14000800", &size);
    assert_true (size != first_size || memcmp (held, first, size) != 0);
    free (first);
    Election__Update *latest = election__update__unpack (NULL, size, held);
    assert_non_null (latest);
    assert_int_equal (latest->sequence, 3);
    election__update__free_unpacked (latest, NULL);
}

static void
test_snapshot_by_topic_prefix (void **state)
{
    fixture_t *fx = *state;
    const char *seats [] = { "seat.E14000800", "seat.S14000001" };
    const char *national [] = { "national" };
    const char *scotland [] = { "seat.S14000001" };
    s_request (fx->dealer, "seat.");
    assert_int_equal (s_serve (fx, 10), 1);
    s_expect_snapshot (fx, seats, 2);
    s_request (fx->dealer, "national");
    assert_int_equal (s_serve (fx, 10), 1);
    s_expect_snapshot (fx, national, 1);
    s_request (fx->dealer, "seat.S");
    assert_int_equal (s_serve (fx, 10), 1);
    s_expect_snapshot (fx, scotland, 1);
    //  A prefix nothing has: the header alone, count 0
    s_request (fx->dealer, "seat.N");
    assert_int_equal (s_serve (fx, 10), 1);
    s_expect_snapshot (fx, NULL, 0);
    //  A topic is a prefix of itself only, not of a longer prefix
    s_request (fx->dealer, "national.UK");
    assert_int_equal (s_serve (fx, 10), 1);
    s_expect_snapshot (fx, NULL, 0);
    s_expect_nothing (fx);
}

static void
test_at_most_max_and_bad_requests_dropped (void **state)
{
    fixture_t *fx = *state;
    const char *national [] = { "national" };
    const char *seats [] = { "seat.E14000800", "seat.S14000001" };

    //  Two waiting, one answered per call when max is 1
    s_request (fx->dealer, "national");
    s_request (fx->dealer, "seat.");
    assert_int_equal (s_serve (fx, 1), 1);
    s_expect_snapshot (fx, national, 1);
    s_expect_nothing (fx);
    assert_int_equal (s_serve (fx, 1), 1);
    s_expect_snapshot (fx, seats, 2);

    //  A request of two frames is no request: dropped, unanswered, and the
    //  next one is served as usual
    assert_int_equal (zmq_send (fx->dealer, "national", 8, ZMQ_SNDMORE), 8);
    assert_int_equal (zmq_send (fx->dealer, "seat.", 5, 0), 5);
    assert_int_equal (s_serve (fx, 1), 1);
    s_expect_nothing (fx);
    s_request (fx->dealer, "national");
    assert_int_equal (s_serve (fx, 10), 1);
    s_expect_snapshot (fx, national, 1);
    s_expect_nothing (fx);
}

//  clone_server_publish: what goes out on the PUB socket and what is kept
//  are the same bytes, each Update chained to its topic's previous one
//  (topic_previous: 0 for a topic's first), the body untouched
static void
test_publish_chains_each_topic (void **state)
{
    void *ctx = zmq_ctx_new ();
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    assert_int_equal (zmq_bind (pub, "inproc://test-clone-publish"), 0);
    assert_int_equal (zmq_connect (sub, "inproc://test-clone-publish"), 0);
    assert_int_equal (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0), 0);
    clone_server_t *store = clone_server_new (16);
    const char *topics [] = { "seat.E14000800", "region.East", "national", "seat.S14000051",
                              "region.Scotland", "national", "region.East", "national" };
    uint64_t sequences [] = { 1, 1, 1, 2, 2, 2, 3, 3 };
    uint64_t expected [] = { 0, 0, 0, 0, 0, 1, 1, 2 };
    //  inproc delivers once connected; a subscription is in place when a probe arrives
    zmq_pollitem_t item = { sub, 0, ZMQ_POLLIN, 0 };
    do
        zmq_send (pub, "probe", 5, 0);
    while (zmq_poll (&item, 1, 10) == 0);
    char probe [8];
    while (zmq_recv (sub, probe, sizeof probe, ZMQ_DONTWAIT) >= 0)
        ;
    for (size_t i = 0; i < sizeof topics / sizeof topics [0]; i++) {
        size_t size;
        uint8_t *bytes = s_update (topics [i], sequences [i], &size);
        assert_int_equal (clone_server_publish (store, pub, topics [i], bytes, size), 0);
        zmq_msg_t frames [3];
        size_t count;
        assert_int_equal (net_recv_frames (sub, frames, 3, &count, 0), 0);
        assert_int_equal (count, 2);
        assert_int_equal (zmq_msg_size (&frames [0]), strlen (topics [i]));
        size_t kept_size;
        const void *kept = clone_server_get (store, topics [i], &kept_size);
        assert_int_equal (zmq_msg_size (&frames [1]), kept_size);
        assert_memory_equal (zmq_msg_data (&frames [1]), kept, kept_size);
        assert_memory_equal (kept, bytes, size);        //  the original, then the chain
        Election__Update *update = election__update__unpack (NULL, kept_size, kept);
        assert_non_null (update);
        assert_true (update->has_topic_previous);
        assert_int_equal (update->topic_previous, expected [i]);
        assert_int_equal (update->sequence, sequences [i]);
        election__update__free_unpacked (update, NULL);
        net_frames_close (frames, count);
        free (bytes);
    }
    clone_server_destroy (&store);
    zmq_close (sub);
    zmq_close (pub);
    zmq_ctx_term (ctx);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_put_get_replace_clear),
        cmocka_unit_test (test_publish_chains_each_topic),
        cmocka_unit_test_setup_teardown (test_snapshot_of_everything, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_snapshot_by_topic_prefix, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_at_most_max_and_bad_requests_dropped, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
