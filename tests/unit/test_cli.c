/*  test_cli: command-line numbers are taken whole and within their range,
    and anything else is refused (the message names the option on stderr). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "cli.h"

static void
test_integer (void **state)
{
    long long value = -1;
    assert_int_equal (cli_integer ("test", "--n", "42", 1, 100, &value), 0);
    assert_int_equal (value, 42);
    assert_int_equal (cli_integer ("test", "--n", "1", 1, 100, &value), 0);
    assert_int_equal (value, 1);
    assert_int_equal (cli_integer ("test", "--n", "100", 1, 100, &value), 0);
    assert_int_equal (cli_integer ("test", "--n", "9223372036854775807", 0, INT64_MAX, &value), 0);
    assert_true (value == INT64_MAX);

    const char *refused [] = { "", "0", "101", "-5", "4x", "x4", "1e3", "0x10", "4.0",
                               "99999999999999999999" };
    for (size_t i = 0; i < sizeof refused / sizeof refused [0]; i++) {
        value = 77;
        assert_int_equal (cli_integer ("test", "--n", refused [i], 1, 100, &value), -1);
        assert_int_equal (value, 77);       //  untouched on refusal
    }
}

//  Counts as a clerk types them, and back
static void
test_count (void **state)
{
    uint32_t value = 0;
    assert_int_equal (cli_count ("29765", &value), 0);
    assert_int_equal (value, 29765);
    assert_int_equal (cli_count (" 29,765 ", &value), 0);
    assert_int_equal (value, 29765);
    assert_int_equal (cli_count ("1,234,567", &value), 0);
    assert_int_equal (value, 1234567);
    assert_int_equal (cli_count ("0", &value), 0);
    assert_int_equal (value, 0);
    assert_int_equal (cli_count ("4294967295", &value), 0);
    const char *refused [] = { "", " ", "-1", "29,76,5", "2,9765", "29765,", ",765", "1,2345",
                               "1234,567", "29 765", "4294967296", "12a", "0x10", "1.5" };
    for (size_t i = 0; i < sizeof refused / sizeof refused [0]; i++) {
        value = 77;
        assert_int_equal (cli_count (refused [i], &value), -1);
        assert_int_equal (value, 77);
    }
    char buf [32];
    assert_string_equal (cli_thousands (14364, buf, sizeof buf), "14,364");
    assert_string_equal (cli_thousands (-1234567, buf, sizeof buf), "-1,234,567");
    assert_string_equal (cli_thousands (999, buf, sizeof buf), "999");
    assert_string_equal (cli_thousands (INT64_MIN, buf, sizeof buf), "-9,223,372,036,854,775,808");
}

static void
test_real (void **state)
{
    double value = -1;
    assert_int_equal (cli_real ("test", "--s", "0.1", 0.1, 600, &value), 0);
    assert_true (value == 0.1);
    assert_int_equal (cli_real ("test", "--s", "600", 0.1, 600, &value), 0);
    assert_int_equal (cli_real ("test", "--s", "2.5", 0.1, 600, &value), 0);
    assert_true (value == 2.5);

    const char *refused [] = { "", "0.05", "600.5", "-1", "nan", "inf", "1e999", "2.5s" };
    for (size_t i = 0; i < sizeof refused / sizeof refused [0]; i++) {
        value = 7;
        assert_int_equal (cli_real ("test", "--s", refused [i], 0.1, 600, &value), -1);
        assert_true (value == 7);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_integer),
        cmocka_unit_test (test_real),
        cmocka_unit_test (test_count),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
