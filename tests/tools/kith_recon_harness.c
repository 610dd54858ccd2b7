/*
 * kith-recon-harness: proto/recon.c behind Negentropy's cross-implementation
 * test protocol, so it can stand in for the reference's test/cpp/harness in
 * its test/fuzz.pl, and so tests/integration/recon.sh can drive two of them.
 *
 * stdin, one command a line (empty lines are ignored):
 *   item,<created>,<hex id>   add an item (before seal)
 *   seal                      sort the items and start a session
 *   initiate                  become the initiator; prints msg,<hex>
 *   msg,<hex>                 a message from the peer. The initiator prints
 *                             have,<hex id> and need,<hex id> lines, then
 *                             done or msg,<hex>; the responder prints msg,<hex>.
 * FRAMESIZELIMIT in the environment sets the frame size limit (0 or unset:
 * none); KITH_RECON_POLICY=adaptive selects the adaptive split policy
 * (unset or "reference": the reference's, byte for byte). Any error prints a line on stderr and
 * exits 1, as the reference's harness dies on an exception.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kith/recon.h"

struct idvec {
    uint8_t (*ids)[KITH_RECON_ID_BYTES];
    size_t n, cap;
};

struct found {
    struct idvec have, need;
};

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode hex (len chars) into out; returns bytes or -1. */
static long unhex(const char *s, size_t len, uint8_t *out)
{
    if (len % 2 != 0)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(len / 2);
}

static void put_hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        putchar(digits[p[i] >> 4]);
        putchar(digits[p[i] & 15]);
    }
}

static int push(struct idvec *v, const uint8_t *id)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        void *p = realloc(v->ids, cap * KITH_RECON_ID_BYTES);

        if (p == NULL)
            return -ENOMEM;
        v->ids = p;
        v->cap = cap;
    }
    memcpy(v->ids[v->n++], id, KITH_RECON_ID_BYTES);
    return 0;
}

static int on_id(void *arg, int have, const uint8_t id[KITH_RECON_ID_BYTES])
{
    struct found *f = arg;

    return push(have ? &f->have : &f->need, id);
}

static int die(const char *what, int rc)
{
    fprintf(stderr, "kith-recon-harness: %s%s%s\n", what, rc ? ": " : "",
            rc ? kith_errname(rc) : "");
    exit(1);
}

static void print_msg(const uint8_t *p, size_t n)
{
    fputs("msg,", stdout);
    put_hex(p, n);
    putchar('\n');
    fflush(stdout);
}

int main(void)
{
    struct kith_recon_array arr;
    struct kith_recon_storage st;
    struct kith_recon r;
    struct found f = {{NULL, 0, 0}, {NULL, 0, 0}};
    size_t frame_limit = 0, cap = 0, out_len;
    uint8_t *in = NULL, *out = NULL;
    char *line = NULL, *env = getenv("FRAMESIZELIMIT");
    const char *pol = getenv("KITH_RECON_POLICY");
    enum kith_recon_policy policy = KITH_RECON_POLICY_REFERENCE;
    size_t line_cap = 0;
    ssize_t got;
    int sealed = 0, initiator = 0, rc;

    if (env != NULL && *env != '\0') {
        char *end;

        errno = 0;
        frame_limit = strtoull(env, &end, 10);
        if (errno != 0 || *end != '\0')
            die("bad FRAMESIZELIMIT", 0);
    }
    if (pol != NULL && strcmp(pol, "adaptive") == 0)
        policy = KITH_RECON_POLICY_ADAPTIVE;
    else if (pol != NULL && *pol != '\0' && strcmp(pol, "reference") != 0)
        die("bad KITH_RECON_POLICY", 0);
    kith_recon_array_init(&arr);
    while ((got = getline(&line, &line_cap, stdin)) >= 0) {
        size_t len = (size_t)got;

        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (strncmp(line, "item,", 5) == 0) {
            uint8_t id[KITH_RECON_ID_BYTES];
            char *comma, *end;
            unsigned long long ts;

            comma = strchr(line + 5, ',');
            if (comma == NULL || sealed)
                die("bad item line", 0);
            errno = 0;
            ts = strtoull(line + 5, &end, 10);
            if (errno != 0 || end != comma || !isdigit((unsigned char)line[5]))
                die("bad item timestamp", 0);
            if (unhex(comma + 1, strlen(comma + 1), id) != KITH_RECON_ID_BYTES ||
                strlen(comma + 1) != 2 * KITH_RECON_ID_BYTES)
                die("bad item id", 0);
            if ((rc = kith_recon_array_add(&arr, ts, id)) < 0)
                die("add", rc);
        } else if (strcmp(line, "seal") == 0) {
            if (sealed)
                die("already sealed", 0);
            if ((rc = kith_recon_array_seal(&arr)) < 0)
                die("seal", rc);
            kith_recon_array_storage(&arr, &st);
            if ((rc = kith_recon_init_policy(&r, &st, frame_limit, 0, policy)) < 0)
                die("frame size limit", rc);
            sealed = 1;
        } else if (strcmp(line, "initiate") == 0) {
            uint8_t first[KITH_RECON_INITIATE_MAX];

            if (!sealed)
                die("not sealed", 0);
            if ((rc = kith_recon_initiate(&r, first, sizeof(first), &out_len)) < 0)
                die("initiate", rc);
            initiator = 1;
            print_msg(first, out_len);
        } else if (strncmp(line, "msg", 3) == 0 && (line[3] == ',' || line[3] == '\0')) {
            const char *hex = line[3] ? line + 4 : "";
            size_t hex_len = strlen(hex), need;
            long in_len;

            if (!sealed)
                die("not sealed", 0);
            free(in);
            in = malloc(hex_len / 2 + 1);
            if (in == NULL)
                die("out of memory", 0);
            if ((in_len = unhex(hex, hex_len, in)) < 0)
                die("bad hex in msg", 0);
            if ((rc = kith_recon_out_max(&r, in, (size_t)in_len, &need)) < 0)
                die("reconcile", rc);
            if (need > cap) {
                free(out);
                out = malloc(need);
                if (out == NULL)
                    die("out of memory", 0);
                cap = need;
            }
            f.have.n = f.need.n = 0;
            rc = kith_recon_reconcile(&r, in, (size_t)in_len, initiator ? on_id : NULL, &f, out,
                                      cap, &out_len);
            if (rc < 0)
                die("reconcile", rc);
            for (size_t i = 0; i < f.have.n; i++) {
                fputs("have,", stdout);
                put_hex(f.have.ids[i], KITH_RECON_ID_BYTES);
                putchar('\n');
            }
            for (size_t i = 0; i < f.need.n; i++) {
                fputs("need,", stdout);
                put_hex(f.need.ids[i], KITH_RECON_ID_BYTES);
                putchar('\n');
            }
            if (initiator && out_len == 0) {
                puts("done");
                fflush(stdout);
            } else {
                print_msg(out, out_len);
            }
        } else {
            die("unknown command", 0);
        }
    }
    if (sealed)
        kith_recon_free(&r);
    kith_recon_array_free(&arr);
    free(f.have.ids);
    free(f.need.ids);
    free(in);
    free(out);
    free(line);
    return 0;
}
