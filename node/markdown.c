/*
 * markdown: cmark in safe mode plus a pass over the parsed document that
 * keeps only link schemes we trust, turns images into their text, and
 * lowers headings (see markdown.h). Owns nothing beyond one call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmark.h>

#include "kith/error.h"
#include "markdown.h"

int markdown_url_safe(const char *url)
{
    static const char *const ok[] = {"http:", "https:", "mailto:"};
    size_t n = strcspn(url, ":/?#");

    if (url[n] != ':')
        return 1; /* no scheme: a path on this node, or a fragment */
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strncasecmp(url, ok[i], strlen(ok[i])) == 0)
            return 1;
    }
    return 0;
}

/* Replace node by its children (an image by its description, a link by
 * its text). */
static void unwrap(cmark_node *node)
{
    cmark_node *child;

    while ((child = cmark_node_first_child(node)) != NULL)
        cmark_node_insert_before(node, child);
    cmark_node_free(node);
}

static int clean(cmark_node *doc, int shift)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_node **images = NULL; /* links and images to unwrap */
    size_t n_images = 0, cap = 0;
    cmark_event_type ev;
    int r = 0;

    if (it == NULL)
        return -ENOMEM;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        cmark_node_type type = cmark_node_get_type(node);

        if (ev != CMARK_EVENT_ENTER)
            continue;
        if (type == CMARK_NODE_LINK) {
            const char *url = cmark_node_get_url(node);

            if (url == NULL || markdown_url_safe(url))
                continue;
        }
        if (type == CMARK_NODE_LINK || type == CMARK_NODE_IMAGE) {
            /* Unlinking while iterating is not allowed: collect. A link to
             * a scheme we do not trust keeps its text, as an image does. */
            if (n_images == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
                cmark_node **v = realloc(images, ncap * sizeof(*v));

                if (v == NULL) {
                    r = -ENOMEM;
                    break;
                }
                images = v;
                cap = ncap;
            }
            images[n_images++] = node;
        } else if (type == CMARK_NODE_HEADING) {
            int level = cmark_node_get_heading_level(node) + shift;

            cmark_node_set_heading_level(node, level > 6 ? 6 : level);
        }
    }
    cmark_iter_free(it);
    /* Innermost first: an image inside another image's description. */
    for (size_t i = n_images; i-- > 0;)
        unwrap(images[i]);
    free(images);
    return r;
}

int markdown_to_html(const char *text, size_t len, char **out, size_t *out_len)
{
    return markdown_render(text, len, 2, out, out_len);
}

int markdown_render(const char *text, size_t len, int shift, char **out, size_t *out_len)
{
    const int opts = CMARK_OPT_SAFE | CMARK_OPT_NOBREAKS;
    cmark_node *doc;
    char *html;
    int r;

    *out = NULL;
    *out_len = 0;
    if (len > MARKDOWN_INPUT_MAX)
        return -KITH_ETOOBIG;
    doc = cmark_parse_document(text, len, opts);
    if (doc == NULL)
        return -ENOMEM;
    r = clean(doc, shift < 0 ? 0 : shift > 5 ? 5 : shift);
    if (r < 0) {
        cmark_node_free(doc);
        return r;
    }
    html = cmark_render_html(doc, opts);
    cmark_node_free(doc);
    if (html == NULL)
        return -ENOMEM;
    *out = html;
    *out_len = strlen(html);
    return 0;
}
