/*
 * webtmpl: compile Mustache-subset templates into operations and render
 * them over jansson values (see webtmpl.h). A template is compiled once: a
 * flat array of operations where each section knows where it ends, so
 * rendering never re-parses text and a syntax error shows at start, not on
 * some page later.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kith/error.h"
#include "webtmpl.h"

enum op_kind { OP_TEXT, OP_VAR, OP_RAW, OP_SECTION, OP_INVERTED, OP_PARTIAL };

struct op {
    enum op_kind kind;
    size_t off, len; /* OP_TEXT: the text in src; others: the name in src */
    size_t end;      /* sections: index of the first op after the section */
};

struct tmpl {
    char name[WEBTMPL_NAME_MAX + 1];
    char *src;
    struct op *ops;
    size_t n_ops;
};

struct webtmpl {
    struct tmpl *v;
    size_t n;
};

/* ---- output ---- */

int webtmpl_buf_put(struct webtmpl_buf *out, const char *s, size_t n)
{
    if (out->len + n + 1 > out->cap) {
        size_t cap = out->cap ? out->cap : 1024;
        char *p;

        while (cap < out->len + n + 1)
            cap *= 2;
        p = realloc(out->p, cap);
        if (p == NULL)
            return -ENOMEM;
        out->p = p;
        out->cap = cap;
    }
    if (n > 0)
        memcpy(out->p + out->len, s, n);
    out->len += n;
    out->p[out->len] = '\0';
    return 0;
}

int webtmpl_buf_puts(struct webtmpl_buf *out, const char *s)
{
    return webtmpl_buf_put(out, s, strlen(s));
}

int webtmpl_buf_escape(struct webtmpl_buf *out, const char *s, size_t n)
{
    size_t start = 0;
    int r = 0;

    for (size_t i = 0; i < n && r == 0; i++) {
        const char *ent = NULL;

        switch (s[i]) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            continue;
        }
        r = webtmpl_buf_put(out, s + start, i - start);
        if (r == 0)
            r = webtmpl_buf_puts(out, ent);
        start = i + 1;
    }
    return r == 0 ? webtmpl_buf_put(out, s + start, n - start) : r;
}

/* ---- compiling ---- */

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int tmpl_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > WEBTMPL_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!name_char(name[i]))
            return 0;
    }
    return 1;
}

/* A tag's name: "." or keys of name characters joined by single dots. */
static int tag_name_ok(const char *s, size_t n)
{
    if (n == 1 && s[0] == '.')
        return 1;
    if (n == 0 || n > WEBTMPL_NAME_MAX || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' ? s[i + 1] == '.' : !name_char(s[i]))
            return 0;
    }
    return 1;
}

static void set_err(char *err, const char *name, const char *src, size_t at, const char *what)
{
    size_t line = 1;

    if (err == NULL)
        return;
    for (size_t i = 0; i < at; i++)
        line += src[i] == '\n';
    snprintf(err, WEBTMPL_ERR_MAX, "template %s line %zu: %s", name, line, what);
}

static int push_op(struct tmpl *t, size_t *cap, enum op_kind kind, size_t off, size_t len)
{
    if (t->n_ops == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        struct op *v = realloc(t->ops, ncap * sizeof(*v));

        if (v == NULL)
            return -ENOMEM;
        t->ops = v;
        *cap = ncap;
    }
    t->ops[t->n_ops].kind = kind;
    t->ops[t->n_ops].off = off;
    t->ops[t->n_ops].len = len;
    t->ops[t->n_ops].end = 0;
    t->n_ops++;
    return 0;
}

static void trim(const char *s, size_t *off, size_t *len)
{
    while (*len > 0 && (s[*off] == ' ' || s[*off] == '\t')) {
        (*off)++;
        (*len)--;
    }
    while (*len > 0 && (s[*off + *len - 1] == ' ' || s[*off + *len - 1] == '\t'))
        (*len)--;
}

