/*  test_parliament: the House from a UK summary (lib/view/parliament.h),
    each verdict on a small made-up parliament: nothing yet, undecided, a
    majority reached before the end and at the end, hung decided early
    (no party can reach the line) and at the end.                           */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "parliament.h"

//  A parliament of `total` seats, `declared` of them declared, parties A, B, C
//  with these seats
static Election__NationalSummary
s_house (Election__PartyLine *lines, Election__PartyLine **pointers, unsigned total,
         unsigned declared, int a, int b, int c)
{
    const char *codes [] = { "A", "B", "C" };
    const char *names [] = { "Alpha", "Beta", "" };     //  C: no name, its code stands
    int seats [] = { a, b, c };
    for (size_t i = 0; i < 3; i++) {
        election__party_line__init (&lines [i]);
        lines [i].party = (char *) codes [i];
        lines [i].name = (char *) names [i];
        lines [i].has_seats = true;
        lines [i].seats = seats [i];
        pointers [i] = &lines [i];
    }
    Election__NationalSummary national = ELECTION__NATIONAL_SUMMARY__INIT;
    national.scope = "UK";
    national.seats_total = total;
    national.majority_line = total / 2 + 1;
    national.declared = declared;
    national.n_parties = 3;
    national.parties = pointers;
    return national;
}

static void
test_nothing_yet (void **state)
{
    parliament_t p = parliament_of (NULL);
    assert_null (p.largest);
    assert_int_equal (p.verdict, PARLIAMENT_UNDECIDED);
    Election__PartyLine lines [3], *pointers [3];
    Election__NationalSummary uk = s_house (lines, pointers, 650, 0, 0, 0, 0);
    json_t *json = parliament_json (&uk);
    assert_true (json_is_null (json_object_get (json, "largest")));
    assert_true (json_is_null (json_object_get (json, "hung")));
    assert_false (json_is_true (json_object_get (json, "complete")));
    assert_int_equal (json_array_size (json_object_get (json, "needed")), 0);
    assert_string_equal (json_string_value (json_object_get (json, "text")),
                         "No results yet (0 of 650 declared)");
    json_decref (json);
}

static void
test_undecided (void **state)
{
    Election__PartyLine lines [3], *pointers [3];
    Election__NationalSummary uk = s_house (lines, pointers, 650, 412, 206, 180, 26);
    parliament_t p = parliament_of (&uk);
    assert_int_equal (p.verdict, PARLIAMENT_UNDECIDED);
    assert_string_equal (p.text, "A need 120 more for a majority (412 of 650 declared)");
    json_t *json = parliament_json (&uk);
    assert_true (json_is_null (json_object_get (json, "hung")));
    assert_true (json_is_null (json_object_get (json, "short")));
    assert_true (json_is_null (json_object_get (json, "majority")));
    assert_string_equal (json_string_value (json_object_get (json, "largest_name")), "Alpha");
    json_t *needed = json_object_get (json, "needed");
    assert_int_equal (json_array_size (needed), 3);
    assert_int_equal (json_integer_value (json_object_get (json_array_get (needed, 0), "needed")), 120);
    assert_int_equal (json_integer_value (json_object_get (json_array_get (needed, 1), "needed")), 146);
    assert_string_equal (json_string_value (json_object_get (json_array_get (needed, 2), "name")), "C");
    json_decref (json);
}

static void
test_majority (void **state)
{
    Election__PartyLine lines [3], *pointers [3];
    //  Reached before the end: decided, but the size of it is not final
    Election__NationalSummary uk = s_house (lines, pointers, 650, 600, 330, 250, 20);
    json_t *json = parliament_json (&uk);
    assert_true (json_is_false (json_object_get (json, "hung")));
    assert_true (json_is_null (json_object_get (json, "majority")));
    assert_int_equal (json_integer_value (json_object_get (json_array_get (json_object_get (json, "needed"), 0),
                                                           "needed")), 0);
    json_decref (json);
    //  At the end: 412 of 650 is a majority of 174 (1997's Labour was 418: 186)
    uk = s_house (lines, pointers, 650, 650, 412, 200, 38);
    parliament_t p = parliament_of (&uk);
    assert_int_equal (p.verdict, PARLIAMENT_MAJORITY);
    assert_int_equal (p.majority, 174);
    assert_string_equal (p.text, "A majority of 174");
    json = parliament_json (&uk);
    assert_true (json_is_true (json_object_get (json, "complete")));
    assert_int_equal (json_integer_value (json_object_get (json, "majority")), 174);
    assert_true (json_is_null (json_object_get (json, "short")));
    json_decref (json);
    //  Exactly the line: a majority of 2 in 650
    uk = s_house (lines, pointers, 650, 650, 326, 300, 24);
    assert_int_equal (parliament_of (&uk).majority, 2);
}

static void
test_hung (void **state)
{
    Election__PartyLine lines [3], *pointers [3];
    //  Decided early: 300 + the 20 left < 326
    Election__NationalSummary uk = s_house (lines, pointers, 650, 630, 300, 290, 40);
    parliament_t p = parliament_of (&uk);
    assert_int_equal (p.verdict, PARLIAMENT_HUNG);
    json_t *json = parliament_json (&uk);
    assert_true (json_is_true (json_object_get (json, "hung")));
    assert_true (json_is_null (json_object_get (json, "short")));
    json_decref (json);
    //  One seat more left and A could still make it
    uk = s_house (lines, pointers, 650, 624, 300, 284, 40);
    assert_int_equal (parliament_of (&uk).verdict, PARLIAMENT_UNDECIDED);
    //  At the end: 2017
    uk = s_house (lines, pointers, 650, 650, 318, 262, 70);
    json = parliament_json (&uk);
    assert_true (json_is_true (json_object_get (json, "hung")));
    assert_int_equal (json_integer_value (json_object_get (json, "short")), 8);
    assert_string_equal (json_string_value (json_object_get (json, "text")),
                         "HUNG PARLIAMENT \xe2\x80\x94 A 8 short of 326");
    json_decref (json);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_nothing_yet),
        cmocka_unit_test (test_undecided),
        cmocka_unit_test (test_majority),
        cmocka_unit_test (test_hung),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
