/*
 * Tests for the template renderer (node/webtmpl.c): escaping, raw values,
 * sections over arrays, objects and truth values, inverted sections, dotted
 * names and array items, includes, syntax errors with their line, limits,
 * and that every template shipped in content/web/templates compiles and
 * renders.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kith/error.h"
#include "webtmpl.h"

static struct webtmpl *T;

static void setup(void)
{
    cr_assert_eq(webtmpl_new(&T), 0);
}

static void teardown(void)
{
    webtmpl_free(T);
}

TestSuite(webtmpl, .init = setup, .fini = teardown);

/* Compile src as "t", render over the JSON text data, compare. */
static void expect(const char *src, const char *data, const char *want)
{
    struct webtmpl_buf b = {0};
    json_t *ctx = json_loads(data, 0, NULL);

    cr_assert_not_null(ctx, "bad test data %s", data);
    cr_assert_eq(webtmpl_add(T, "t", src, strlen(src), NULL), 0, "compile %s", src);
    cr_assert_eq(webtmpl_render(T, "t", ctx, &b), 0);
    cr_assert_str_eq(b.p, want, "template %s", src);
    free(b.p);
    json_decref(ctx);
}

Test(webtmpl, variables_are_escaped)
{
    expect("<p>{{x}}</p>", "{\"x\": \"<a href='x'>&\\\"</a>\"}",
           "<p>&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;</p>");
    expect("{{ x }}", "{\"x\": \"plain\"}", "plain");
    expect("[{{missing}}]", "{}", "[]");
    expect("{{n}} {{f}} {{t}} {{z}} {{o}}",
           "{\"n\": -42, \"f\": 1.5, \"t\": true, \"z\": null, "
           "\"o\": {\"a\": 1}}",
           "-42 1.5 true  ");
}

Test(webtmpl, raw_values)
{
    expect("{{{x}}}|{{&x}}", "{\"x\": \"<b>hi</b>\"}", "<b>hi</b>|<b>hi</b>");
}

Test(webtmpl, sections)
{
    expect("{{#a}}<{{.}}>{{/a}}", "{\"a\": [\"x\", \"y\", \"<\"]}", "<x><y><&lt;>");
    expect("{{#a}}{{n}}:{{k}};{{/a}}", "{\"k\": \"outer\", \"a\": [{\"n\": 1}, {\"n\": 2}]}",
           "1:outer;2:outer;");
    expect("{{#o}}{{n}}{{/o}}", "{\"o\": {\"n\": \"in\"}}", "in");
    expect("{{#b}}yes{{/b}}{{^b}}no{{/b}}", "{\"b\": true}", "yes");
    expect("{{#b}}yes{{/b}}{{^b}}no{{/b}}", "{\"b\": false}", "no");
    expect("{{#b}}yes{{/b}}{{^b}}no{{/b}}", "{\"b\": []}", "no");
    expect("{{#b}}yes{{/b}}{{^b}}no{{/b}}", "{\"b\": \"\"}", "no");
    expect("{{#b}}yes{{/b}}{{^b}}no{{/b}}", "{\"b\": 0}", "no");
    expect("{{#b}}yes{{/b}}{{^b}}no{{/b}}", "{\"b\": \"s\"}", "yes");
    expect("{{#b}}yes{{/b}}{{^b}}no{{/b}}", "{}", "no");
    expect("{{#a}}{{#b}}{{c}}{{/b}}{{/a}}", "{\"a\": {\"b\": [{\"c\": 1}, {\"c\": 2}]}}", "12");
}

Test(webtmpl, dotted_names_and_items)
{
    expect("{{a.b.c}}", "{\"a\": {\"b\": {\"c\": \"deep\"}}}", "deep");
    expect("{{a.x.c}}", "{\"a\": {\"b\": 1}}", "");
    expect("{{#a.0}}<ul>{{#a}}<li>{{.}}</li>{{/a}}</ul>{{/a.0}}", "{\"a\": [\"p\", \"q\"]}",
           "<ul><li>p</li><li>q</li></ul>");
    expect("{{#a.0}}<ul></ul>{{/a.0}}", "{\"a\": []}", "");
    expect("{{a.1}}", "{\"a\": [\"p\", \"q\"]}", "q");
}

Test(webtmpl, comments_and_includes)
{
    const char *inc = "[{{x}}]";

    cr_assert_eq(webtmpl_add(T, "inc", inc, strlen(inc), NULL), 0);
    cr_assert(webtmpl_has(T, "inc"));
    cr_assert_not(webtmpl_has(T, "nope"));
    expect("a{{! a comment }}b{{>inc}}{{#l}}{{>inc}}{{/l}}", "{\"x\": 0, \"l\": [{\"x\": 1}]}",
           "ab[0][1]");
}

