/*
 * Tests for post bodies as HTML (node/markdown.c): CommonMark output, raw
 * HTML dropped, links kept only for trusted schemes, images shown as text,
 * headings lowered, limits.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kith/error.h"
#include "markdown.h"

static void expect(const char *md, const char *want)
{
    char *html = NULL;
    size_t len = 0;

    cr_assert_eq(markdown_to_html(md, strlen(md), &html, &len), 0);
    cr_assert_eq(len, strlen(html));
    cr_assert_str_eq(html, want, "markdown %s", md);
    free(html);
}

Test(markdown, commonmark)
{
    expect("**bold** and *it*", "<p><strong>bold</strong> and <em>it</em></p>\n");
    expect("- a\n- b\n", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n");
    expect("a & b < c", "<p>a &amp; b &lt; c</p>\n");
    expect("", "");
}

Test(markdown, raw_html_is_dropped)
{
    expect("<script>alert(1)</script>", "<!-- raw HTML omitted -->\n");
    expect("x <img src=x onerror=alert(1)> y", "<p>x <!-- raw HTML omitted --> y</p>\n");
    expect("<a href=\"javascript:x\">t</a>",
           "<p><!-- raw HTML omitted -->t<!-- raw HTML omitted --></p>\n");
}

Test(markdown, links)
{
    expect("[a](https://example.org/x?y=1&z=2)",
           "<p><a href=\"https://example.org/x?y=1&amp;z=2\">a</a></p>\n");
    expect("[a](mailto:a@example.org)", "<p><a href=\"mailto:a@example.org\">a</a></p>\n");
    expect("[a](/help)", "<p><a href=\"/help\">a</a></p>\n");
    expect("[click](javascript:alert(1))", "<p>click</p>\n");
    expect("[click](JaVaScRiPt:alert(1))", "<p>click</p>\n");
    expect("[x](data:text/html;base64,PHNjcmlwdD4=)", "<p>x</p>\n");
    expect("[x](vbscript:msgbox)", "<p>x</p>\n");
    expect("<javascript:alert(1)>", "<p>javascript:alert(1)</p>\n");
    expect("[**b**](file:///etc/passwd)", "<p><strong>b</strong></p>\n");
}

Test(markdown, images_are_text)
{
    expect("![a cat](https://example.org/cat.png)", "<p>a cat</p>\n");
    expect("![*x*](data:image/png;base64,AAAA)", "<p><em>x</em></p>\n");
    expect("[![in](http://x/i.png)](javascript:y)", "<p>in</p>\n");
}

Test(markdown, headings_are_lowered)
{
    char *html = NULL;
    size_t len;

    expect("# Big\n## Less\n###### Least", "<h3>Big</h3>\n<h4>Less</h4>\n<h6>Least</h6>\n");
    cr_assert_eq(markdown_render("## Part", 7, 0, &html, &len), 0);
    cr_assert_str_eq(html, "<h2>Part</h2>\n");
    free(html);
}

Test(markdown, url_rule)
{
    cr_assert(markdown_url_safe("https://a"));
    cr_assert(markdown_url_safe("HTTP://a"));
    cr_assert(markdown_url_safe("#frag"));
    cr_assert(markdown_url_safe("/path:with-colon"));
    cr_assert(markdown_url_safe("relative"));
    cr_assert_not(markdown_url_safe("javascript:x"));
    cr_assert_not(markdown_url_safe("data:x"));
    cr_assert_not(markdown_url_safe("ftp://x"));
}

Test(markdown, too_big)
{
    char *html = (char *)1;
    size_t len = 1;

    cr_assert_eq(markdown_to_html("x", MARKDOWN_INPUT_MAX + 1, &html, &len), -KITH_ETOOBIG);
    cr_assert_null(html);
    cr_assert_eq(len, 0);
}
