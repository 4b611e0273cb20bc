/*  test_log: the log line's shape, and what it holds back: at most
    LOG_BURST warnings or errors per message id a window, the rest counted
    and said in one line; other ids and info lines untouched. stderr is sent
    to a file and read back.                                                */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "log.h"

#define S_PATH EL_TEST_TMP "/test_log.stderr"

//  Lines of the captured stderr holding needle; *held adds up the counts
//  of "... and N more like it" lines among them
static size_t
s_lines (const char *needle, size_t *held)
{
    fflush (stderr);
    FILE *file = fopen (S_PATH, "r");
    assert_non_null (file);
    char line [2048];
    size_t count = 0, more;
    *held = 0;
    while (fgets (line, sizeof line, file))
        if (strstr (line, needle)) {
            count++;
            const char *at = strstr (line, "... and ");
            if (at && sscanf (at, "... and %zu more like it", &more) == 1)
                *held += more;
        }
    fclose (file);
    return count;
}

static void
test_repeats_held_back_and_counted (void **state)
{
    assert_non_null (freopen (S_PATH, "w", stderr));
    log_init ("test", LOG_INFO);
    for (int i = 0; i < 1000; i++)
        log_warn ("TST001", "junk message %d dropped", i);
    for (int i = 0; i < 3; i++)
        log_error ("TST002", "a different cause %d", i);
    for (int i = 0; i < 50; i++)
        log_info ("TST003", "accepted %d", i);
    size_t held;
    //  The first LOG_BURST shown as they came, nothing yet said of the rest
    assert_int_equal (s_lines ("WARN  TST001 junk message", &held), LOG_BURST);
    assert_int_equal (s_lines ("TST002 a different cause", &held), 3);
    assert_int_equal (s_lines ("INFO  TST003 accepted", &held), 50);
    //  A shape a reader can rely on
    assert_int_equal (s_lines ("Z test WARN  TST001 junk message 0 dropped", &held), 1);
    //  Said when flushed (at exit, or when the window ends: log_tick)
    log_flush ();
    assert_int_equal (s_lines ("TST001", &held), LOG_BURST + 1);
    assert_int_equal (held, 1000 - LOG_BURST);
    assert_int_equal (s_lines ("TST002", &held), 3);
    assert_int_equal (held, 0);
    //  A new window: shown again
    log_warn ("TST001", "junk message again");
    assert_int_equal (s_lines ("TST001 junk message again", &held), 1);
    unlink (S_PATH);
}

//  Held lines are written together at release, whole and in order (also
//  past what fits at once: what is held is written first), and not before
static void
test_held_lines_written_at_release (void **state)
{
    assert_non_null (freopen (S_PATH, "w", stderr));
    log_init ("test", LOG_INFO);
    size_t held;
    log_hold ();
    log_info ("TST010", "accepted %d", 0);
    log_hold ();                //  nested: the outer release writes
    log_info ("TST010", "accepted %d", 1);
    log_release ();
    assert_int_equal (s_lines ("TST010", &held), 0);
    log_release ();
    assert_int_equal (s_lines ("INFO  TST010 accepted", &held), 2);
    log_hold ();
    for (int i = 0; i < 2000; i++)      //  about 100 KB: more than is held at once
        log_info ("TST011", "accepted %d of a long batch", i);
    log_release ();
    assert_int_equal (s_lines ("INFO  TST011 accepted", &held), 2000);
    assert_int_equal (s_lines ("TST011 accepted 1999 of a long batch", &held), 1);
    log_info ("TST012", "not held");
    assert_int_equal (s_lines ("TST012 not held", &held), 1);
    unlink (S_PATH);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_repeats_held_back_and_counted),
        cmocka_unit_test (test_held_lines_written_at_release),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
