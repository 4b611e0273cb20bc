/*  test_pair: the pair's state machine (aggregator/pair.h) through the
    events of a night: both start and the one further on takes over; a
    standby follows; the active dies and a client's vote makes a synced
    standby take over, never one that was not a copy (unless forced); two
    actives meet and the earlier term steps down; terms never collide.     */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "pair.h"

#define S_TIMEOUT       1000
#define S_NONE          ELECTION__PAIR_STATE__PAIR_NONE
#define S_STARTING      ELECTION__PAIR_STATE__PAIR_STARTING
#define S_ACTIVE        ELECTION__PAIR_STATE__PAIR_ACTIVE
#define S_PASSIVE       ELECTION__PAIR_STATE__PAIR_PASSIVE

static pair_t *
s_node (bool primary, bool take_over, uint64_t term)
{
    pair_config_t config = { primary, S_TIMEOUT, take_over };
    pair_t *pair = pair_new (&config, term, 0);
    assert_non_null (pair);
    assert_int_equal (pair_state (pair), S_STARTING);
    return pair;
}

//  What a node says of itself on the peer link
static pair_peer_t
s_says (const pair_t *node, const pair_log_t *log, bool copy)
{
    pair_peer_t peer = { pair_state (node), pair_primary (node), pair_term (node),
                         log->last_sequence, log->last_term, copy };
    return peer;
}

static void
test_both_start_and_the_primary_takes_over (void **state)
{
    (void) state;
    char why [512];
    pair_t *primary = s_node (true, false, 0), *backup = s_node (false, false, 0);
    pair_log_t empty = { 0, 0 };

    //  The backup hears the primary first: neither active, a tie: it waits
    pair_peer_t said = s_says (primary, &empty, false);
    assert_int_equal (pair_on_peer (backup, &said, &empty, 100, why, sizeof why), S_NONE);
    assert_int_equal (pair_state (backup), S_STARTING);
    //  The primary hears the backup: it takes over, in an odd term
    said = s_says (backup, &empty, false);
    assert_int_equal (pair_on_peer (primary, &said, &empty, 120, why, sizeof why), S_ACTIVE);
    assert_non_null (strstr (why, "we are the primary"));
    assert_int_equal (pair_term (primary), 1);
    //  The backup hears it active: the standby, adopting its term
    said = s_says (primary, &empty, false);
    assert_int_equal (pair_on_peer (backup, &said, &empty, 200, why, sizeof why), S_PASSIVE);
    assert_non_null (strstr (why, "primary is active (term 1)"));
    assert_int_equal (pair_term (backup), 1);
    //  Hearing it again changes nothing; an active hearing its standby neither
    assert_int_equal (pair_on_peer (backup, &said, &empty, 300, why, sizeof why), S_NONE);
    said = s_says (backup, &empty, false);
    assert_int_equal (pair_on_peer (primary, &said, &empty, 300, why, sizeof why), S_NONE);
    assert_int_equal (pair_state (primary), S_ACTIVE);
    pair_destroy (&primary);
    pair_destroy (&backup);
    assert_null (primary);
}

static void
test_the_node_further_on_takes_over (void **state)
{
    (void) state;
    char why [512];
    pair_t *primary = s_node (true, false, 1), *backup = s_node (false, false, 2);
    //  The backup was active in term 2 after the primary's term 1: it holds more
    pair_log_t primary_log = { 300, 1 }, backup_log = { 250, 2 };
    pair_peer_t said = s_says (backup, &backup_log, false);
    assert_int_equal (pair_on_peer (primary, &said, &primary_log, 10, why, sizeof why), S_NONE);
    said = s_says (primary, &primary_log, false);
    assert_int_equal (pair_on_peer (backup, &said, &backup_log, 10, why, sizeof why), S_ACTIVE);
    assert_non_null (strstr (why, "further on"));
    assert_int_equal (pair_term (backup), 4);       //  even, above every term it knows
    said = s_says (backup, &backup_log, false);
    assert_int_equal (pair_on_peer (primary, &said, &primary_log, 20, why, sizeof why), S_PASSIVE);

    //  In one term, the longer journal leads
    pair_t *a = s_node (true, false, 3), *b = s_node (false, false, 3);
    pair_log_t short_log = { 10, 3 }, long_log = { 11, 3 };
    said = s_says (b, &long_log, false);
    assert_int_equal (pair_on_peer (a, &said, &short_log, 10, why, sizeof why), S_NONE);
    said = s_says (a, &short_log, false);
    assert_int_equal (pair_on_peer (b, &said, &long_log, 10, why, sizeof why), S_ACTIVE);
    pair_destroy (&a);
    pair_destroy (&b);
    pair_destroy (&primary);
    pair_destroy (&backup);
}

