/*
 * Tests for proto/msg.c: known-answer bytes for every session message (the
 * hex was written with Python's struct module from the layouts in
 * proto/PROTOCOL.md, not with msg.c), round trips, every truncation, every
 * limit with its exact code, the POSTS builder, and splitting long messages
 * into pieces and back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "kith/msg.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;

    cr_assert_leq(n, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;

        cr_assert_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

#define HEX_HELLO "01000100000000001000000b6b6974686420302e312e30"
#define HEX_PING "020102030405060708"
#define HEX_PONG "03fedcba9876543210"
#define HEX_BYE "0402"
#define HEX_ERROR "0500020d6672616d6520746f6f20626967"
#define HEX_RECON "200161"

static uint8_t ids[64], proofs[64], p85[85], p86[86], p_push[85];

/* The inputs of the known answers, as structs. */
static struct kith_msg kat(uint8_t type)
{
    struct kith_msg m;

    memset(&m, 0, sizeof(m));
    memset(ids, 0xaa, 32);
    memset(ids + 32, 0xbb, 32);
    for (int i = 0; i < 64; i++)
        proofs[i] = (uint8_t)i;
    memset(p85, 0x11, sizeof(p85));
    memset(p86, 0x22, sizeof(p86));
    memset(p_push, 0x33, sizeof(p_push));
    m.type = type;
    switch (type) {
    case KITH_MSG_HELLO:
        m.u.hello.version = 1;
        m.u.hello.max_msg = 1u << 20;
        m.u.hello.software = "kithd 0.1.0";
        m.u.hello.software_len = 11;
        break;
    case KITH_MSG_PING:
        m.u.ping.nonce = 0x0102030405060708ull;
        break;
    case KITH_MSG_PONG:
        m.u.ping.nonce = 0xfedcba9876543210ull;
        break;
    case KITH_MSG_BYE:
        m.u.bye.reason = KITH_BYE_VERSION;
        break;
    case KITH_MSG_ERROR:
        m.u.error.code = KITH_ETOOBIG - KITH_ERRBASE;
        m.u.error.reason = "frame too big";
        m.u.error.reason_len = 13;
        break;
    case KITH_MSG_PROOF:
        m.u.proof.proofs = proofs;
        m.u.proof.count = 2;
        break;
    case KITH_MSG_RECON:
        m.u.recon.group = 1;
        m.u.recon.data = (const uint8_t *)"\x61";
        m.u.recon.len = 1;
        break;
    case KITH_MSG_WANT:
        m.u.want.group = 0;
        m.u.want.ids = ids;
        m.u.want.count = 2;
        break;
    case KITH_MSG_PUSH:
        m.u.push.post = p_push;
        m.u.push.len = sizeof(p_push);
        break;
    default:
        cr_assert_fail("no struct for type %u", type);
    }
    return m;
}

/* The known-answer bytes of each type. */
static size_t kat_bytes(uint8_t type, uint8_t *out, size_t cap)
{
    size_t n = 0;

    switch (type) {
    case KITH_MSG_HELLO:
        return unhex(HEX_HELLO, out, cap);
    case KITH_MSG_PING:
        return unhex(HEX_PING, out, cap);
    case KITH_MSG_PONG:
        return unhex(HEX_PONG, out, cap);
    case KITH_MSG_BYE:
        return unhex(HEX_BYE, out, cap);
    case KITH_MSG_ERROR:
        return unhex(HEX_ERROR, out, cap);
    case KITH_MSG_RECON:
        return unhex(HEX_RECON, out, cap);
    case KITH_MSG_PROOF:
        n = unhex("1002", out, cap);
        for (int i = 0; i < 64; i++)
            out[n++] = (uint8_t)i;
        return n;
    case KITH_MSG_WANT:
        n = unhex("30000002", out, cap);
        memset(out + n, 0xaa, 32);
        memset(out + n + 32, 0xbb, 32);
        return n + 64;
    case KITH_MSG_POSTS:
        n = unhex("31000200000055", out, cap);
        memset(out + n, 0x11, 85);
        n += 85;
        n += unhex("00000056", out + n, cap - n);
        memset(out + n, 0x22, 86);
        return n + 86;
    case KITH_MSG_PUSH:
        out[0] = 0x32;
        memset(out + 1, 0x33, 85);
        return 86;
    default:
        cr_assert_fail("no bytes for type %u", type);
    }
    return 0;
}

