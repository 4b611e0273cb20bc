/*  test_update_head: the header-only reading of a packed Update agrees with
    protobuf-c's full unpacking, and refuses what is not protobuf; a stamped
    head reads back as it was written.                                      */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "update_head.h"

static uint8_t *
s_pack (Election__Update *update, size_t *size)
{
    *size = election__update__get_packed_size (update);
    uint8_t *bytes = malloc (*size);
    election__update__pack (update, bytes);
    return bytes;
}

static void
test_peek_matches_unpack (void **state)
{
    Election__CandidateResult candidate = ELECTION__CANDIDATE_RESULT__INIT;
    candidate.name = "Kelvin Hopkins";
    candidate.party = "Lab";
    candidate.has_share = true;
    candidate.share = 63.84;
    Election__CandidateResult *candidates [] = { &candidate };
    Election__SeatSummary seat = ELECTION__SEAT_SUMMARY__INIT;
    seat.ons_id = "E14000800";
    seat.n_candidates = 1;
    seat.candidates = candidates;
    Election__Update update = ELECTION__UPDATE__INIT;
    update.has_sequence = true;
    update.sequence = 300000000000ULL;      //  a multi-byte varint
    update.has_epoch = true;
    update.epoch = 0xFEDCBA9876543210ULL;   //  the full 64 bits
    update.has_mode = true;
    update.mode = ELECTION__MODE__MODE_LIVE;
    update.has_sent_at_us = true;
    update.sent_at_us = 1496973120000000;   //  a field after the body
    update.body_case = ELECTION__UPDATE__BODY_SEAT;
    update.seat = &seat;

    size_t size;
    uint8_t *bytes = s_pack (&update, &size);
    update_head_t head;
    assert_true (update_head_peek (bytes, size, &head));
    Election__Update *unpacked = election__update__unpack (NULL, size, bytes);
    assert_non_null (unpacked);
    assert_int_equal (head.sequence, unpacked->sequence);
    assert_int_equal (head.epoch, unpacked->epoch);
    assert_int_equal (head.mode, unpacked->mode);
    assert_int_equal (head.sent_at_us, unpacked->sent_at_us);
    assert_int_equal (head.body, unpacked->body_case);
    assert_int_equal (head.body, ELECTION__UPDATE__BODY_SEAT);
    election__update__free_unpacked (unpacked, NULL);

    //  Every truncation is refused or, cut at a field boundary, read short
    for (size_t cut = 0; cut < size; cut++) {
        Election__Update *partial = election__update__unpack (NULL, cut, bytes);
        assert_int_equal (update_head_peek (bytes, cut, &head), partial != NULL);
        if (partial)
            election__update__free_unpacked (partial, NULL);
    }
    free (bytes);
}

static void
test_peek_heartbeat_and_garbage (void **state)
{
    Election__Heartbeat heartbeat = ELECTION__HEARTBEAT__INIT;
    heartbeat.has_upstream_ok = true;
    heartbeat.upstream_ok = true;
    Election__Update update = ELECTION__UPDATE__INIT;
    update.has_sequence = true;
    update.sequence = 650;
    update.body_case = ELECTION__UPDATE__BODY_HEARTBEAT;
    update.heartbeat = &heartbeat;
    size_t size;
    uint8_t *bytes = s_pack (&update, &size);
    update_head_t head;
    assert_true (update_head_peek (bytes, size, &head));
    assert_int_equal (head.sequence, 650);
    assert_int_equal (head.epoch, 0);
    assert_int_equal (head.body, ELECTION__UPDATE__BODY_HEARTBEAT);
    free (bytes);

    const uint8_t varint_runs_off [] = { 0x08, 0xFF, 0xFF };
    const uint8_t length_too_long [] = { 0x22, 0x10, 0x01 };
    const uint8_t group_wire_type [] = { 0x0B };
    assert_false (update_head_peek (varint_runs_off, sizeof varint_runs_off, &head));
    assert_false (update_head_peek (length_too_long, sizeof length_too_long, &head));
    assert_false (update_head_peek (group_wire_type, sizeof group_wire_type, &head));
    assert_true (update_head_peek (varint_runs_off, 0, &head));   //  empty: all defaults
    assert_int_equal (head.body, ELECTION__UPDATE__BODY__NOT_SET);
}

static void
test_stamp_reads_back (void **state)
{
    update_head_t written = { .sequence = 42, .epoch = 0x0123456789ABCDEFULL,
                              .mode = ELECTION__MODE__MODE_TEST, .sent_at_us = 1496973120123456 };
    Election__Heartbeat heartbeat = ELECTION__HEARTBEAT__INIT;
    Election__Update update = ELECTION__UPDATE__INIT;
    update_head_stamp (&update, &written);
    update.body_case = ELECTION__UPDATE__BODY_HEARTBEAT;
    update.heartbeat = &heartbeat;
    size_t size;
    uint8_t *bytes = s_pack (&update, &size);
    update_head_t head;
    assert_true (update_head_peek (bytes, size, &head));
    assert_int_equal (head.sequence, written.sequence);
    assert_int_equal (head.epoch, written.epoch);
    assert_int_equal (head.mode, written.mode);
    assert_int_equal (head.sent_at_us, written.sent_at_us);
    assert_int_equal (head.body, ELECTION__UPDATE__BODY_HEARTBEAT);
    free (bytes);
}

//  update_head_chain appended to packed bytes sets topic_previous, as
//  protobuf-c reads it and as the peek does; a second one wins
static void
test_chain_sets_topic_previous (void **state)
{
    Election__NationalSummary national = ELECTION__NATIONAL_SUMMARY__INIT;
    national.scope = "Scotland";
    Election__Update update = ELECTION__UPDATE__INIT;
    update.has_sequence = true;
    update.sequence = 400;
    update.body_case = ELECTION__UPDATE__BODY_NATIONAL;
    update.national = &national;
    size_t size;
    uint8_t *bytes = s_pack (&update, &size);
    update_head_t head;
    assert_true (update_head_peek (bytes, size, &head));
    assert_false (head.has_topic_previous);
    uint64_t values [] = { 0, 1, 127, 128, 300000000000ULL, UINT64_MAX };
    for (size_t i = 0; i < sizeof values / sizeof values [0]; i++) {
        uint8_t *chained = malloc (size + 2 * UPDATE_HEAD_CHAIN_MAX);
        memcpy (chained, bytes, size);
        size_t length = size + update_head_chain (chained + size, 999);
        length += update_head_chain (chained + length, values [i]);     //  the later wins
        assert_true (update_head_peek (chained, length, &head));
        assert_true (head.has_topic_previous);
        assert_true (head.topic_previous == values [i]);
        assert_int_equal (head.sequence, 400);
        assert_int_equal (head.body, ELECTION__UPDATE__BODY_NATIONAL);
        Election__Update *unpacked = election__update__unpack (NULL, length, chained);
        assert_non_null (unpacked);
        assert_true (unpacked->has_topic_previous);
        assert_true (unpacked->topic_previous == values [i]);
        assert_string_equal (unpacked->national->scope, "Scotland");
        election__update__free_unpacked (unpacked, NULL);
        free (chained);
    }
    free (bytes);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_peek_matches_unpack),
        cmocka_unit_test (test_peek_heartbeat_and_garbage),
        cmocka_unit_test (test_stamp_reads_back),
        cmocka_unit_test (test_chain_sets_topic_previous),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
