/*
 * fuzz_linebuf: the control socket's line splitter, fed the input in chunks
 * of fuzzer-chosen sizes, must give exactly the lines (and the same
 * too-long verdict) as a plain reference split of the whole input. This is
 * what makes partial reads safe.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "kith/error.h"

#define MAX_LINE 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    size_t n;
    const uint8_t *ref;
    size_t ref_size;
    size_t ref_pos;
};

/* The next line of the reference split, or -1 at its end; -2 for too long. */
static int ref_next(struct seen *s, const uint8_t **line, size_t *len)
{
    while (s->ref_pos < s->ref_size) {
        const uint8_t *p = s->ref + s->ref_pos;
        const uint8_t *nl = memchr(p, '\n', s->ref_size - s->ref_pos);
        size_t n = nl != NULL ? (size_t)(nl - p) : s->ref_size - s->ref_pos;

        if (n > MAX_LINE + 1)
            return -2;
        if (nl == NULL)
            return -1; /* unfinished tail: never delivered */
        s->ref_pos += n + 1;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n > MAX_LINE)
            return -2;
        if (n == 0)
            continue;
        *line = p;
        *len = n;
        return 0;
    }
    return -1;
}

static int on_line(const char *line, size_t len, void *arg)
{
    struct seen *s = arg;
    const uint8_t *want;
    size_t want_len;

    if (ref_next(s, &want, &want_len) != 0 || want_len != len || memcmp(want, line, len) != 0)
        abort();
    s->n++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct control_linebuf lb;
    struct seen s;
    const uint8_t *rest;
    size_t rest_len, pos = 0, step;
    const uint8_t *dummy;
    size_t dummy_len;
    int r = 0, ref;

    if (size < 1)
        return 0;
    /* First byte: the seed for chunk sizes; the rest is the stream. */
    step = (size_t)(data[0] % 17) + 1;
    rest = data + 1;
    rest_len = size - 1;
    memset(&s, 0, sizeof(s));
    s.ref = rest;
    s.ref_size = rest_len;
    control_linebuf_init(&lb, MAX_LINE);
    while (pos < rest_len && r == 0) {
        size_t n = rest_len - pos < step ? rest_len - pos : step;

        r = control_linebuf_feed(&lb, (const char *)rest + pos, n, on_line, &s);
        pos += n;
        step = step * 7 % 23 + 1; /* vary chunk sizes within one run */
    }
    ref = ref_next(&s, &dummy, &dummy_len);
    if (r == -KITH_ETOOBIG) {
        if (ref != -2)
            abort();
    } else if (r != 0 || ref == -2 || ref == 0) {
        abort(); /* both must agree the input held no more lines */
    }
    control_linebuf_free(&lb);
    return 0;
}