static const uint8_t TYPES[] = {KITH_MSG_HELLO, KITH_MSG_PING,  KITH_MSG_PONG,  KITH_MSG_BYE,
                                KITH_MSG_ERROR, KITH_MSG_PROOF, KITH_MSG_RECON, KITH_MSG_WANT,
                                KITH_MSG_POSTS, KITH_MSG_PUSH};
#define N_TYPES (sizeof(TYPES) / sizeof(TYPES[0]))

Test(msg, known_answers_encode)
{
    uint8_t want[256], out[256];
    size_t n, len;

    for (size_t t = 0; t < N_TYPES; t++) {
        struct kith_msg m;

        if (TYPES[t] == KITH_MSG_POSTS)
            continue; /* built with the builder below */
        m = kat(TYPES[t]);
        n = kat_bytes(TYPES[t], want, sizeof(want));
        cr_assert_eq(kith_msg_encode(&m, out, sizeof(out), &len), 0, "type %u", TYPES[t]);
        cr_assert_eq(len, n, "type %u", TYPES[t]);
        cr_assert_arr_eq(out, want, n, "type %u", TYPES[t]);
        /* One byte short of room: nothing fits. */
        cr_assert_eq(kith_msg_encode(&m, out, n - 1, &len), -KITH_EBUFSIZE);
    }
}

Test(msg, known_answer_posts_builder)
{
    struct kith_msg_posts_builder b;
    uint8_t want[256], out[256];
    size_t n, len;

    kat(KITH_MSG_PING); /* fills p85 and p86 */
    n = kat_bytes(KITH_MSG_POSTS, want, sizeof(want));
    cr_assert_eq(n, 182);
    cr_assert_eq(kith_msg_posts_begin(&b, out, sizeof(out)), 0);
    cr_assert_eq(kith_msg_posts_end(&b, &len), -KITH_EENCODING);
    cr_assert_eq(kith_msg_posts_add(&b, p85, 85), 0);
    cr_assert_eq(kith_msg_posts_add(&b, p86, 86), 0);
    cr_assert_eq(kith_msg_posts_end(&b, &len), 0);
    cr_assert_eq(len, n);
    cr_assert_arr_eq(out, want, n);

    /* A third post does not fit in what is left of 256 bytes. */
    cr_assert_eq(kith_msg_posts_begin(&b, out, n + 4 + 84), 0);
    cr_assert_eq(kith_msg_posts_add(&b, p85, 85), 0);
    cr_assert_eq(kith_msg_posts_add(&b, p86, 86), 0);
    cr_assert_eq(kith_msg_posts_add(&b, p85, 85), -KITH_EBUFSIZE);
    cr_assert_eq(kith_msg_posts_add(&b, p85, 84), -KITH_ETRUNCATED);
    cr_assert_eq(kith_msg_posts_add(&b, p85, KITH_POST_SEALED_MAX + 1), -KITH_ETOOBIG);
    cr_assert_eq(kith_msg_posts_end(&b, &len), 0);
    cr_assert_eq(len, n);
    cr_assert_arr_eq(out, want, n);
    cr_assert_eq(kith_msg_posts_begin(&b, out, 2), -KITH_EBUFSIZE);
}

