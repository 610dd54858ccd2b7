/*
 * form: the text formats a browser sends that are not HTTP framing:
 * application/x-www-form-urlencoded bodies and query strings (the same
 * format), percent-decoding, and the Cookie request header.
 *
 * Pure code: no I/O, no globals. A decoded form owns one buffer holding
 * every name and value; it is wiped when freed, because sign-in forms carry
 * passphrases.
 */
#ifndef KITH_FORM_H
#define KITH_FORM_H

#include <stddef.h>

#define FORM_FIELDS_MAX 128 /* the default limit on fields in one form */

/* One decoded field. name and value are NUL-terminated and hold no NUL
 * (a decoded %00 is refused), so they are safe C strings; value_len saves a
 * strlen. */
struct form_field {
    const char *name;
    const char *value;
    size_t value_len;
};

/* A decoded form: fields in the order they came, duplicates kept. */
struct form {
    struct form_field *fields;
    size_t n;
    char *buf; /* the decoded text every field points into */
    size_t buf_len;
};

/*
 * Percent-decode n bytes of in into out (which may be in itself: decoding
 * never lengthens). plus_space: turn '+' into ' ' (forms and queries do;
 * paths do not). Writes *out_len bytes and no NUL.
 * Returns 0, or -KITH_EENCODING: a '%' not followed by two hex digits, or a
 * %00. On error out holds partial output.
 */
int form_percent_decode(const char *in, size_t n, int plus_space, char *out, size_t *out_len);

/*
 * Decode application/x-www-form-urlencoded text (a body, or a query string
 * without its '?'): pairs split at '&', name and value at the first '='
 * ("a" alone is a with an empty value), empty pairs skipped, '+' is a space.
 * At most max_fields fields (0 = FORM_FIELDS_MAX). The text need not be
 * NUL-terminated and is not kept.
 * Returns 0, -KITH_EENCODING (bad percent escape or %00), -KITH_ETOOBIG
 * (more fields than max_fields) or -ENOMEM. On success *out is the
 * caller's: form_free(). On error *out is empty (safe to form_free).
 * Text is not checked to be UTF-8: whoever stores it checks (the service).
 */
int form_parse(const char *text, size_t n, size_t max_fields, struct form *out);

/* The value of the first field called name, or NULL. Lives as long as f. */
const char *form_get(const struct form *f, const char *name);

/* How many fields are called name (pages refuse a duplicated CSRF field). */
size_t form_count(const struct form *f, const char *name);

/* Wipe and free what f holds, and leave it empty. An empty form is fine. */
void form_free(struct form *f);

/*
 * Find cookie name in the value of a Cookie header ("a=1; b=2"): the first
 * cookie of that exact name wins; surrounding double quotes are stripped.
 * The value is copied into out (cap bytes, NUL-terminated).
 * Returns 0, -KITH_ENOTFOUND (no such cookie, or header NULL) or
 * -KITH_EBUFSIZE (the value does not fit; out is then "").
 */
int form_cookie_get(const char *header, const char *name, char *out, size_t cap);

#endif
