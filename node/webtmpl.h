/*
 * webtmpl: the web page's small template renderer. Templates are text files
 * (content/web/templates/NAME.html) loaded once at start and compiled into
 * a list of operations; pages render them over a jansson value.
 *
 * The syntax is a subset of Mustache:
 *   {{name}}        the value at name, HTML-escaped (& < > " ' become entities)
 *   {{{name}}}      the value unescaped: only for HTML this program made
 *                   (rendered Markdown, the QR code's SVG)
 *   {{#name}}..{{/name}}  an array: once per item, the item on top of the
 *                   context; an object: once, with it on top; true, a
 *                   non-empty string or a non-zero number: once; false,
 *                   null, missing, "", 0 or []: not at all
 *   {{^name}}..{{/name}}  once when {{#name}} would render nothing
 *   {{>other}}      the template other, in the current context
 *   {{! comment }}
 * name is "." (the current item) or keys joined by dots ("post.author"): the
 * first key is looked up from the innermost context outwards, the rest
 * inside what it found; a key of digits after the first picks an array
 * item ("posts.0": {{#posts.0}}..{{/posts.0}} renders when posts has any). Numbers render in
 * decimal, true as "true"; null, false, objects and arrays render as nothing.
 *
 * Limits keep any template and any data bounded: sections nest at most
 * WEBTMPL_DEPTH_MAX deep, includes at most WEBTMPL_INCLUDE_MAX deep, names
 * are at most WEBTMPL_NAME_MAX bytes. It owns the templates' text and
 * operations; rendering owns nothing beyond the output buffer.
 */
#ifndef KITH_WEBTMPL_H
#define KITH_WEBTMPL_H

#include <stddef.h>

#include <jansson.h>

#define WEBTMPL_NAME_MAX 64
#define WEBTMPL_DEPTH_MAX 16
#define WEBTMPL_INCLUDE_MAX 8
#define WEBTMPL_FILE_MAX 262144
#define WEBTMPL_ERR_MAX 160

struct webtmpl;

/* A growing output buffer: p holds len bytes and a NUL after them. */
struct webtmpl_buf {
    char *p;
    size_t len, cap;
};

/* An empty set of templates. Returns 0 or -ENOMEM; *out is the caller's:
 * webtmpl_free(). */
int webtmpl_new(struct webtmpl **out);

/* Free every template. NULL is fine. */
void webtmpl_free(struct webtmpl *t);

/*
 * Compile text (len bytes, need not be NUL-terminated) as template name
 * (1-WEBTMPL_NAME_MAX bytes of [A-Za-z0-9_-]) and add it, replacing one of
 * the same name. Returns 0, -KITH_EINVAL (bad name), -KITH_ETOOBIG (over
 * WEBTMPL_FILE_MAX), -KITH_EENCODING (a syntax error: unclosed tag, a
 * section closed by another name or not at all, nesting too deep, a bad
 * name; err (may be NULL, WEBTMPL_ERR_MAX bytes) says where) or -ENOMEM.
 * On error t is unchanged.
 */
int webtmpl_add(struct webtmpl *t, const char *name, const char *text, size_t len, char *err);

/*
 * Load every NAME.html file in dir as template NAME. Returns 0, -errno
 * (the directory or a file cannot be read) or an error of webtmpl_add (err
 * then names the file).
 */
int webtmpl_load_dir(struct webtmpl *t, const char *dir, char *err);

/* 1 if a template called name is loaded, else 0. */
int webtmpl_has(const struct webtmpl *t, const char *name);

/*
 * Render template name over ctx (borrowed) and append to out (zeroed to
 * start; free(out->p) after). Returns 0, -KITH_ENOTFOUND (no such template,
 * also an include of a missing one), -KITH_ETOOBIG (includes nested over
 * WEBTMPL_INCLUDE_MAX) or -ENOMEM. On error out may hold partial output.
 */
int webtmpl_render(const struct webtmpl *t, const char *name, json_t *ctx, struct webtmpl_buf *out);

/* Append n bytes / a string / HTML-escaped text to out. Return 0 or -ENOMEM. */
int webtmpl_buf_put(struct webtmpl_buf *out, const char *s, size_t n);
int webtmpl_buf_puts(struct webtmpl_buf *out, const char *s);
int webtmpl_buf_escape(struct webtmpl_buf *out, const char *s, size_t n);

#endif