Test(msg, known_answers_decode)
{
    uint8_t in[256], out[256];
    struct kith_msg m;
    size_t n, len, off = 0;
    const uint8_t *post;

    for (size_t t = 0; t < N_TYPES; t++) {
        n = kat_bytes(TYPES[t], in, sizeof(in));
        cr_assert_eq(kith_msg_decode(in, n, &m), 0, "type %u", TYPES[t]);
        cr_assert_eq(m.type, TYPES[t]);
        cr_assert_eq(kith_msg_encode(&m, out, sizeof(out), &len), 0);
        cr_assert_eq(len, n);
        cr_assert_arr_eq(out, in, n, "type %u", TYPES[t]);
    }

    n = kat_bytes(KITH_MSG_HELLO, in, sizeof(in));
    cr_assert_eq(kith_msg_decode(in, n, &m), 0);
    cr_assert_eq(m.u.hello.version, 1);
    cr_assert_eq(m.u.hello.features, 0);
    cr_assert_eq(m.u.hello.max_msg, 1u << 20);
    cr_assert_eq(m.u.hello.software_len, 11);
    cr_assert_arr_eq(m.u.hello.software, "kithd 0.1.0", 11);
    cr_assert_eq((const uint8_t *)m.u.hello.software, in + 12); /* a view, not a copy */

    n = kat_bytes(KITH_MSG_PONG, in, sizeof(in));
    cr_assert_eq(kith_msg_decode(in, n, &m), 0);
    cr_assert_eq(m.u.ping.nonce, 0xfedcba9876543210ull);

    n = kat_bytes(KITH_MSG_ERROR, in, sizeof(in));
    cr_assert_eq(kith_msg_decode(in, n, &m), 0);
    cr_assert_eq(-(KITH_ERRBASE + (int)m.u.error.code), -KITH_ETOOBIG);
    cr_assert_arr_eq(m.u.error.reason, "frame too big", 13);

    n = kat_bytes(KITH_MSG_WANT, in, sizeof(in));
    cr_assert_eq(kith_msg_decode(in, n, &m), 0);
    cr_assert_eq(m.u.want.group, 0);
    cr_assert_eq(m.u.want.count, 2);
    cr_assert_eq(m.u.want.ids, in + 4);

    n = kat_bytes(KITH_MSG_POSTS, in, sizeof(in));
    cr_assert_eq(kith_msg_decode(in, n, &m), 0);
    cr_assert_eq(m.u.posts.count, 2);
    cr_assert_eq(kith_msg_posts_next(&m, &off, &post, &len), 1);
    cr_assert_eq(len, 85);
    cr_assert_eq(post, in + 7);
    cr_assert_eq(kith_msg_posts_next(&m, &off, &post, &len), 1);
    cr_assert_eq(len, 86);
    cr_assert_eq(post[0], 0x22);
    cr_assert_eq(kith_msg_posts_next(&m, &off, &post, &len), 0);

    n = kat_bytes(KITH_MSG_RECON, in, sizeof(in));
    cr_assert_eq(kith_msg_decode(in, n, &m), 0);
    cr_assert_eq(m.u.recon.group, 1);
    cr_assert_eq(m.u.recon.len, 1);
    cr_assert_eq(m.u.recon.data[0], 0x61);
    /* An empty Negentropy part is the "done" mark. */
    cr_assert_eq(kith_msg_decode(in, 2, &m), 0);
    cr_assert_eq(m.u.recon.len, 0);
}

Test(msg, every_truncation)
{
    uint8_t in[256];
    struct kith_msg m;

    for (size_t t = 0; t < N_TYPES; t++) {
        size_t n = kat_bytes(TYPES[t], in, sizeof(in));

        for (size_t cut = 0; cut < n; cut++) {
            int rc = kith_msg_decode(in, cut, &m);

            /* RECON's last field runs to the end: any cut after the group
             * byte is a shorter valid message. */
            if (TYPES[t] == KITH_MSG_RECON && cut >= 2)
                cr_assert_eq(rc, 0);
            else
                cr_assert_eq(rc, -KITH_ETRUNCATED, "type %u cut %zu: %d", TYPES[t], cut, rc);
        }
    }
}

Test(msg, trailing_byte)
{
    uint8_t in[256];
    struct kith_msg m;

    for (size_t t = 0; t < N_TYPES; t++) {
        size_t n = kat_bytes(TYPES[t], in, sizeof(in));
        int rc;

        in[n] = 0;
        rc = kith_msg_decode(in, n + 1, &m);
        /* RECON and PUSH end with their payload, which just grows. */
        if (TYPES[t] == KITH_MSG_RECON || TYPES[t] == KITH_MSG_PUSH)
            cr_assert_eq(rc, 0);
        else
            cr_assert_eq(rc, -KITH_ETRAILING, "type %u: %d", TYPES[t], rc);
    }
}

