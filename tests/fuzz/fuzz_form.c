/*
 * fuzz_form: urlencoded form and query decoding, percent-decoding, Cookie
 * header lookups (node/form.c) and the static file path rules
 * (node/webstatic.c) on arbitrary bytes. Decoded fields must be proper C
 * strings of the length they claim, and decoding must never lengthen.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "kith/error.h"
#include "webstatic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct form f;
    char *copy, *out;
    char v[65];
    const char *type;
    size_t n;
    int r;

    r = form_parse(text, size, 16, &f);
    if (r == 0) {
        for (size_t i = 0; i < f.n; i++) {
            if (strlen(f.fields[i].value) != f.fields[i].value_len)
                abort();
            if (form_get(&f, f.fields[i].name) == NULL || form_count(&f, f.fields[i].name) == 0)
                abort();
        }
    } else if (r != -KITH_EENCODING && r != -KITH_ETOOBIG && r != -ENOMEM) {
        abort();
    }
    form_free(&f);

    out = malloc(size + 1);
    copy = malloc(size + 1);
    if (out == NULL || copy == NULL)
        goto done;
    if (form_percent_decode(text, size, 1, out, &n) == 0 && n > size)
        abort();
    memcpy(copy, data, size);
    copy[size] = '\0';
    r = form_cookie_get(copy, "kith_session", v, sizeof(v));
    if (r == 0 && strlen(v) >= sizeof(v))
        abort();
    if (r != 0 && r != -KITH_ENOTFOUND && r != -KITH_EBUFSIZE)
        abort();
    r = webstatic_check(copy, &type);
    if (r == 0 && (strstr(copy, "..") == copy || strstr(copy, "/..") != NULL ||
                   strchr(copy, '%') != NULL || copy[0] == '/'))
        abort();
done:
    free(out);
    free(copy);
    return 0;
}
