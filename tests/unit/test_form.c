/*
 * Tests for node/form.c: percent-decoding, urlencoded forms and query
 * strings (plus signs, escapes, bad escapes, duplicates, empty values,
 * limits) and the Cookie header.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "form.h"
#include "kith/error.h"

static int parse(const char *s, size_t max, struct form *f)
{
    return form_parse(s, strlen(s), max, f);
}

Test(percent, plain_plus_and_escapes)
{
    char out[64];
    size_t n;

    cr_assert_eq(form_percent_decode("a+b%2Bc%20d%7e", 14, 1, out, &n), 0);
    cr_assert_eq(n, 8);
    cr_assert_eq(memcmp(out, "a b+c d~", 8), 0);
    cr_assert_eq(form_percent_decode("a+b", 3, 0, out, &n), 0); /* paths keep '+' */
    cr_assert_eq(n, 3);
    cr_assert_eq(memcmp(out, "a+b", 3), 0);
    cr_assert_eq(form_percent_decode("%C3%A9", 6, 1, out, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq((unsigned char)out[0], 0xc3);
    cr_assert_eq((unsigned char)out[1], 0xa9);
}

Test(percent, bad_escapes)
{
    char out[16];
    size_t n;

    cr_assert_eq(form_percent_decode("%", 1, 1, out, &n), -KITH_EENCODING);
    cr_assert_eq(form_percent_decode("%4", 2, 1, out, &n), -KITH_EENCODING);
    cr_assert_eq(form_percent_decode("%zz", 3, 1, out, &n), -KITH_EENCODING);
    cr_assert_eq(form_percent_decode("%g0", 3, 1, out, &n), -KITH_EENCODING);
    cr_assert_eq(form_percent_decode("a%00b", 5, 1, out, &n), -KITH_EENCODING);
    cr_assert_eq(form_percent_decode("a\0b", 3, 1, out, &n), -KITH_EENCODING);
}

Test(percent, in_place)
{
    char s[] = "x%41%42+y";
    size_t n;

    cr_assert_eq(form_percent_decode(s, strlen(s), 1, s, &n), 0);
    cr_assert_eq(n, 5);
    cr_assert_eq(memcmp(s, "xAB y", 5), 0);
}

Test(form, fields_in_order)
{
    struct form f;

    cr_assert_eq(parse("name=Ann+Lee&pass=a%2Bb%26c%3Dd&body=line1%0D%0Aline2", 0, &f), 0);
    cr_assert_eq(f.n, 3);
    cr_assert_str_eq(f.fields[0].name, "name");
    cr_assert_str_eq(f.fields[0].value, "Ann Lee");
    cr_assert_str_eq(form_get(&f, "pass"), "a+b&c=d");
    cr_assert_str_eq(form_get(&f, "body"), "line1\r\nline2");
    cr_assert_eq(f.fields[2].value_len, 12);
    cr_assert_null(form_get(&f, "nope"));
    form_free(&f);
    cr_assert_eq(f.n, 0);
    cr_assert_null(f.buf);
}

Test(form, duplicates_keep_order_first_wins)
{
    struct form f;

    cr_assert_eq(parse("a=1&b=2&a=3", 0, &f), 0);
    cr_assert_eq(f.n, 3);
    cr_assert_str_eq(form_get(&f, "a"), "1");
    cr_assert_eq(form_count(&f, "a"), 2);
    cr_assert_eq(form_count(&f, "b"), 1);
    cr_assert_eq(form_count(&f, "c"), 0);
    cr_assert_str_eq(f.fields[2].value, "3");
    form_free(&f);
}

Test(form, empty_values_names_and_pairs)
{
    struct form f;

    cr_assert_eq(parse("a=&b&&=v&c==x&", 0, &f), 0);
    cr_assert_eq(f.n, 4);
    cr_assert_str_eq(form_get(&f, "a"), "");
    cr_assert_eq(f.fields[0].value_len, 0);
    cr_assert_str_eq(form_get(&f, "b"), ""); /* no '=' at all */
    cr_assert_str_eq(f.fields[2].name, "");
    cr_assert_str_eq(f.fields[2].value, "v");
    cr_assert_str_eq(form_get(&f, "c"), "=x"); /* split at the first '=' only */
    form_free(&f);

    cr_assert_eq(parse("", 0, &f), 0);
    cr_assert_eq(f.n, 0);
    form_free(&f);
    cr_assert_eq(parse("&&&", 0, &f), 0);
    cr_assert_eq(f.n, 0);
    form_free(&f);
}

Test(form, encoded_names)
{
    struct form f;

    cr_assert_eq(parse("my+name%5B%5D=x", 0, &f), 0);
    cr_assert_str_eq(form_get(&f, "my name[]"), "x");
    form_free(&f);
}

Test(form, bad_escape_refused_whole)
{
    struct form f;

    cr_assert_eq(parse("a=1&b=%zz", 0, &f), -KITH_EENCODING);
    cr_assert_eq(f.n, 0);
    cr_assert_null(f.fields);
    form_free(&f); /* safe after an error */
    cr_assert_eq(parse("a=%0", 0, &f), -KITH_EENCODING);
    cr_assert_eq(parse("a%00=1", 0, &f), -KITH_EENCODING);
    cr_assert_eq(parse("a=x%00", 0, &f), -KITH_EENCODING);
}

Test(form, field_limit)
{
    struct form f;

    cr_assert_eq(parse("a=1&b=2&c=3", 3, &f), 0);
    cr_assert_eq(f.n, 3);
    form_free(&f);
    cr_assert_eq(parse("a=1&b=2&c=3&d=4", 3, &f), -KITH_ETOOBIG);
    cr_assert_eq(f.n, 0);
    /* empty pairs do not count */
    cr_assert_eq(parse("a=1&&&b=2&&c=3&", 3, &f), 0);
    form_free(&f);
}

Test(form, default_limit)
{
    char big[FORM_FIELDS_MAX * 4 + 8];
    struct form f;
    size_t n = 0;

    for (int i = 0; i < FORM_FIELDS_MAX; i++)
        n += (size_t)sprintf(big + n, "a=%d&", i % 10);
    big[n] = '\0';
    cr_assert_eq(form_parse(big, n, 0, &f), 0);
    cr_assert_eq(f.n, FORM_FIELDS_MAX);
    form_free(&f);
    strcpy(big + n, "z=1");
    cr_assert_eq(form_parse(big, n + 3, 0, &f), -KITH_ETOOBIG);
}

Test(form, not_nul_terminated_input)
{
    static const char text[] = "a=1&b=2XXXX";
    struct form f;

    cr_assert_eq(form_parse(text, 7, 0, &f), 0);
    cr_assert_str_eq(form_get(&f, "b"), "2");
    form_free(&f);
}

Test(cookie, find_and_quotes)
{
    char v[16];

    cr_assert_eq(form_cookie_get("a=1; kith_session=abc; b=2", "kith_session", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "abc");
    cr_assert_eq(form_cookie_get("a=1;b=\"q v\"", "b", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "q v");
    cr_assert_eq(form_cookie_get("x=1; a=first; a=second", "a", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "first");
    cr_assert_eq(form_cookie_get("a=", "a", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "");
    cr_assert_eq(form_cookie_get("  a=1  ;", "a", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "1");
}

Test(cookie, missing_and_too_long)
{
    char v[4];

    cr_assert_eq(form_cookie_get("ab=1; xa=2", "a", v, sizeof(v)), -KITH_ENOTFOUND);
    cr_assert_eq(form_cookie_get("a", "a", v, sizeof(v)), -KITH_ENOTFOUND);
    cr_assert_eq(form_cookie_get("", "a", v, sizeof(v)), -KITH_ENOTFOUND);
    cr_assert_eq(form_cookie_get(NULL, "a", v, sizeof(v)), -KITH_ENOTFOUND);
    cr_assert_eq(form_cookie_get("a=1234", "a", v, sizeof(v)), -KITH_EBUFSIZE);
    cr_assert_str_eq(v, "");
    cr_assert_eq(form_cookie_get("a=123", "a", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "123");
}