Test(webtmpl, replacing_a_template)
{
    expect("one", "{}", "one");
    expect("two", "{}", "two");
}

Test(webtmpl, syntax_errors)
{
    static const char *const bad[] = {
        "{{x",      "{{#a}}", "{{/a}}",  "{{#a}}{{/b}}", "{{}}",
        "{{a..b}}", "{{.a}}", "{{a b}}", "{{>.}}",       "{{#a}}{{^b}}{{/a}}{{/b}}",
        "x {{{y}}",
    };
    char err[WEBTMPL_ERR_MAX];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        cr_assert_eq(webtmpl_add(T, "bad", bad[i], strlen(bad[i]), err), -KITH_EENCODING, "%s",
                     bad[i]);
        cr_assert(strncmp(err, "template bad line 1: ", 21) == 0, "%s", err);
    }
    cr_assert_not(webtmpl_has(T, "bad"));
    cr_assert_eq(webtmpl_add(T, "bad", "\n\n{{#x}}", 8, err), -KITH_EENCODING);
    cr_assert_str_eq(err, "template bad line 3: a section is not closed");
}

Test(webtmpl, names_and_limits)
{
    char deep[WEBTMPL_DEPTH_MAX * 12 + 64] = "";
    struct webtmpl_buf b = {0};
    json_t *ctx = json_object();

    cr_assert_eq(webtmpl_add(T, "", "x", 1, NULL), -KITH_EINVAL);
    cr_assert_eq(webtmpl_add(T, "a/b", "x", 1, NULL), -KITH_EINVAL);
    cr_assert_eq(webtmpl_add(T, "ok", "x", WEBTMPL_FILE_MAX + 1, NULL), -KITH_ETOOBIG);
    for (int i = 0; i <= WEBTMPL_DEPTH_MAX; i++)
        strcat(deep, "{{#a}}");
    cr_assert_eq(webtmpl_add(T, "deep", deep, strlen(deep), NULL), -KITH_EENCODING);
    /* An include of itself stops at the include limit. */
    cr_assert_eq(webtmpl_add(T, "loop", "x{{>loop}}", 10, NULL), 0);
    cr_assert_eq(webtmpl_render(T, "loop", ctx, &b), -KITH_ETOOBIG);
    free(b.p);
    b.p = NULL;
    b.len = b.cap = 0;
    cr_assert_eq(webtmpl_add(T, "miss", "{{>nothere}}", 12, NULL), 0);
    cr_assert_eq(webtmpl_render(T, "miss", ctx, &b), -KITH_ENOTFOUND);
    cr_assert_eq(webtmpl_render(T, "nothere", ctx, &b), -KITH_ENOTFOUND);
    free(b.p);
    json_decref(ctx);
}

Test(webtmpl, shipped_templates_compile_and_render)
{
    static const char *const pages[] = {
        "signin",       "signup", "groups",   "join",   "group", "threads", "write",
        "thread",       "reply",  "edit",     "delete", "mine",  "account", "account_name",
        "account_pass", "invite", "settings", "help",   "doc",   "status",  "error"};
    char err[WEBTMPL_ERR_MAX] = "";
    json_t *ctx =
        json_pack("{s:s,s:s,s:{},s:{},s:[]}", "title", "T<", "csrf", "c", "err", "val", "errors");

    cr_assert_eq(webtmpl_load_dir(T, KITH_SOURCE_DIR "/content/web/templates", err), 0, "%s", err);
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        struct webtmpl_buf b = {0};

        cr_assert_eq(webtmpl_render(T, pages[i], ctx, &b), 0, "%s", pages[i]);
        cr_assert(strstr(b.p, "<title>T&lt; – Kith</title>") != NULL, "%s", pages[i]);
        cr_assert(strstr(b.p, "<main id=\"main\"") != NULL, "%s", pages[i]);
        cr_assert(strstr(b.p, "</html>") != NULL, "%s", pages[i]);
        free(b.p);
    }
    json_decref(ctx);
    cr_assert_eq(webtmpl_load_dir(T, "/nonexistent-kith", err), -ENOENT);
}

Test(webtmpl, buffer_helpers)
{
    struct webtmpl_buf b = {0};

    cr_assert_eq(webtmpl_buf_puts(&b, "a"), 0);
    cr_assert_eq(webtmpl_buf_escape(&b, "<&>\"'", 5), 0);
    cr_assert_eq(webtmpl_buf_put(&b, "zz", 1), 0);
    cr_assert_str_eq(b.p, "a&lt;&amp;&gt;&quot;&#39;z");
    cr_assert_eq(b.len, strlen(b.p));
    free(b.p);
}
