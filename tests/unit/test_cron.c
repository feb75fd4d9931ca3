/* Schedules: cron fields, names, Vixie day rule, macros, @every, month
 * ends, leap days and DST changes in America/New_York. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "cron.h"

/* "YYYY-MM-DD HH:MM" in UTC to time_t. */
static time_t utc(const char *s)
{
    struct tm t = {0};
    strptime(s, "%Y-%m-%d %H:%M", &t);
    return timegm(&t);
}

static const char *fmt(time_t t)
{
    static char buf[32];
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

/* next firing after `after` (UTC text), as UTC text */
static const char *next(const char *expr, const char *tz, const char *after)
{
    tj_cron c;
    tj_err err;
    assert_int_equal(tj__cron_parse(expr, tz, &c, &err), 0);
    time_t t = tj__cron_next(&c, utc(after));
    return t < 0 ? "never" : fmt(t);
}

static void test_fields_and_names(void **st)
{
    assert_string_equal(next("*/15 * * * *", "UTC", "2025-01-01 10:07"), "2025-01-01 10:15");
    assert_string_equal(next("0 9-17/4 * * *", "UTC", "2025-01-01 13:00"), "2025-01-01 17:00");
    assert_string_equal(next("30 6 * * mon-fri", "UTC", "2025-01-03 07:00"), "2025-01-06 06:30");
    assert_string_equal(next("0 0 1 jan,jul *", "UTC", "2025-02-01 00:00"), "2025-07-01 00:00");
    assert_string_equal(next("0 12 * * 7", "UTC", "2025-01-01 00:00"), "2025-01-05 12:00");
    /* both day fields restricted: either matches (Vixie) */
    assert_string_equal(next("0 0 13 * fri", "UTC", "2025-01-01 00:00"), "2025-01-03 00:00");
    assert_string_equal(next("5,10 * * * *", "UTC", "2025-01-01 00:05"), "2025-01-01 00:10");
}

static void test_macros_and_every(void **st)
{
    assert_string_equal(next("@hourly", "UTC", "2025-01-01 10:00"), "2025-01-01 11:00");
    assert_string_equal(next("@daily", "UTC", "2025-01-01 10:00"), "2025-01-02 00:00");
    assert_string_equal(next("@weekly", "UTC", "2025-01-01 10:00"), "2025-01-05 00:00");
    assert_string_equal(next("@monthly", "UTC", "2025-01-31 10:00"), "2025-02-01 00:00");
    assert_string_equal(next("@yearly", "UTC", "2025-06-01 10:00"), "2026-01-01 00:00");
    assert_string_equal(next("@every 10m", NULL, "2025-01-01 10:03"), "2025-01-01 10:10");
    tj_cron c;
    tj_err err;
    assert_int_equal(tj__cron_parse("@every 1s", NULL, &c, &err), 0);
    assert_int_equal(tj__cron_next(&c, 100), 101);
}

static void test_month_ends_and_leap_days(void **st)
{
    assert_string_equal(next("0 0 31 * *", "UTC", "2025-01-31 00:00"), "2025-03-31 00:00");
    assert_string_equal(next("0 0 29 2 *", "UTC", "2025-01-01 00:00"), "2028-02-29 00:00");
    assert_string_equal(next("0 0 30 2 *", "UTC", "2025-01-01 00:00"), "never");
}

static void test_timezone(void **st)
{
    /* 09:00 in Shanghai is 01:00 UTC */
    assert_string_equal(next("0 9 * * *", "Asia/Shanghai", "2025-01-01 02:00"), "2025-01-02 01:00");
}

static void test_dst_spring_forward_skips_missing_time(void **st)
{
    /* 2025-03-09: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist */
    assert_string_equal(next("30 2 * * *", "America/New_York", "2025-03-08 08:00"),
                        "2025-03-10 06:30"); /* 02:30 EDT the next day */
    assert_string_equal(next("30 3 * * *", "America/New_York", "2025-03-08 09:00"),
                        "2025-03-09 07:30"); /* 03:30 EDT exists */
}

static void test_dst_fall_back_fires_once(void **st)
{
    /* 2025-11-02: 01:00-01:59 happens twice (EDT 05:xx UTC, EST 06:xx UTC) */
    assert_string_equal(next("30 1 * * *", "America/New_York", "2025-11-02 04:00"),
                        "2025-11-02 05:30");
    assert_string_equal(next("30 1 * * *", "America/New_York", "2025-11-02 05:30"),
                        "2025-11-03 06:30"); /* not 06:30 the same day */
    assert_string_equal(next("*/30 * * * *", "America/New_York", "2025-11-02 05:30"),
                        "2025-11-02 07:00"); /* 01:00-01:30 EST skipped as repeats */
}

static void test_errors(void **st)
{
    tj_cron c;
    tj_err err;
    assert_int_equal(tj__cron_parse("61 * * * *", NULL, &c, &err), TJ_EPARSE);
    assert_string_equal(err.msg, "minute field: '61' is not valid (range 0-59)");
    assert_int_equal(tj__cron_parse("* * * *", NULL, &c, &err), TJ_EPARSE);
    assert_string_equal(err.msg, "a cron schedule has five fields (minute hour day-of-month "
                                 "month day-of-week), got 4 in '* * * *'");
    assert_int_equal(tj__cron_parse("0 0 * foo *", NULL, &c, &err), TJ_EPARSE);
    assert_string_equal(err.msg, "month field: 'foo' is not valid (range 1-12)");
    assert_int_equal(tj__cron_parse("@sometimes", NULL, &c, &err), TJ_EPARSE);
    assert_int_equal(tj__cron_parse("@every soon", NULL, &c, &err), TJ_EPARSE);
    assert_int_equal(tj__cron_parse("*/0 * * * *", NULL, &c, &err), TJ_EPARSE);
    assert_int_equal(tj__cron_parse("5-1 * * * *", NULL, &c, &err), TJ_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_and_names),
        cmocka_unit_test(test_macros_and_every),
        cmocka_unit_test(test_month_ends_and_leap_days),
        cmocka_unit_test(test_timezone),
        cmocka_unit_test(test_dst_spring_forward_skips_missing_time),
        cmocka_unit_test(test_dst_fall_back_fires_once),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