/* The first needle (nlen bytes) in hay (n bytes), or NULL. */
static const char *find_str(const char *hay, size_t n, const char *needle, size_t nlen)
{
    for (size_t i = 0; i + nlen <= n; i++) {
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
            return hay + i;
    }
    return NULL;
}

static int compile(struct tmpl *t, size_t n, char *err)
{
    const char *s = t->src;
    size_t stack[WEBTMPL_DEPTH_MAX], depth = 0, cap = 0, i = 0;
    int r;

    while (i < n) {
        const char *open = find_str(s + i, n - i, "{{", 2);
        size_t at = open != NULL ? (size_t)(open - s) : n, body, blen, close;
        int triple, kind;
        const char *end;

        if (at > i && (r = push_op(t, &cap, OP_TEXT, i, at - i)) < 0)
            return r;
        if (open == NULL)
            break;
        triple = at + 2 < n && s[at + 2] == '{';
        body = at + 2 + (size_t)triple;
        end = find_str(s + body, n - body, triple ? "}}}" : "}}", triple ? 3 : 2);
        if (end == NULL) {
            set_err(err, t->name, s, at, "a tag is not closed");
            return -KITH_EENCODING;
        }
        close = (size_t)(end - s);
        i = close + 2 + (size_t)triple;
        kind = triple ? '{' : (body < close ? s[body] : 0);
        if (!triple && (kind == '#' || kind == '^' || kind == '/' || kind == '>' || kind == '&' ||
                        kind == '!'))
            body++;
        if (kind == '!')
            continue;
        blen = close - body;
        trim(s, &body, &blen);
        if (!tag_name_ok(s + body, blen) || (kind == '>' && (blen == 1 && s[body] == '.'))) {
            set_err(err, t->name, s, at, "a tag has a bad name");
            return -KITH_EENCODING;
        }
        switch (kind) {
        case '#':
        case '^':
            if (depth == WEBTMPL_DEPTH_MAX) {
                set_err(err, t->name, s, at, "sections nest too deep");
                return -KITH_EENCODING;
            }
            stack[depth++] = t->n_ops;
            r = push_op(t, &cap, kind == '#' ? OP_SECTION : OP_INVERTED, body, blen);
            break;
        case '/': {
            struct op *o;

            if (depth == 0) {
                set_err(err, t->name, s, at, "a section is closed that was not opened");
                return -KITH_EENCODING;
            }
            o = &t->ops[stack[--depth]];
            if (o->len != blen || memcmp(s + o->off, s + body, blen) != 0) {
                set_err(err, t->name, s, at, "a section is closed by another name");
                return -KITH_EENCODING;
            }
            o->end = t->n_ops;
            r = 0;
            break;
        }
        case '>':
            r = push_op(t, &cap, OP_PARTIAL, body, blen);
            break;
        case '{':
        case '&':
            r = push_op(t, &cap, OP_RAW, body, blen);
            break;
        default:
            r = push_op(t, &cap, OP_VAR, body, blen);
            break;
        }
        if (r < 0)
            return r;
    }
    if (depth > 0) {
        set_err(err, t->name, s, t->ops[stack[depth - 1]].off, "a section is not closed");
        return -KITH_EENCODING;
    }
    return 0;
}

static void tmpl_clear(struct tmpl *t)
{
    free(t->src);
    free(t->ops);
    memset(t, 0, sizeof(*t));
}

int webtmpl_new(struct webtmpl **out)
{
    *out = calloc(1, sizeof(**out));
    return *out != NULL ? 0 : -ENOMEM;
}

void webtmpl_free(struct webtmpl *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        tmpl_clear(&t->v[i]);
    free(t->v);
    free(t);
}

static struct tmpl *find(const struct webtmpl *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strlen(t->v[i].name) == len && memcmp(t->v[i].name, name, len) == 0)
            return &t->v[i];
    }
    return NULL;
}