static void
test_a_synced_standby_takes_over_on_a_vote (void **state)
{
    (void) state;
    char why [512];
    pair_t *primary = s_node (true, false, 0), *backup = s_node (false, false, 0);
    pair_log_t log = { 40, 1 };
    pair_peer_t active = { S_ACTIVE, true, 1, 40, 1, true };
    assert_int_equal (pair_on_peer (backup, &active, &log, 1000, why, sizeof why), S_PASSIVE);
    assert_true (pair_may_take_over (backup));

    //  A client turns to it while the active still speaks: refused
    assert_int_equal (pair_on_vote (backup, &log, 1500, why, sizeof why), S_NONE);
    assert_non_null (strstr (why, "primary is alive"));
    assert_true (pair_peer_alive (backup, 1999));
    assert_false (pair_peer_alive (backup, 2000));
    //  Silent past the timeout, but no client: nothing happens by itself.
    //  A client: it takes over, in its own (even) term
    assert_int_equal (pair_state (backup), S_PASSIVE);
    assert_int_equal (pair_on_vote (backup, &log, 2100, why, sizeof why), S_ACTIVE);
    assert_non_null (strstr (why, "synced copy"));
    assert_int_equal (pair_term (backup), 2);
    //  Further votes change nothing
    assert_int_equal (pair_on_vote (backup, &log, 2200, why, sizeof why), S_NONE);

    //  The old primary comes back (its journal lost): it hears an active
    //  backup and follows, in the backup's term
    pair_log_t lost = { 0, 0 };
    pair_peer_t said = s_says (backup, &log, false);
    assert_int_equal (pair_on_peer (primary, &said, &lost, 2300, why, sizeof why), S_PASSIVE);
    assert_int_equal (pair_term (primary), 2);
    assert_false (pair_may_take_over (primary));    //  not a copy until it is told so
    said.copy = true;
    assert_int_equal (pair_on_peer (primary, &said, &log, 2500, why, sizeof why), S_NONE);
    assert_true (pair_may_take_over (primary));
    //  The backup dies in its turn: the primary takes over in term 3
    assert_int_equal (pair_on_vote (primary, &log, 4000, why, sizeof why), S_ACTIVE);
    assert_int_equal (pair_term (primary), 3);
    pair_destroy (&primary);
    pair_destroy (&backup);
}

static void
test_a_node_that_was_not_a_copy_waits (void **state)
{
    (void) state;
    char why [512];
    //  The active said the standby is not its copy (catching up, or lost)
    pair_t *backup = s_node (false, false, 0);
    pair_log_t log = { 10, 1 };
    pair_peer_t active = { S_ACTIVE, true, 1, 90, 1, false };
    assert_int_equal (pair_on_peer (backup, &active, &log, 0, why, sizeof why), S_PASSIVE);
    assert_int_equal (pair_on_vote (backup, &log, 5000, why, sizeof why), S_NONE);
    assert_non_null (strstr (why, "will NOT take over"));
    assert_non_null (strstr (why, "--take-over"));
    assert_int_equal (pair_state (backup), S_PASSIVE);

    //  A node alone since it started is no known copy either
    pair_t *alone = s_node (true, false, 0);
    assert_int_equal (pair_on_vote (alone, &log, 500, why, sizeof why), S_NONE);
    assert_non_null (strstr (why, "not heard yet"));
    assert_int_equal (pair_on_vote (alone, &log, 5000, why, sizeof why), S_NONE);
    assert_non_null (strstr (why, "has not heard it since it started"));

    //  Unless the operator says so: the night starts with the standby down
    pair_t *forced = s_node (true, true, 0);
    assert_int_equal (pair_on_vote (forced, &log, 500, why, sizeof why), S_NONE);
    assert_int_equal (pair_on_vote (forced, &log, 1000, why, sizeof why), S_ACTIVE);
    assert_non_null (strstr (why, "--take-over"));
    assert_int_equal (pair_term (forced), 1);
    pair_destroy (&backup);
    pair_destroy (&alone);
    pair_destroy (&forced);
}

static void
test_two_actives_the_later_term_stands (void **state)
{
    (void) state;
    char why [512];
    pair_t *primary = s_node (true, true, 0), *backup = s_node (false, true, 0);
    pair_log_t log = { 5, 0 };
    //  Each took over alone (forced, both sides cut off)
    assert_int_equal (pair_on_vote (primary, &log, 2000, why, sizeof why), S_ACTIVE);
    assert_int_equal (pair_on_vote (backup, &log, 2000, why, sizeof why), S_ACTIVE);
    assert_int_equal (pair_term (primary), 1);
    assert_int_equal (pair_term (backup), 2);
    //  They meet: the primary (term 1) steps down, the backup stays
    pair_peer_t said = s_says (primary, &log, false);
    assert_int_equal (pair_on_peer (backup, &said, &log, 2100, why, sizeof why), S_NONE);
    assert_int_equal (pair_state (backup), S_ACTIVE);
    assert_int_equal (pair_term (backup), 2);
    said = s_says (backup, &log, false);
    assert_int_equal (pair_on_peer (primary, &said, &log, 2100, why, sizeof why), S_PASSIVE);
    assert_non_null (strstr (why, "stepping down"));

    //  A new term after a failed commit: still its own parity, above all known
    pair_new_term (backup);
    assert_int_equal (pair_term (backup), 4);
    pair_new_term (primary);
    assert_int_equal (pair_term (primary), 3);
    assert_string_equal (pair_role (primary), "primary");
    assert_string_equal (pair_role (backup), "backup");
    pair_destroy (&primary);
    pair_destroy (&backup);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_both_start_and_the_primary_takes_over),
        cmocka_unit_test (test_the_node_further_on_takes_over),
        cmocka_unit_test (test_a_synced_standby_takes_over_on_a_vote),
        cmocka_unit_test (test_a_node_that_was_not_a_copy_waits),
        cmocka_unit_test (test_two_actives_the_later_term_stands),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
