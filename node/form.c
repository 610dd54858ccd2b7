/*
 * form: urlencoded forms, query strings, percent-decoding and the Cookie
 * header (see form.h). A form is decoded in two passes over the text: the
 * first counts the pairs (so the field array is allocated once and the
 * limit is checked before any work), the second decodes every pair into
 * one buffer no longer than the text plus a NUL per name and value.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "form.h"
#include "kith/error.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int form_percent_decode(const char *in, size_t n, int plus_space, char *out, size_t *out_len)
{
    size_t i = 0, o = 0;

    while (i < n) {
        char c = in[i];

        if (c == '%') {
            int hi, lo;

            if (n - i < 3)
                return -KITH_EENCODING;
            hi = hexval(in[i + 1]);
            lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -KITH_EENCODING;
            c = (char)(hi << 4 | lo);
            if (c == '\0')
                return -KITH_EENCODING;
            i += 3;
        } else {
            if (c == '\0')
                return -KITH_EENCODING;
            if (c == '+' && plus_space)
                c = ' ';
            i++;
        }
        out[o++] = c;
    }
    *out_len = o;
    return 0;
}

void form_free(struct form *f)
{
    if (f->buf != NULL)
        sodium_memzero(f->buf, f->buf_len);
    free(f->buf);
    free(f->fields);
    f->fields = NULL;
    f->n = 0;
    f->buf = NULL;
    f->buf_len = 0;
}

/* Decode one name or value into f->buf at *pos and NUL-terminate it. */
static int decode_part(struct form *f, size_t *pos, const char *s, size_t n, const char **out,
                       size_t *len)
{
    size_t got;
    int r = form_percent_decode(s, n, 1, f->buf + *pos, &got);

    if (r < 0)
        return r;
    *out = f->buf + *pos;
    f->buf[*pos + got] = '\0';
    *pos += got + 1;
    if (len != NULL)
        *len = got;
    return 0;
}

int form_parse(const char *text, size_t n, size_t max_fields, struct form *out)
{
    size_t pairs = 0, pos = 0, i = 0;
    int r;

    memset(out, 0, sizeof(*out));
    if (max_fields == 0)
        max_fields = FORM_FIELDS_MAX;
    while (i < n) {
        const char *amp = memchr(text + i, '&', n - i);
        size_t end = amp != NULL ? (size_t)(amp - text) : n;

        if (end > i && ++pairs > max_fields)
            return -KITH_ETOOBIG;
        i = end + 1;
    }
    if (pairs == 0)
        return 0;
    out->fields = calloc(pairs, sizeof(*out->fields));
    out->buf_len = n + 2 * pairs;
    out->buf = malloc(out->buf_len);
    if (out->fields == NULL || out->buf == NULL) {
        r = -ENOMEM;
        goto fail;
    }
    for (i = 0; i < n;) {
        const char *amp = memchr(text + i, '&', n - i);
        size_t end = amp != NULL ? (size_t)(amp - text) : n;
        const char *eq = memchr(text + i, '=', end - i);
        size_t name_end = eq != NULL ? (size_t)(eq - text) : end;
        size_t value_start = eq != NULL ? name_end + 1 : end;
        struct form_field *fl = &out->fields[out->n];

        if (end > i) {
            r = decode_part(out, &pos, text + i, name_end - i, &fl->name, NULL);
            if (r < 0)
                goto fail;
            r = decode_part(out, &pos, text + value_start, end - value_start, &fl->value,
                            &fl->value_len);
            if (r < 0)
                goto fail;
            out->n++;
        }
        i = end + 1;
    }
    return 0;
fail:
    form_free(out);
    return r;
}

const char *form_get(const struct form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->fields[i].name, name) == 0)
            return f->fields[i].value;
    return NULL;
}

size_t form_count(const struct form *f, const char *name)
{
    size_t c = 0;

    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->fields[i].name, name) == 0)
            c++;
    return c;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int form_cookie_get(const char *header, const char *name, char *out, size_t cap)
{
    size_t name_len = strlen(name);
    const char *p = header;

    if (cap > 0)
        out[0] = '\0';
    if (header == NULL)
        return -KITH_ENOTFOUND;
    while (*p != '\0') {
        const char *end = strchr(p, ';');
        const char *eq, *v, *vend;

        if (end == NULL)
            end = p + strlen(p);
        while (p < end && is_ows(*p))
            p++;
        eq = memchr(p, '=', (size_t)(end - p));
        if (eq != NULL && (size_t)(eq - p) == name_len && memcmp(p, name, name_len) == 0) {
            v = eq + 1;
            vend = end;
            while (vend > v && is_ows(vend[-1]))
                vend--;
            if (vend - v >= 2 && v[0] == '"' && vend[-1] == '"') {
                v++;
                vend--;
            }
            if ((size_t)(vend - v) >= cap)
                return -KITH_EBUFSIZE;
            memcpy(out, v, (size_t)(vend - v));
            out[vend - v] = '\0';
            return 0;
        }
        p = *end == ';' ? end + 1 : end;
    }
    return -KITH_ENOTFOUND;
}