int webtmpl_add(struct webtmpl *t, const char *name, const char *text, size_t len, char *err)
{
    struct tmpl nt, *old;
    int r;

    if (!tmpl_name_ok(name))
        return -KITH_EINVAL;
    if (len > WEBTMPL_FILE_MAX)
        return -KITH_ETOOBIG;
    memset(&nt, 0, sizeof(nt));
    memcpy(nt.name, name, strlen(name));
    nt.src = malloc(len + 1);
    if (nt.src == NULL)
        return -ENOMEM;
    if (len > 0)
        memcpy(nt.src, text, len);
    nt.src[len] = '\0';
    r = compile(&nt, len, err);
    if (r < 0) {
        tmpl_clear(&nt);
        return r;
    }
    old = find(t, name, strlen(name));
    if (old != NULL) {
        tmpl_clear(old);
        *old = nt;
        return 0;
    }
    old = realloc(t->v, (t->n + 1) * sizeof(*t->v));
    if (old == NULL) {
        tmpl_clear(&nt);
        return -ENOMEM;
    }
    t->v = old;
    t->v[t->n++] = nt;
    return 0;
}

static int read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    char *p;

    if (f == NULL)
        return -errno;
    p = malloc(WEBTMPL_FILE_MAX + 1);
    if (p == NULL) {
        fclose(f);
        return -ENOMEM;
    }
    n = fread(p, 1, WEBTMPL_FILE_MAX + 1, f);
    if (ferror(f) || n > WEBTMPL_FILE_MAX) {
        int r = ferror(f) ? -EIO : -KITH_ETOOBIG;

        fclose(f);
        free(p);
        return r;
    }
    fclose(f);
    *data = p;
    *len = n;
    return 0;
}

int webtmpl_load_dir(struct webtmpl *t, const char *dir, char *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int r = 0;

    if (d == NULL) {
        r = -errno;
        if (err != NULL)
            snprintf(err, WEBTMPL_ERR_MAX, "cannot open %.100s", dir);
        return r;
    }
    while (r == 0 && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        char name[WEBTMPL_NAME_MAX + 1], path[4096];
        char *data = NULL;
        size_t len = 0;

        if (n <= 5 || n - 5 > WEBTMPL_NAME_MAX || strcmp(e->d_name + n - 5, ".html") != 0 ||
            e->d_name[0] == '.')
            continue;
        memcpy(name, e->d_name, n - 5);
        name[n - 5] = '\0';
        if (!tmpl_name_ok(name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        r = read_file(path, &data, &len);
        if (r == 0)
            r = webtmpl_add(t, name, data, len, err);
        else if (err != NULL)
            snprintf(err, WEBTMPL_ERR_MAX, "cannot read %.100s", e->d_name);
        free(data);
    }
    closedir(d);
    return r;
}

int webtmpl_has(const struct webtmpl *t, const char *name)
{
    return find(t, name, strlen(name)) != NULL;
}

/* ---- rendering ---- */

struct render {
    const struct webtmpl *t;
    json_t *stack[WEBTMPL_DEPTH_MAX * (WEBTMPL_INCLUDE_MAX + 1) + 1];
    size_t depth;
    unsigned includes;
    struct webtmpl_buf *out;
};

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return n > 0;
}

static json_t *lookup(struct render *rd, const char *s, size_t n)
{
    size_t klen = 0;
    json_t *v = NULL;

    if (n == 1 && s[0] == '.')
        return rd->stack[rd->depth - 1];
    while (klen < n && s[klen] != '.')
        klen++;
    for (size_t i = rd->depth; i-- > 0 && v == NULL;) {
        if (json_is_object(rd->stack[i]))
            v = json_object_getn(rd->stack[i], s, klen);
    }
    while (v != NULL && klen < n) {
        size_t start = klen + 1;

        klen = start;
        while (klen < n && s[klen] != '.')
            klen++;
        if (json_is_object(v))
            v = json_object_getn(v, s + start, klen - start);
        else if (json_is_array(v) && klen - start <= 4 && all_digits(s + start, klen - start))
            v = json_array_get(v, (size_t)strtoul(s + start, NULL, 10));
        else
            v = NULL;
    }
    return v;
}

static int truthy(json_t *v)
{
    if (v == NULL || json_is_null(v) || json_is_false(v))
        return 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    if (json_is_real(v))
        return json_real_value(v) != 0.0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    return 1;
}

static int put_value(struct webtmpl_buf *out, json_t *v, int escape)
{
    char num[64];

    if (json_is_string(v))
        return escape ? webtmpl_buf_escape(out, json_string_value(v), json_string_length(v))
                      : webtmpl_buf_put(out, json_string_value(v), json_string_length(v));
    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" PRId64, (int64_t)json_integer_value(v));
        return webtmpl_buf_puts(out, num);
    }
    if (json_is_real(v)) {
        snprintf(num, sizeof(num), "%g", json_real_value(v));
        return webtmpl_buf_puts(out, num);
    }
    if (json_is_true(v))
        return webtmpl_buf_puts(out, "true");
    return 0;
}