Test(msg, unknown_types_and_pieces)
{
    uint8_t in[16] = {0};
    struct kith_msg m;
    static const uint8_t unknown[] = {0x00, 0x06, 0x0f, 0x11, 0x21, 0x33, 0x40, 0x7d, 0x80, 0xff};

    for (size_t i = 0; i < sizeof(unknown); i++) {
        in[0] = unknown[i];
        cr_assert_eq(kith_msg_decode(in, sizeof(in), &m), -KITH_EVERSION, "type %u", unknown[i]);
        m.type = unknown[i];
        cr_assert_eq(kith_msg_encode(&m, in, sizeof(in), &(size_t){0}), -KITH_EVERSION);
    }
    in[0] = KITH_MSG_FRAG;
    cr_assert_eq(kith_msg_decode(in, sizeof(in), &m), -KITH_EENCODING);
    in[0] = KITH_MSG_FRAG_END;
    cr_assert_eq(kith_msg_decode(in, sizeof(in), &m), -KITH_EENCODING);
    cr_assert_eq(kith_msg_decode(in, 0, &m), -KITH_ETRUNCATED);
}

/* Decode in (n bytes) expecting rc, and encode the struct expecting rc. */
static void both(struct kith_msg *m, uint8_t *in, size_t n, int rc)
{
    struct kith_msg d;
    static uint8_t out[KITH_POST_SEALED_MAX + 64];
    size_t len;

    if (in != NULL)
        cr_assert_eq(kith_msg_decode(in, n, &d), rc, "decode type %u: %d", in[0],
                     kith_msg_decode(in, n, &d));
    cr_assert_eq(kith_msg_encode(m, out, sizeof(out), &len), rc, "encode type %u", m->type);
}

Test(msg, hello_limits)
{
    uint8_t in[128];
    struct kith_msg m = kat(KITH_MSG_HELLO);
    size_t n = kat_bytes(KITH_MSG_HELLO, in, sizeof(in));
    struct kith_msg d;

    in[2] = 2; /* version 2 */
    m.u.hello.version = 2;
    both(&m, in, n, -KITH_EVERSION);
    cr_assert_eq(kith_msg_decode(in, 3, &d), -KITH_EVERSION); /* known from 2 bytes on */
    cr_assert_eq(d.type, KITH_MSG_HELLO);
    cr_assert_eq(d.u.hello.version, 2);
    in[2] = 1;
    m.u.hello.version = 1;

    in[7] = 0x10, in[8] = 0, in[9] = 0, in[10] = 1; /* max_msg = 1 MiB + 1 */
    m.u.hello.max_msg = KITH_WIRE_MSG_MAX + 1;
    both(&m, in, n, -KITH_ETOOBIG);
    in[7] = 0, in[8] = 1, in[9] = 0x04, in[10] = 0x6d; /* max_msg = KITH_WIRE_MSG_MIN - 1 */
    m.u.hello.max_msg = KITH_WIRE_MSG_MIN - 1;
    cr_assert_eq(KITH_WIRE_MSG_MIN - 1, 0x1046d);
    both(&m, in, n, -KITH_EENCODING);
    in[10] = 0x6e;
    m.u.hello.max_msg = KITH_WIRE_MSG_MIN;
    both(&m, in, n, 0);

    in[14] = 0x7f; /* DEL in the software name */
    m.u.hello.software = "ki\x7fhd 0.1.0";
    both(&m, in, n, -KITH_EENCODING);
    in[14] = 't';

    memset(in + 12, 'a', 33);
    in[11] = 33;
    m.u.hello.software = (const char *)in + 12;
    m.u.hello.software_len = 33;
    both(&m, in, 12 + 33, -KITH_ETOOBIG);
    in[11] = 32;
    m.u.hello.software_len = 32;
    both(&m, in, 12 + 32, 0);
    in[11] = 0;
    m.u.hello.software_len = 0;
    both(&m, in, 12, 0);
}

Test(msg, error_limits)
{
    uint8_t in[128];
    struct kith_msg m = kat(KITH_MSG_ERROR);

    in[0] = KITH_MSG_ERROR, in[1] = 0, in[2] = 9, in[3] = 65;
    memset(in + 4, 'x', 65);
    m.u.error.reason = (const char *)in + 4;
    m.u.error.reason_len = 65;
    both(&m, in, 4 + 65, -KITH_ETOOBIG);
    in[3] = 64;
    m.u.error.reason_len = 64;
    both(&m, in, 4 + 64, 0);
    in[10] = '\n';
    both(&m, in, 4 + 64, -KITH_EENCODING);
    in[10] = 0xc3;
    both(&m, in, 4 + 64, -KITH_EENCODING);
    m.u.error.reason = NULL;
    both(&m, NULL, 0, -KITH_EINVAL);
}

