/*
 * fuzz_markdown: post bodies as HTML (node/markdown.c) on arbitrary bytes.
 * Rendering must succeed (or say -ENOMEM), the output's length is what it
 * says, and no output ever holds what safe mode is there to stop: a script
 * or other raw tag from the input, an attribute other than href, title,
 * start and class (so no event handler), or a link
 * or image to a scheme other than http:, https: or mailto:.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kith/error.h"
#include "markdown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every href="..." in html names a safe target. */
static void check_links(const char *html)
{
    const char *p = html;

    /* The attribute, with the space before it: "href=" can also be text
     * inside another attribute's value (a code block's language). */
    while ((p = strstr(p, " href=\"")) != NULL) {
        char url[64];
        size_t n;

        p += 7;
        n = strcspn(p, "\"");
        if (n >= sizeof(url))
            n = sizeof(url) - 1;
        memcpy(url, p, n);
        url[n] = '\0';
        if (!markdown_url_safe(url))
            abort();
    }
    if (strstr(html, "<img") != NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *html = NULL;
    size_t len = 0;
    int r = markdown_to_html((const char *)data, size, &html, &len);

    if (r == -ENOMEM)
        return 0;
    if (r != 0 || html == NULL || strlen(html) != len)
        abort();
    /* cmark escapes '<' in text; a tag in the output is cmark's own. */
    for (const char *p = html; (p = strchr(p, '<')) != NULL; p++) {
        static const char *const ok[] = {
            "<p>",
            "</p>",
            "<em>",
            "</em>",
            "<strong>",
            "</strong>",
            "<code>",
            "</code>",
            "<pre>",
            "</pre>",
            "<ul>",
            "</ul>",
            "<ol",
            "</ol>",
            "<li>",
            "</li>",
            "<h3>",
            "</h3>",
            "<h4>",
            "</h4>",
            "<h5>",
            "</h5>",
            "<h6>",
            "</h6>",
            "<a ",
            "</a>",
            "<br />",
            "<hr />",
            "<blockquote>",
            "</blockquote>",
            "<!-- raw HTML omitted -->",
            "<pre><code",
            "<code class=",
        };
        size_t i;

        for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
            if (strncmp(p, ok[i], strlen(ok[i])) == 0)
                break;
        }
        if (i == sizeof(ok) / sizeof(ok[0]))
            abort();
        /* Its attributes: cmark writes href, title, start and class only
         * (never an event handler); values are quoted, quotes escaped. */
        for (const char *q = p + 1; *q != '\0' && *q != '>';) {
            const char *a;

            if (*q++ != ' ')
                continue;
            for (a = q; isalpha((unsigned char)*q); q++)
                ;
            if (q[0] != '=' || q[1] != '"')
                continue;
            if (strncmp(a, "href=", 5) != 0 && strncmp(a, "title=", 6) != 0 &&
                strncmp(a, "start=", 6) != 0 && strncmp(a, "class=", 6) != 0)
                abort();
            q = strchr(q + 2, '"');
            if (q == NULL)
                abort();
            q++;
        }
    }
    check_links(html);
    free(html);
    return 0;
}
