/*  test_strmap: the string map behind every lookup by name (seats, parties,
    topics): put, get, replace, absent keys, keys that share a slot,
    growth from the smallest table past a hundred thousand keys, and
    removal (from the middle of a cluster, and churn that leaves it small). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "strmap.h"

static void
test_put_get_replace (void **state)
{
    strmap_t *map = strmap_new (0);
    assert_non_null (map);
    assert_int_equal (strmap_size (map), 0);

    char key [32] = "E14000800";
    assert_int_equal (strmap_put (map, key, 7), 0);
    assert_int_equal (strmap_size (map), 1);
    size_t value = 0;
    assert_true (strmap_get (map, "E14000800", &value));
    assert_int_equal (value, 7);
    assert_true (strmap_get (map, "E14000800", NULL));

    //  The map keeps its own copy of the key
    strcpy (key, "E14000801");
    assert_false (strmap_get (map, "E14000801", &value));
    assert_true (strmap_get (map, "E14000800", &value));
    assert_int_equal (value, 7);

    //  Putting a held key replaces its value and adds nothing
    assert_int_equal (strmap_put (map, "E14000800", 650), 0);
    assert_int_equal (strmap_size (map), 1);
    assert_true (strmap_get (map, "E14000800", &value));
    assert_int_equal (value, 650);

    //  Values are whole size_t's
    assert_int_equal (strmap_put (map, "big", SIZE_MAX), 0);
    assert_true (strmap_get (map, "big", &value));
    assert_true (value == SIZE_MAX);
    strmap_destroy (&map);
    assert_null (map);
    strmap_destroy (&map);      //  a second destroy is harmless
}

static void
test_absent_keys (void **state)
{
    strmap_t *map = strmap_new (4);
    size_t value = 12345;
    assert_false (strmap_get (map, "national", &value));
    assert_int_equal (value, 12345);        //  untouched when absent

    assert_int_equal (strmap_put (map, "seat.E14000800", 1), 0);
    assert_int_equal (strmap_put (map, "", 2), 0);
    //  Prefixes, extensions and case variants are other keys
    assert_false (strmap_get (map, "seat.", NULL));
    assert_false (strmap_get (map, "seat.E1400080", NULL));
    assert_false (strmap_get (map, "seat.E140008000", NULL));
    assert_false (strmap_get (map, "SEAT.E14000800", NULL));
    //  The empty string is a key like any other
    assert_true (strmap_get (map, "", &value));
    assert_int_equal (value, 2);
    assert_int_equal (strmap_size (map), 2);
    strmap_destroy (&map);
}

//  These keys share the last slot of a 16- or 32-slot table under the map's
//  hash (FNV-1a, worked out when the test was written), so they run in one
//  cluster that wraps round to slot 0, where seat.17's own slot is. Were
//  the hash or the first size to change they would merely stop colliding;
//  test_grow_past_many_keys collides by sheer numbers.
static void
test_colliding_keys (void **state)
{
    const char *same_slot [] = { "seat.9", "seat.12", "seat.38", "seat.74" };
    strmap_t *map = strmap_new (0);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal (strmap_put (map, same_slot [i], 100 + i), 0);
    assert_int_equal (strmap_put (map, "seat.17", 200), 0);
    size_t value;
    for (size_t i = 0; i < 4; i++) {
        assert_true (strmap_get (map, same_slot [i], &value));
        assert_int_equal (value, 100 + i);
    }
    assert_true (strmap_get (map, "seat.17", &value));
    assert_int_equal (value, 200);
    //  An absent key of the same slot probes the whole cluster, then stops
    assert_false (strmap_get (map, "seat.117", NULL));
    //  Replacing one in the middle of the cluster touches only it
    assert_int_equal (strmap_put (map, "seat.38", 300), 0);
    assert_int_equal (strmap_size (map), 5);
    assert_true (strmap_get (map, "seat.38", &value));
    assert_int_equal (value, 300);
    assert_true (strmap_get (map, "seat.74", &value));
    assert_int_equal (value, 103);
    strmap_destroy (&map);
}

static void
test_remove (void **state)
{
    //  The cluster of test_colliding_keys: removing its second key must
    //  leave the third and fourth findable (they probe past the hole)
    const char *same_slot [] = { "seat.9", "seat.12", "seat.38", "seat.74" };
    strmap_t *map = strmap_new (0);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal (strmap_put (map, same_slot [i], 100 + i), 0);
    assert_int_equal (strmap_put (map, "seat.17", 200), 0);
    assert_true (strmap_remove (map, "seat.12"));
    assert_false (strmap_remove (map, "seat.12"));
    assert_false (strmap_get (map, "seat.12", NULL));
    size_t value;
    for (size_t i = 0; i < 4; i++)
        if (i != 1) {
            assert_true (strmap_get (map, same_slot [i], &value));
            assert_int_equal (value, 100 + i);
        }
    assert_true (strmap_get (map, "seat.17", &value));
    assert_int_equal (strmap_size (map), 4);
    strmap_destroy (&map);

    //  Churn: 100,000 keys put, each removed ten keys later; every live key
    //  is found all along
    map = strmap_new (16);
    char key [32];
    for (size_t i = 0; i < 100000; i++) {
        snprintf (key, sizeof key, "P%zu", i);
        assert_int_equal (strmap_put (map, key, i), 0);
        if (i >= 10) {
            snprintf (key, sizeof key, "P%zu", i - 10);
            assert_true (strmap_remove (map, key));
        }
        for (size_t j = i >= 9 ? i - 9 : 0; j <= i; j += 3) {
            snprintf (key, sizeof key, "P%zu", j);
            assert_true (strmap_get (map, key, &value));
            assert_int_equal (value, j);
        }
    }
    assert_int_equal (strmap_size (map), 10);
    strmap_destroy (&map);
}

#define S_MANY 100000

static void
test_grow_past_many_keys (void **state)
{
    //  From the smallest table: it doubles about thirteen times on the way
    strmap_t *map = strmap_new (0);
    char key [32];
    for (size_t i = 0; i < S_MANY; i++) {
        snprintf (key, sizeof key, "seat.E%08zu", i);
        assert_int_equal (strmap_put (map, key, i), 0);
    }
    assert_int_equal (strmap_size (map), S_MANY);
    size_t value;
    for (size_t i = 0; i < S_MANY; i++) {
        snprintf (key, sizeof key, "seat.E%08zu", i);
        if (!strmap_get (map, key, &value) || value != i)
            fail_msg ("%s lost or wrong after growth", key);
        snprintf (key, sizeof key, "seat.W%08zu", i);
        if (strmap_get (map, key, NULL))
            fail_msg ("%s found but never put", key);
    }
    //  Replacing every other one adds nothing and moves nothing else
    for (size_t i = 0; i < S_MANY; i += 2) {
        snprintf (key, sizeof key, "seat.E%08zu", i);
        assert_int_equal (strmap_put (map, key, i + S_MANY), 0);
    }
    assert_int_equal (strmap_size (map), S_MANY);
    for (size_t i = 0; i < S_MANY; i++) {
        snprintf (key, sizeof key, "seat.E%08zu", i);
        assert_true (strmap_get (map, key, &value));
        assert_int_equal (value, i % 2 ? i : i + S_MANY);
    }
    strmap_destroy (&map);

    //  Sized up front, the same keys go in the same
    map = strmap_new (S_MANY);
    assert_non_null (map);
    for (size_t i = 0; i < S_MANY; i++) {
        snprintf (key, sizeof key, "seat.E%08zu", i);
        assert_int_equal (strmap_put (map, key, i), 0);
    }
    snprintf (key, sizeof key, "seat.E%08zu", (size_t) S_MANY - 1);
    assert_true (strmap_get (map, key, &value));
    assert_int_equal (value, S_MANY - 1);
    assert_int_equal (strmap_size (map), S_MANY);
    strmap_destroy (&map);
}

//  A borrowing map keeps the caller's pointers: it finds keys through
//  growth, and destroying it leaves them alone (ASan would see a free of
//  this array, or of a copy never made)
static void
test_borrowed_keys (void **state)
{
    static char keys [300][16];
    strmap_t *map = strmap_new_borrowed (1);
    assert_non_null (map);
    for (size_t i = 0; i < 300; i++) {
        snprintf (keys [i], sizeof keys [i], "E%08zu", i);
        assert_int_equal (strmap_put (map, keys [i], i), 0);
    }
    assert_int_equal (strmap_size (map), 300);
    for (size_t i = 0; i < 300; i++) {
        char copy [16];
        snprintf (copy, sizeof copy, "E%08zu", i);
        size_t value;
        assert_true (strmap_get (map, copy, &value));
        assert_int_equal (value, i);
    }
    assert_int_equal (strmap_put (map, keys [7], 700), 0);
    size_t value;
    assert_true (strmap_get (map, "E00000007", &value));
    assert_int_equal (value, 700);
    assert_int_equal (strmap_size (map), 300);
    strmap_destroy (&map);
    assert_null (map);
    assert_string_equal (keys [299], "E00000299");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_put_get_replace),
        cmocka_unit_test (test_absent_keys),
        cmocka_unit_test (test_colliding_keys),
        cmocka_unit_test (test_remove),
        cmocka_unit_test (test_grow_past_many_keys),
        cmocka_unit_test (test_borrowed_keys),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