Test(msg, proof_limits)
{
    static uint8_t in[2 + 65 * 32];
    struct kith_msg m;

    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_PROOF;
    in[0] = KITH_MSG_PROOF;
    in[1] = 65;
    m.u.proof.proofs = in + 2;
    m.u.proof.count = 65;
    both(&m, in, sizeof(in), -KITH_ETOOBIG);
    in[1] = 64;
    m.u.proof.count = 64;
    both(&m, in, sizeof(in) - 32, 0);
    in[1] = 0; /* no proof at all is allowed: the session then ends */
    m.u.proof.count = 0;
    both(&m, in, 2, 0);
}

Test(msg, recon_want_limits)
{
    static uint8_t in[4 + 1025 * 32];
    struct kith_msg m;

    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_RECON;
    in[0] = KITH_MSG_RECON;
    in[1] = 64;
    m.u.recon.group = 64;
    both(&m, in, 2, -KITH_ETOOBIG);
    in[1] = 63;
    m.u.recon.group = 63;
    both(&m, in, 2, 0);

    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_WANT;
    m.u.want.ids = in + 4;
    in[0] = KITH_MSG_WANT;
    in[1] = 64, in[2] = 0, in[3] = 1;
    m.u.want.group = 64;
    m.u.want.count = 1;
    both(&m, in, 4 + 32, -KITH_ETOOBIG);
    in[1] = 63;
    m.u.want.group = 63;
    both(&m, in, 4 + 32, 0);
    in[2] = 0x04, in[3] = 0x01; /* 1025 ids */
    m.u.want.count = 1025;
    both(&m, NULL, 0, -KITH_ETOOBIG);
    cr_assert_eq(kith_msg_decode(in, sizeof(in), &m), -KITH_ETOOBIG);
    in[2] = 0x04, in[3] = 0x00;
    cr_assert_eq(kith_msg_decode(in, sizeof(in) - 32, &m), 0);
    cr_assert_eq(m.u.want.count, 1024);
    in[2] = 0, in[3] = 0;
    m.u.want.count = 0;
    both(&m, in, 4, -KITH_EENCODING);
}

Test(msg, posts_and_push_limits)
{
    static uint8_t in[8 + KITH_POST_SEALED_MAX + 1];
    struct kith_msg m;
    size_t big = KITH_POST_SEALED_MAX + 1;

    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_POSTS;
    in[0] = KITH_MSG_POSTS, in[1] = 0, in[2] = 0;
    m.u.posts.entries = in + 3;
    both(&m, in, 3, -KITH_EENCODING); /* empty batch */
    in[1] = 0x10, in[2] = 0x01;       /* 4097 posts */
    m.u.posts.count = 4097;
    both(&m, in, 3, -KITH_ETOOBIG);

    in[1] = 0, in[2] = 1;
    m.u.posts.count = 1;
    in[3] = 0, in[4] = 0, in[5] = 0, in[6] = 84; /* a post shorter than outer + tag */
    m.u.posts.entries_len = 4 + 84;
    both(&m, in, 7 + 84, -KITH_ETRUNCATED);
    in[4] = (uint8_t)(big >> 16), in[5] = (uint8_t)(big >> 8), in[6] = (uint8_t)big;
    m.u.posts.entries_len = 4 + big;
    both(&m, in, 7 + big, -KITH_ETOOBIG);
    in[6] = (uint8_t)(big - 1);
    m.u.posts.entries_len = 4 + big - 1;
    cr_assert_eq(kith_msg_decode(in, 7 + big - 1, &m), 0);
    cr_assert_eq(kith_msg_decode(in, 7 + big, &m), -KITH_ETRAILING);

    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_PUSH;
    m.u.push.post = in + 1;
    in[0] = KITH_MSG_PUSH;
    m.u.push.len = 84;
    both(&m, in, 85, -KITH_ETRUNCATED);
    m.u.push.len = big;
    both(&m, in, 1 + big, -KITH_ETOOBIG);
    m.u.push.len = big - 1;
    both(&m, in, big, 0);
    m.u.push.post = NULL;
    both(&m, NULL, 0, -KITH_EINVAL);
}