static int run(struct render *rd, const struct tmpl *tp, size_t from, size_t to);

static int run_with(struct render *rd, const struct tmpl *tp, size_t from, size_t to, json_t *top)
{
    int r;

    rd->stack[rd->depth++] = top;
    r = run(rd, tp, from, to);
    rd->depth--;
    return r;
}

static int section(struct render *rd, const struct tmpl *tp, size_t i)
{
    const struct op *o = &tp->ops[i];
    json_t *v = lookup(rd, tp->src + o->off, o->len);
    int r = 0;

    if (o->kind == OP_INVERTED)
        return truthy(v) ? 0 : run(rd, tp, i + 1, o->end);
    if (!truthy(v))
        return 0;
    if (json_is_array(v)) {
        for (size_t k = 0; k < json_array_size(v) && r == 0; k++)
            r = run_with(rd, tp, i + 1, o->end, json_array_get(v, k));
        return r;
    }
    if (json_is_object(v))
        return run_with(rd, tp, i + 1, o->end, v);
    return run(rd, tp, i + 1, o->end);
}

static int run(struct render *rd, const struct tmpl *tp, size_t from, size_t to)
{
    int r = 0;

    for (size_t i = from; i < to && r == 0;) {
        const struct op *o = &tp->ops[i];

        switch (o->kind) {
        case OP_TEXT:
            r = webtmpl_buf_put(rd->out, tp->src + o->off, o->len);
            break;
        case OP_VAR:
        case OP_RAW: {
            json_t *v = lookup(rd, tp->src + o->off, o->len);

            r = v != NULL ? put_value(rd->out, v, o->kind == OP_VAR) : 0;
            break;
        }
        case OP_SECTION:
        case OP_INVERTED:
            r = section(rd, tp, i);
            i = o->end;
            continue;
        case OP_PARTIAL: {
            const struct tmpl *p = find(rd->t, tp->src + o->off, o->len);

            if (p == NULL)
                return -KITH_ENOTFOUND;
            if (rd->includes == WEBTMPL_INCLUDE_MAX)
                return -KITH_ETOOBIG;
            rd->includes++;
            r = run(rd, p, 0, p->n_ops);
            rd->includes--;
            break;
        }
        }
        i++;
    }
    return r;
}

int webtmpl_render(const struct webtmpl *t, const char *name, json_t *ctx, struct webtmpl_buf *out)
{
    struct render rd;
    const struct tmpl *tp = find(t, name, strlen(name));

    if (tp == NULL)
        return -KITH_ENOTFOUND;
    memset(&rd, 0, sizeof(rd));
    rd.t = t;
    rd.out = out;
    rd.stack[rd.depth++] = ctx;
    /* Make out a valid string even when nothing is written. */
    return webtmpl_buf_put(out, "", 0) == 0 ? run(&rd, tp, 0, tp->n_ops) : -ENOMEM;
}
