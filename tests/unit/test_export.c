/*
 * Tests for node/export.c: ISO 8601 times and the Markdown export layout.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "kith/error.h"

Test(export, iso8601)
{
    char t[EXPORT_TIME_MAX];

    export_iso8601(0, t);
    cr_assert_str_eq(t, "1970-01-01T00:00:00Z");
    export_iso8601(1700000000999ull, t);
    cr_assert_str_eq(t, "2023-11-14T22:13:20Z");
    export_iso8601(951782400000ull, t); /* a leap day */
    cr_assert_str_eq(t, "2000-02-29T00:00:00Z");
}

Test(export, markdown_layout)
{
    json_t *posts = json_pack(
        "[{s:s,s:s,s:I,s:s,s:s},{s:s,s:s,s:I,s:s,s:s,s:s}]", "group", "Walkers", "topic",
        "Assessments", "created_ms", (json_int_t)1700000000000ll, "title", "Hello", "body",
        "first words", "group", "Walkers", "topic", "", "created_ms", (json_int_t)1700000060000ll,
        "title", "", "body", "a reply\n", "in_reply_to", "\"Hello\" (post 0123abcd)");
    char *md = NULL;

    cr_assert_eq(export_markdown("Ana", posts, &md), 0);
    cr_assert_str_eq(md, "# Posts by Ana\n\n"
                         "2 posts, oldest first.\n\n"
                         "## Walkers · Assessments · 2023-11-14T22:13:20Z\n\n"
                         "**Hello**\n\n"
                         "first words\n\n"
                         "## Walkers · 2023-11-14T22:14:20Z\n\n"
                         "In reply to \"Hello\" (post 0123abcd).\n\n"
                         "a reply\n\n");
    free(md);
    json_decref(posts);
}

Test(export, empty_and_bad_input)
{
    json_t *empty = json_array(), *notarr = json_object(), *bad = json_pack("[i]", 3);
    char *md = NULL;

    cr_assert_eq(export_markdown("Bo", empty, &md), 0);
    cr_assert_str_eq(md, "# Posts by Bo\n\nNothing written yet.\n");
    free(md);
    md = NULL;
    cr_assert_eq(export_markdown("Bo", notarr, &md), -KITH_EINVAL);
    cr_assert_null(md);
    cr_assert_eq(export_markdown("Bo", bad, &md), -KITH_EINVAL);
    cr_assert_null(md);
    json_decref(empty);
    json_decref(notarr);
    json_decref(bad);
}