Test(msg, over_the_message_limit)
{
    size_t n = KITH_WIRE_MSG_MAX + 1;
    uint8_t *in = calloc(1, n);
    struct kith_msg m;

    cr_assert_not_null(in);
    in[0] = KITH_MSG_RECON;
    cr_assert_eq(kith_msg_decode(in, n, &m), -KITH_ETOOBIG);
    cr_assert_eq(kith_msg_decode(in, n - 1, &m), 0);
    m.u.recon.len = n - 2;
    cr_assert_eq(kith_msg_encode(&m, in, n, &(size_t){0}), -KITH_ETOOBIG);
    free(in);
}

Test(msg, posts_builder_count_limit)
{
    size_t cap = KITH_WIRE_MSG_MAX;
    uint8_t *out = malloc(cap), post[KITH_WIRE_POST_MIN];
    struct kith_msg_posts_builder b;
    struct kith_msg m;
    size_t len, off = 0, seen = 0;
    const uint8_t *p;
    int rc;

    cr_assert_not_null(out);
    memset(post, 0x5a, sizeof(post));
    cr_assert_eq(kith_msg_posts_begin(&b, out, cap), 0);
    for (size_t i = 0; i < KITH_WIRE_POSTS_MAX; i++)
        cr_assert_eq(kith_msg_posts_add(&b, post, sizeof(post)), 0);
    cr_assert_eq(kith_msg_posts_add(&b, post, sizeof(post)), -KITH_EBUFSIZE);
    cr_assert_eq(kith_msg_posts_end(&b, &len), 0);
    cr_assert_eq(len, 3 + KITH_WIRE_POSTS_MAX * (4 + sizeof(post)));
    cr_assert_eq(kith_msg_decode(out, len, &m), 0);
    cr_assert_eq(m.u.posts.count, KITH_WIRE_POSTS_MAX);
    while ((rc = kith_msg_posts_next(&m, &off, &p, &len)) == 1) {
        cr_assert_eq(len, sizeof(post));
        seen++;
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(seen, KITH_WIRE_POSTS_MAX);
    free(out);
}

/* ---- Pieces ---- */

static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + i / 251);
}

/* Split msg into pieces, feed them, and check the message comes back. */
static void split_join(const uint8_t *msg, size_t len, size_t want_pieces)
{
    static uint8_t piece[KITH_WIRE_PIECE_MAX];
    uint8_t *buf = malloc(KITH_WIRE_MSG_MAX);
    struct kith_msg_reasm r;
    size_t n = kith_msg_pieces(len), plen, got_len = 0;
    const uint8_t *got = NULL;

    cr_assert_not_null(buf);
    cr_assert_eq(n, want_pieces, "len %zu: %zu pieces", len, n);
    kith_msg_reasm_init(&r, buf, KITH_WIRE_MSG_MAX);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(kith_msg_piece(msg, len, i, piece, sizeof(piece), &plen), 0);
        cr_assert_leq(plen, KITH_WIRE_PIECE_MAX);
        if (i + 1 < n) {
            cr_assert_eq(plen, KITH_WIRE_PIECE_MAX);
            cr_assert_eq(piece[0], KITH_MSG_FRAG);
            cr_assert_eq(kith_msg_reasm_feed(&r, piece, plen, &got, &got_len), 0);
        } else {
            cr_assert_eq(piece[0], n == 1 ? msg[0] : KITH_MSG_FRAG_END);
            cr_assert_eq(kith_msg_reasm_feed(&r, piece, plen, &got, &got_len), 1);
        }
    }
    cr_assert_eq(got_len, len);
    cr_assert_arr_eq(got, msg, len);
    cr_assert_eq(kith_msg_piece(msg, len, n, piece, sizeof(piece), &plen), -KITH_EINVAL);
    /* A whole message after a reassembled one is fine. */
    piece[0] = KITH_MSG_PING;
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, 9, &got, &got_len), 1);
    cr_assert_eq(got, piece);
    free(buf);
}

