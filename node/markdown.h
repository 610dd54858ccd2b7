/*
 * markdown: post bodies as HTML, with cmark (CommonMark) in safe mode. Raw
 * HTML in a body is dropped (cmark writes a comment instead), and a link
 * keeps its target only when it is http:, https:, mailto: or a path with
 * no scheme: a link to javascript:, data:, vbscript:, file: or any other
 * scheme is shown as its text alone. Images are shown as their description text,
 * never fetched (a page must not load anything from outside the node).
 * Headings in a post start at level 3 so the page's own h1/h2 stay on top
 * (markdown_render chooses the shift).
 * Pure code: no globals, no I/O.
 */
#ifndef KITH_MARKDOWN_H
#define KITH_MARKDOWN_H

#include <stddef.h>

/*
 * Render len bytes of Markdown (need not be NUL-terminated) as an HTML
 * fragment. *out is malloc'd and NUL-terminated (*out_len bytes; free()).
 * Returns 0, -KITH_ETOOBIG (over MARKDOWN_INPUT_MAX) or -ENOMEM.
 */
#define MARKDOWN_INPUT_MAX (1u << 20)
int markdown_to_html(const char *text, size_t len, char **out, size_t *out_len);

/* As markdown_to_html, with headings lowered by shift levels (0-5; posts
 * use 2, the node's own help pages 0), at most to level 6. */
int markdown_render(const char *text, size_t len, int shift, char **out, size_t *out_len);

/* 1 if url (NUL-terminated) may be a link target under the rule above. */
int markdown_url_safe(const char *url);

#endif
