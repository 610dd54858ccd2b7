/*
 * Unit tests for cli/output.c: the short id, the "5 minutes ago" wording,
 * the one-line label of a post, counts with the right plural.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../cli/output.c"

#define MIN 60000ull
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
/* 2025-03-12 14:05:00 UTC */
#define NOW 1741788300000ull

static const char *when(uint64_t now, uint64_t then)
{
    static char buf[64];
    out_when(now, then, buf, sizeof(buf));
    return buf;
}

Test(cli_output, relative_times)
{
    cr_assert_str_eq(when(NOW, NOW), "just now");
    cr_assert_str_eq(when(NOW, NOW - 59 * 1000), "just now");
    cr_assert_str_eq(when(NOW, NOW + 30 * 1000), "just now"); /* a little clock skew */
    cr_assert_str_eq(when(NOW, NOW - MIN), "a minute ago");
    cr_assert_str_eq(when(NOW, NOW - 5 * MIN), "5 minutes ago");
    cr_assert_str_eq(when(NOW, NOW - 59 * MIN), "59 minutes ago");
    cr_assert_str_eq(when(NOW, NOW - HOUR), "an hour ago");
    cr_assert_str_eq(when(NOW, NOW - 3 * HOUR - 5 * MIN), "3 hours ago");
    cr_assert_str_eq(when(NOW, NOW - DAY), "yesterday");
    cr_assert_str_eq(when(NOW, NOW - 4 * DAY), "4 days ago");
    cr_assert_str_eq(when(NOW, NOW - 29 * DAY), "29 days ago");
}

Test(cli_output, absolute_when_old_future_or_clock_unsure)
{
    /* Older than 30 days: a date. */
    cr_assert_str_eq(when(NOW, NOW - 31 * DAY), "2025-02-09 14:05 UTC");
    /* In the future by more than a minute: someone's clock is wrong. */
    cr_assert_str_eq(when(NOW, NOW + 2 * HOUR), "2025-03-12 16:05 UTC");
    /* A Pi that thinks it is 1970 cannot say "ago" about anything. */
    cr_assert_str_eq(when(5 * DAY, 5 * DAY - MIN), "1970-01-05 23:59 UTC");
}

Test(cli_output, short_id)
{
    char buf[OUT_SHORT_ID + 1];

    out_short_id("3fa1c2d09e11aabbccddeeff00112233", buf, sizeof(buf));
    cr_assert_str_eq(buf, "3fa1c2d09e11");
    out_short_id("3fa1", buf, sizeof(buf));
    cr_assert_str_eq(buf, "3fa1");
    out_short_id(NULL, buf, sizeof(buf));
    cr_assert_str_eq(buf, "?");
}

Test(cli_output, first_line)
{
    char buf[256];

    out_first_line("Getting started\nwith a budget", 70, buf, sizeof(buf));
    cr_assert_str_eq(buf, "Getting started");
    out_first_line("\n\n  ## My review   \r\nmore", 70, buf, sizeof(buf));
    cr_assert_str_eq(buf, "My review");
    out_first_line("abcdefghij", 5, buf, sizeof(buf));
    cr_assert_str_eq(buf, "abcde...");
    out_first_line("abcde", 5, buf, sizeof(buf));
    cr_assert_str_eq(buf, "abcde");
    out_first_line(NULL, 5, buf, sizeof(buf));
    cr_assert_str_eq(buf, "");
}

Test(cli_output, first_line_cuts_between_utf8_characters)
{
    char buf[256];
    char small[9];

    /* "é" is two bytes, "€" three: count characters, not bytes. */
    out_first_line("\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x82\xac\xe2\x82\xac", 4, buf, sizeof(buf));
    cr_assert_str_eq(buf, "\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x82\xac...");
    /* A small buffer: never half a character before the "...". */
    out_first_line("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 70, small, sizeof(small));
    cr_assert_str_eq(small, "\xe2\x82\xac...");
    cr_assert_leq(strlen(small), sizeof(small) - 1);
}

Test(cli_output, counts)
{
    char buf[32];

    out_count(1, "reply", "replies", buf, sizeof(buf));
    cr_assert_str_eq(buf, "1 reply");
    out_count(0, "reply", "replies", buf, sizeof(buf));
    cr_assert_str_eq(buf, "0 replies");
    out_count(12, "post", "posts", buf, sizeof(buf));
    cr_assert_str_eq(buf, "12 posts");
}