Test(msg, pieces_round_trip)
{
    uint8_t *msg = malloc(KITH_WIRE_MSG_MAX);
    size_t chunk = KITH_WIRE_PIECE_MAX - 1;

    cr_assert_not_null(msg);
    fill(msg, KITH_WIRE_MSG_MAX);
    msg[0] = KITH_MSG_RECON;
    split_join(msg, 9, 1);
    split_join(msg, KITH_WIRE_PIECE_MAX, 1);
    split_join(msg, KITH_WIRE_PIECE_MAX + 1, 2);
    split_join(msg, 2 * chunk, 2);
    split_join(msg, 2 * chunk + 1, 3);
    split_join(msg, KITH_WIRE_MSG_MAX, (KITH_WIRE_MSG_MAX + chunk - 1) / chunk);
    cr_assert_eq(kith_msg_pieces(0), 0);
    cr_assert_eq(kith_msg_pieces(KITH_WIRE_MSG_MAX + 1), 0);
    cr_assert_eq(kith_msg_piece(msg, 0, 0, msg, 10, &(size_t){0}), -KITH_EINVAL);
    cr_assert_eq(kith_msg_piece(msg, 100, 0, msg + 200, 99, &(size_t){0}), -KITH_EBUFSIZE);
    cr_assert_eq(kith_msg_piece(msg, KITH_WIRE_PIECE_MAX + 1, 1, msg + 200, 2, &(size_t){0}),
                 -KITH_EBUFSIZE);
    free(msg);
}

Test(msg, pieces_refused)
{
    static uint8_t piece[KITH_WIRE_PIECE_MAX + 1], buf[3 * KITH_WIRE_PIECE_MAX];
    struct kith_msg_reasm r;
    const uint8_t *got;
    size_t got_len;

    memset(piece, 0x44, sizeof(piece));
    kith_msg_reasm_init(&r, buf, sizeof(buf));
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, 0, &got, &got_len), -KITH_ETRUNCATED);
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, KITH_WIRE_PIECE_MAX + 1, &got, &got_len),
                 -KITH_ETOOBIG);

    piece[0] = KITH_MSG_FRAG; /* not full size */
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, KITH_WIRE_PIECE_MAX - 1, &got, &got_len),
                 -KITH_EENCODING);
    piece[0] = KITH_MSG_FRAG_END; /* no FRAG before it */
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, 100, &got, &got_len), -KITH_EENCODING);

    piece[0] = KITH_MSG_FRAG;
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, KITH_WIRE_PIECE_MAX, &got, &got_len), 0);
    piece[0] = KITH_MSG_PING; /* a whole message between pieces */
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, 9, &got, &got_len), -KITH_EENCODING);

    kith_msg_reasm_reset(&r);
    piece[0] = KITH_MSG_FRAG;
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, KITH_WIRE_PIECE_MAX, &got, &got_len), 0);
    piece[0] = KITH_MSG_FRAG_END;
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, 1, &got, &got_len), -KITH_ETRUNCATED);
    /* FRAG + 1 byte = KITH_WIRE_PIECE_MAX bytes: would have fitted in one. */
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, 2, &got, &got_len), -KITH_EENCODING);

    /* Over the buffer: three full FRAGs do not fit in 3 x PIECE_MAX - 1. */
    kith_msg_reasm_init(&r, buf, 3 * (KITH_WIRE_PIECE_MAX - 1) - 1);
    piece[0] = KITH_MSG_FRAG;
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, KITH_WIRE_PIECE_MAX, &got, &got_len), 0);
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, KITH_WIRE_PIECE_MAX, &got, &got_len), 0);
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, KITH_WIRE_PIECE_MAX, &got, &got_len),
                 -KITH_ETOOBIG);
    /* Two full FRAGs fill a buffer of 2 x (PIECE_MAX - 1): no room for the end. */
    kith_msg_reasm_init(&r, buf, 2 * (KITH_WIRE_PIECE_MAX - 1));
    piece[0] = KITH_MSG_FRAG;
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, KITH_WIRE_PIECE_MAX, &got, &got_len), 0);
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, KITH_WIRE_PIECE_MAX, &got, &got_len), 0);
    piece[0] = KITH_MSG_FRAG_END;
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, 2, &got, &got_len), -KITH_ETOOBIG);

    /* A whole message over a small buffer's capacity. */
    kith_msg_reasm_init(&r, buf, 100);
    piece[0] = KITH_MSG_RECON;
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, 101, &got, &got_len), -KITH_ETOOBIG);
    cr_assert_eq(kith_msg_reasm_feed(&r, piece, 100, &got, &got_len), 1);
}
