/*
 * Tests for proto/post.c: the known-answer vectors in tests/vectors/post-kat.txt,
 * round trips for every kind, every rule on encode and on decode (with
 * ciphertexts built by hand here, independently of post.c's encoder), and
 * tampering: flipped bits, truncation, wrong key, wrong signer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "kith/post.h"

static uint8_t work[KITH_POST_SEALED_MAX];
static uint8_t sealed[KITH_POST_SEALED_MAX + 64];
static uint8_t plain[KITH_POST_SEALED_MAX];

/* libsodium is set up once, before Criterion forks a process per test. (No
 * TestSuite(.init = ...): cppcheck cannot parse Criterion's macros.) */
__attribute__((constructor)) static void init_sodium(void)
{
    if (sodium_init() < 0)
        abort();
}

/* ---- helpers ------------------------------------------------------------ */

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s);
    size_t bin_len = 0;

    cr_assert_eq(sodium_hex2bin(out, cap, s, n, NULL, &bin_len, NULL), 0, "bad hex: %s", s);
    cr_assert_eq(bin_len * 2, n, "odd hex: %s", s);
    return bin_len;
}

static void keypair(uint8_t seed_byte, uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];

    memset(seed, seed_byte, sizeof(seed));
    crypto_sign_seed_keypair(pk, sk, seed);
}

static const uint8_t GROUP_KEY[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                      12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                      23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* A valid post of the given kind, with a parent where the kind needs one and
 * content where the kind allows it. */
static void make_post(struct kith_post *p, uint8_t kind)
{
    memset(p, 0, sizeof(*p));
    p->outer.version = KITH_POST_VERSION;
    memset(p->outer.group_id, 0x33, sizeof(p->outer.group_id));
    p->outer.epoch = 7;
    p->outer.created_ms = 1234567890123ull;
    memset(p->outer.nonce, 0x44, sizeof(p->outer.nonce));
    p->kind = kind;
    if (kind == KITH_POST_KIND_REPLY || kind == KITH_POST_KIND_EDIT ||
        kind == KITH_POST_KIND_DELETE || kind == KITH_POST_KIND_MODERATION) {
        p->has_parent = 1;
        memset(p->parent, 0x55, sizeof(p->parent));
    }
    if (kind != KITH_POST_KIND_DELETE) {
        p->topic = "assessments";
        p->topic_len = strlen(p->topic);
        p->title = "A title with \xc3\xa9";
        p->title_len = strlen(p->title);
        p->body = "Line one.\n\tIndented line two \xf0\x9f\x99\x82";
        p->body_len = strlen(p->body);
        p->n_attachments = 2;
        memset(p->attachments[0].hash, 0x66, KITH_HASH_BYTES);
        p->attachments[0].size = 1;
        memset(p->attachments[1].hash, 0x77, KITH_HASH_BYTES);
        p->attachments[1].size = KITH_POST_ATTACH_SIZE_MAX;
    }
}

static size_t sign_and_seal(struct kith_post *p, const uint8_t sk[64])
{
    size_t len = 0;

    cr_assert_eq(kith_post_sign(p, sk, work, sizeof(work)), 0);
    cr_assert_eq(kith_post_seal(p, GROUP_KEY, sealed, sizeof(sealed), &len), 0);
    cr_assert_eq(len, kith_post_sealed_size(p));
    return len;
}

static void assert_same_post(const struct kith_post *a, const struct kith_post *b)
{
    cr_assert_arr_eq(&a->outer, &b->outer, sizeof(a->outer));
    cr_assert_arr_eq(a->author, b->author, sizeof(a->author));
    cr_assert_eq(a->kind, b->kind);
    cr_assert_eq(!!a->has_parent, !!b->has_parent);
    if (a->has_parent)
        cr_assert_arr_eq(a->parent, b->parent, sizeof(a->parent));
    cr_assert_eq(a->topic_len, b->topic_len);
    cr_assert_eq(a->title_len, b->title_len);
    cr_assert_eq(a->body_len, b->body_len);
    if (a->topic_len)
        cr_assert_arr_eq(a->topic, b->topic, a->topic_len);
    if (a->title_len)
        cr_assert_arr_eq(a->title, b->title, a->title_len);
    if (a->body_len)
        cr_assert_arr_eq(a->body, b->body, a->body_len);
    cr_assert_eq(a->n_attachments, b->n_attachments);
    for (size_t i = 0; i < a->n_attachments; i++) {
        cr_assert_arr_eq(a->attachments[i].hash, b->attachments[i].hash, KITH_HASH_BYTES);
        cr_assert_eq(a->attachments[i].size, b->attachments[i].size);
    }
    cr_assert_arr_eq(a->sig, b->sig, sizeof(a->sig));
}

/* ---- known-answer vectors ---------------------------------------------- */

struct kat {
    char name[32];
    uint8_t seed[32], pk[32], group_id[32], group_key[32], post_key[32], nonce[24];
    uint32_t epoch;
    uint64_t created_ms;
    uint8_t kind;
    int has_parent;
    uint8_t parent[32];
    char topic[KITH_POST_TOPIC_MAX], title[KITH_POST_TITLE_MAX], body[1024];
    size_t topic_len, title_len, body_len;
    size_t n_att;
    struct kith_attachment_ref att[KITH_POST_ATTACH_MAX];
    uint8_t signed_msg[2048], sig[64], sealed[2048], id[32];
    size_t signed_len, sealed_len;
};

static size_t load_kats(struct kat *k, size_t max)
{
    FILE *f = fopen(KITH_TEST_VECTORS "/post-kat.txt", "r");
    char line[8192];
    size_t n = 0;

    cr_assert_not_null(f, "cannot open the vector file");
    while (fgets(line, sizeof(line), f) != NULL) {
        char *eq, *val;
        struct kat *c = n > 0 ? &k[n - 1] : NULL;

        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (line[0] == '[') {
            cr_assert_lt(n, max);
            memset(&k[n], 0, sizeof(k[n]));
            snprintf(k[n].name, sizeof(k[n].name), "%.*s", (int)strcspn(line + 1, "]"), line + 1);
            n++;
            continue;
        }
        cr_assert_not_null(c, "value before a section");
        eq = strstr(line, " =");
        cr_assert_not_null(eq, "bad line: %s", line);
        *eq = '\0';
        val = eq + 2;
        while (*val == ' ')
            val++;
        if (strcmp(line, "author_seed") == 0)
            unhex(val, c->seed, 32);
        else if (strcmp(line, "author_pk") == 0)
            unhex(val, c->pk, 32);
        else if (strcmp(line, "group_id") == 0)
            unhex(val, c->group_id, 32);
        else if (strcmp(line, "group_key") == 0)
            unhex(val, c->group_key, 32);
        else if (strcmp(line, "post_key") == 0)
            unhex(val, c->post_key, 32);
        else if (strcmp(line, "nonce") == 0)
            unhex(val, c->nonce, 24);
        else if (strcmp(line, "epoch") == 0)
            c->epoch = (uint32_t)strtoul(val, NULL, 10);
        else if (strcmp(line, "created_ms") == 0)
            c->created_ms = strtoull(val, NULL, 10);
        else if (strcmp(line, "kind") == 0)
            c->kind = (uint8_t)strtoul(val, NULL, 10);
        else if (strcmp(line, "parent") == 0)
            c->has_parent = unhex(val, c->parent, 32) == 32;
        else if (strcmp(line, "topic") == 0)
            c->topic_len = unhex(val, (uint8_t *)c->topic, sizeof(c->topic));
        else if (strcmp(line, "title") == 0)
            c->title_len = unhex(val, (uint8_t *)c->title, sizeof(c->title));
        else if (strcmp(line, "body") == 0)
            c->body_len = unhex(val, (uint8_t *)c->body, sizeof(c->body));
        else if (strcmp(line, "attachment") == 0) {
            char *colon = strchr(val, ':');

            cr_assert_not_null(colon);
            *colon = '\0';
            cr_assert_eq(unhex(val, c->att[c->n_att].hash, 32), 32);
            c->att[c->n_att++].size = strtoull(colon + 1, NULL, 10);
        } else if (strcmp(line, "signed") == 0)
            c->signed_len = unhex(val, c->signed_msg, sizeof(c->signed_msg));
        else if (strcmp(line, "sig") == 0)
            unhex(val, c->sig, 64);
        else if (strcmp(line, "sealed") == 0)
            c->sealed_len = unhex(val, c->sealed, sizeof(c->sealed));
        else if (strcmp(line, "id") == 0)
            unhex(val, c->id, 32);
        else
            cr_assert_fail("unknown key %s", line);
    }
    fclose(f);
    return n;
}

static void kat_post(const struct kat *k, struct kith_post *p)
{
    memset(p, 0, sizeof(*p));
    p->outer.version = 1;
    memcpy(p->outer.group_id, k->group_id, 32);
    p->outer.epoch = k->epoch;
    p->outer.created_ms = k->created_ms;
    memcpy(p->outer.nonce, k->nonce, 24);
    p->kind = k->kind;
    p->has_parent = k->has_parent;
    memcpy(p->parent, k->parent, 32);
    p->topic = k->topic;
    p->topic_len = k->topic_len;
    p->title = k->title;
    p->title_len = k->title_len;
    p->body = k->body;
    p->body_len = k->body_len;
    p->n_attachments = k->n_att;
    memcpy(p->attachments, k->att, sizeof(k->att));
}

Test(post, known_answer_vectors)
{
    static struct kat k[8];
    size_t n = load_kats(k, 8);
    static const char *const names[] = {"post", "reply", "delete"};

    cr_assert_eq(n, 3);
    for (size_t i = 0; i < n; i++) {
        struct kith_post p, o;
        uint8_t pk[32], sk[64], id[32], post_key[32];
        size_t len = 0;

        cr_assert_str_eq(k[i].name, names[i]);
        crypto_sign_seed_keypair(pk, sk, k[i].seed);
        cr_assert_arr_eq(pk, k[i].pk, 32, "%s: author key", k[i].name);
        crypto_generichash(post_key, 32, (const uint8_t *)"kith-post-key-v1", 16, k[i].group_key,
                           32);
        cr_assert_arr_eq(post_key, k[i].post_key, 32, "%s: post key", k[i].name);

        kat_post(&k[i], &p);
        cr_assert_eq(kith_post_sign(&p, sk, work, sizeof(work)), 0);
        cr_assert_arr_eq(p.author, k[i].pk, 32);
        cr_assert_arr_eq(p.sig, k[i].sig, 64, "%s: signature", k[i].name);
        cr_assert_eq(kith_post_sealed_size(&p), k[i].sealed_len);
        cr_assert_eq(kith_post_seal(&p, k[i].group_key, sealed, sizeof(sealed), &len), 0);
        cr_assert_eq(len, k[i].sealed_len, "%s: sealed length", k[i].name);
        cr_assert_arr_eq(sealed, k[i].sealed, len, "%s: sealed bytes", k[i].name);
        kith_post_id(sealed, len, id);
        cr_assert_arr_eq(id, k[i].id, 32, "%s: id", k[i].name);

        cr_assert_eq(
            kith_post_open(k[i].sealed, k[i].sealed_len, k[i].group_key, plain, sizeof(plain), &o),
            0);
        assert_same_post(&p, &o);
        cr_assert_eq(o.signed_len, k[i].signed_len);
        cr_assert_arr_eq(o.signed_msg, k[i].signed_msg, o.signed_len);
        cr_assert_eq(kith_post_verify(&o), 0);
        cr_assert_eq(crypto_sign_verify_detached(k[i].sig, k[i].signed_msg, k[i].signed_len, pk),
                     0);
    }
    /* The reply and the delete hang under the first post by its id. */
    cr_assert_arr_eq(k[1].parent, k[0].id, 32);
    cr_assert_arr_eq(k[2].parent, k[0].id, 32);
}

/* ---- round trips -------------------------------------------------------- */

Test(post, round_trip_every_kind)
{
    uint8_t pk[32], sk[64];

    keypair(9, pk, sk);
    for (unsigned k = KITH_POST_KIND_POST; k <= KITH_POST_KIND_KEY_UPDATE; k++) {
        uint8_t kind = (uint8_t)k;
        struct kith_post p, o;
        uint8_t id1[32], id2[32];
        size_t len;

        make_post(&p, kind);
        len = sign_and_seal(&p, sk);
        cr_assert_arr_eq(p.author, pk, 32);
        cr_assert_eq(kith_post_open(sealed, len, GROUP_KEY, plain, len, &o), 0, "kind %u", kind);
        assert_same_post(&p, &o);
        cr_assert_eq(kith_post_verify(&o), 0);
        cr_assert_not_null(kith_post_kind_name(kind));

        /* Sealing the opened post again gives the same bytes: one encoding
         * per post, so one id. */
        kith_post_id(sealed, len, id1);
        cr_assert_eq(kith_post_seal(&o, GROUP_KEY, work, sizeof(work), &len), 0);
        kith_post_id(work, len, id2);
        cr_assert_arr_eq(id1, id2, 32);
    }
}

Test(post, largest_post_is_sealed_max)
{
    static char body[KITH_POST_BODY_MAX];
    char topic[KITH_POST_TOPIC_MAX], title[KITH_POST_TITLE_MAX];
    struct kith_post p, o;
    uint8_t pk[32], sk[64];
    size_t len;

    keypair(3, pk, sk);
    memset(body, 'b', sizeof(body));
    memset(topic, 't', sizeof(topic));
    memset(title, 'T', sizeof(title));
    make_post(&p, KITH_POST_KIND_REPLY);
    p.topic = topic;
    p.topic_len = sizeof(topic);
    p.title = title;
    p.title_len = sizeof(title);
    p.body = body;
    p.body_len = sizeof(body);
    p.n_attachments = KITH_POST_ATTACH_MAX;
    len = sign_and_seal(&p, sk);
    cr_assert_eq(len, KITH_POST_SEALED_MAX);
    cr_assert_eq(kith_post_open(sealed, len, GROUP_KEY, plain, sizeof(plain), &o), 0);
    assert_same_post(&p, &o);
    cr_assert_eq(kith_post_verify(&o), 0);
}

Test(post, kind_names)
{
    static const char *const want[] = {NULL,     "post",    "reply",      "edit",
                                       "delete", "profile", "moderation", "key-update"};

    for (unsigned k = 0; k < 8; k++) {
        if (want[k] == NULL)
            cr_assert_null(kith_post_kind_name((uint8_t)k));
        else
            cr_assert_str_eq(kith_post_kind_name((uint8_t)k), want[k]);
    }
    cr_assert_null(kith_post_kind_name(8));
    cr_assert_null(kith_post_kind_name(255));
}

/* ---- rules on encode ---------------------------------------------------- */

static void expect_sign_error(struct kith_post *p, int want)
{
    struct kith_post before = *p;
    uint8_t pk[32], sk[64];
    size_t len = 12345;

    keypair(5, pk, sk);
    cr_assert_eq(kith_post_sign(p, sk, work, sizeof(work)), want);
    cr_assert_arr_eq(p, &before, sizeof(*p), "sign changed the post on error");
    cr_assert_eq(kith_post_seal(p, GROUP_KEY, sealed, sizeof(sealed), &len), want);
    cr_assert_eq(len, 12345);
    cr_assert_eq(kith_post_sealed_size(p), 0);
}

Test(post, sign_rejects_oversized_fields)
{
    static char big[KITH_POST_BODY_MAX + 1];
    struct kith_post p;

    memset(big, 'x', sizeof(big));
    make_post(&p, KITH_POST_KIND_POST);
    p.topic = big;
    p.topic_len = KITH_POST_TOPIC_MAX + 1;
    expect_sign_error(&p, -KITH_ETOOBIG);

    make_post(&p, KITH_POST_KIND_POST);
    p.title = big;
    p.title_len = KITH_POST_TITLE_MAX + 1;
    expect_sign_error(&p, -KITH_ETOOBIG);

    make_post(&p, KITH_POST_KIND_POST);
    p.body = big;
    p.body_len = KITH_POST_BODY_MAX + 1;
    expect_sign_error(&p, -KITH_ETOOBIG);

    make_post(&p, KITH_POST_KIND_POST);
    p.n_attachments = KITH_POST_ATTACH_MAX + 1;
    expect_sign_error(&p, -KITH_ETOOBIG);

    make_post(&p, KITH_POST_KIND_POST);
    p.attachments[1].size = KITH_POST_ATTACH_SIZE_MAX + 1;
    expect_sign_error(&p, -KITH_ETOOBIG);
}

Test(post, sign_rejects_kind_and_parent_faults)
{
    struct kith_post p;

    make_post(&p, KITH_POST_KIND_POST);
    p.kind = 0;
    expect_sign_error(&p, -KITH_EKIND);
    p.kind = 8;
    expect_sign_error(&p, -KITH_EKIND);

    static const uint8_t no_parent[] = {KITH_POST_KIND_POST, KITH_POST_KIND_PROFILE,
                                        KITH_POST_KIND_KEY_UPDATE};
    static const uint8_t need_parent[] = {KITH_POST_KIND_REPLY, KITH_POST_KIND_EDIT,
                                          KITH_POST_KIND_DELETE, KITH_POST_KIND_MODERATION};
    for (size_t i = 0; i < sizeof(no_parent); i++) {
        make_post(&p, no_parent[i]);
        p.has_parent = 1;
        expect_sign_error(&p, -KITH_EPARENT);
    }
    for (size_t i = 0; i < sizeof(need_parent); i++) {
        make_post(&p, need_parent[i]);
        p.has_parent = 0;
        expect_sign_error(&p, -KITH_EPARENT);
    }

    /* A delete carries nothing but its parent. */
    make_post(&p, KITH_POST_KIND_DELETE);
    p.body = "x";
    p.body_len = 1;
    expect_sign_error(&p, -KITH_EKIND);
    make_post(&p, KITH_POST_KIND_DELETE);
    p.title = "x";
    p.title_len = 1;
    expect_sign_error(&p, -KITH_EKIND);
    make_post(&p, KITH_POST_KIND_DELETE);
    p.topic = "x";
    p.topic_len = 1;
    expect_sign_error(&p, -KITH_EKIND);
    make_post(&p, KITH_POST_KIND_DELETE);
    p.n_attachments = 1;
    expect_sign_error(&p, -KITH_EKIND);
}

Test(post, sign_rejects_bad_text)
{
    static const char *const bad_body[] = {
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\x80",     /* overlong NUL */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf8\x88\x80\x80\x80",
        "\xe2\x82", /* cut short */
        "\x80",     /* lone continuation byte */
        "a\rb",     /* CR: front ends turn CRLF into LF */
        "\x7f",     /* DEL */
        "\xc2\x85", /* C1 control NEL */
        "\x1b[31m", /* ESC */
        "a\xff",
    };
    struct kith_post p;

    for (size_t i = 0; i < sizeof(bad_body) / sizeof(bad_body[0]); i++) {
        make_post(&p, KITH_POST_KIND_POST);
        p.body = bad_body[i];
        p.body_len = strlen(bad_body[i]);
        expect_sign_error(&p, -KITH_EENCODING);
    }
    make_post(&p, KITH_POST_KIND_POST);
    p.body = "nul\0inside";
    p.body_len = 10;
    expect_sign_error(&p, -KITH_EENCODING);

    /* Titles and topics are one line: no \n or \t. */
    make_post(&p, KITH_POST_KIND_POST);
    p.title = "two\nlines";
    p.title_len = strlen(p.title);
    expect_sign_error(&p, -KITH_EENCODING);
    make_post(&p, KITH_POST_KIND_POST);
    p.topic = "tab\there";
    p.topic_len = strlen(p.topic);
    expect_sign_error(&p, -KITH_EENCODING);
}

Test(post, check_text_boundaries)
{
    cr_assert_eq(kith_post_check_text("", 0, 0), 0);
    cr_assert_eq(kith_post_check_text(NULL, 0, 0), 0);
    cr_assert_eq(kith_post_check_text(NULL, 1, 0), -KITH_EINVAL);
    cr_assert_eq(kith_post_check_text("\xc2\xa0", 2, 0), 0);               /* U+00A0 */
    cr_assert_eq(kith_post_check_text("\xc2\x9f", 2, 0), -KITH_EENCODING); /* U+009F */
    cr_assert_eq(kith_post_check_text("\xed\x9f\xbf", 3, 0), 0);           /* U+D7FF */
    cr_assert_eq(kith_post_check_text("\xee\x80\x80", 3, 0), 0);           /* U+E000 */
    cr_assert_eq(kith_post_check_text("\xf4\x8f\xbf\xbf", 4, 0), 0);       /* U+10FFFF */
    cr_assert_eq(kith_post_check_text("\xf0\x8f\xbf\xbf", 4, 0), -KITH_EENCODING);
    cr_assert_eq(kith_post_check_text("a\nb\tc", 5, 1), 0);
    cr_assert_eq(kith_post_check_text("a\nb", 3, 0), -KITH_EENCODING);
    cr_assert_eq(kith_post_check_text("\xe2\x82\xac", 2, 1), -KITH_EENCODING);
}

Test(post, sign_rejects_bad_arguments)
{
    struct kith_post p;
    uint8_t pk[32], sk[64];
    size_t need;

    keypair(5, pk, sk);
    make_post(&p, KITH_POST_KIND_POST);
    p.body = NULL;
    expect_sign_error(&p, -KITH_EINVAL);

    make_post(&p, KITH_POST_KIND_POST);
    p.outer.version = 2;
    expect_sign_error(&p, -KITH_EVERSION);

    make_post(&p, KITH_POST_KIND_POST);
    need = kith_post_sealed_size(&p);
    cr_assert_gt(need, 0);
    cr_assert_eq(kith_post_sign(&p, sk, work, need - 1), -KITH_EBUFSIZE);
    cr_assert_eq(kith_post_sign(&p, sk, NULL, need), -KITH_EINVAL);
    cr_assert_eq(kith_post_sign(&p, sk, work, need), 0);
    /* The plaintext lent to sign does not stay in the work buffer. */
    for (size_t i = 0; i < need; i++)
        cr_assert_eq(work[i], 0);

    size_t len = 0;
    cr_assert_eq(kith_post_seal(&p, GROUP_KEY, sealed, need - 1, &len), -KITH_EBUFSIZE);
    cr_assert_eq(kith_post_seal(&p, GROUP_KEY, sealed, need, &len), 0);
    cr_assert_eq(len, need);

    struct kith_post o;
    cr_assert_eq(kith_post_open(sealed, len, GROUP_KEY, plain, len - 1, &o), -KITH_EBUFSIZE);
    cr_assert_eq(kith_post_open(sealed, len, GROUP_KEY, plain, len, &o), 0);

    /* verify works on opened posts only. */
    cr_assert_eq(kith_post_verify(&p), -KITH_EINVAL);
}

/* ---- tampering ---------------------------------------------------------- */

Test(post, every_flipped_bit_is_refused)
{
    static struct kat k[8];
    size_t n = load_kats(k, 8);

    for (size_t v = 0; v < n; v++) {
        uint8_t *s = k[v].sealed;
        size_t len = k[v].sealed_len;

        for (size_t bit = 0; bit < len * 8; bit++) {
            struct kith_post o;
            int want = bit < 8 ? -KITH_EVERSION : -KITH_EDECRYPT;

            s[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            cr_assert_eq(kith_post_open(s, len, k[v].group_key, plain, sizeof(plain), &o), want,
                         "%s: bit %zu", k[v].name, bit);
            s[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        struct kith_post o;
        cr_assert_eq(kith_post_open(s, len, k[v].group_key, plain, sizeof(plain), &o), 0);
        cr_assert_eq(kith_post_verify(&o), 0);
    }
}

Test(post, every_truncation_is_refused)
{
    uint8_t pk[32], sk[64];
    struct kith_post p, o;
    size_t len;

    keypair(1, pk, sk);
    make_post(&p, KITH_POST_KIND_REPLY);
    len = sign_and_seal(&p, sk);
    for (size_t cut = 0; cut < len; cut++) {
        int want =
            cut < KITH_POST_OUTER_BYTES + KITH_POST_TAG_BYTES ? -KITH_ETRUNCATED : -KITH_EDECRYPT;

        cr_assert_eq(kith_post_open(sealed, cut, GROUP_KEY, plain, sizeof(plain), &o), want,
                     "length %zu", cut);
        if (cut < KITH_POST_OUTER_BYTES + KITH_POST_TAG_BYTES)
            cr_assert_eq(kith_post_decode_outer(sealed, cut, &o.outer), -KITH_ETRUNCATED);
    }
    /* An extra byte after the tag breaks the tag too. */
    sealed[len] = 0;
    cr_assert_eq(kith_post_open(sealed, len + 1, GROUP_KEY, plain, sizeof(plain), &o),
                 -KITH_EDECRYPT);
}

Test(post, wrong_group_key_is_refused)
{
    uint8_t pk[32], sk[64], other[32];
    struct kith_post p, o;
    size_t len;

    keypair(1, pk, sk);
    make_post(&p, KITH_POST_KIND_POST);
    len = sign_and_seal(&p, sk);
    memcpy(other, GROUP_KEY, 32);
    other[31] ^= 1;
    cr_assert_eq(kith_post_open(sealed, len, other, plain, sizeof(plain), &o), -KITH_EDECRYPT);
    /* Nothing of the post is left behind on failure. */
    for (size_t i = 0; i < sizeof(o); i++)
        cr_assert_eq(((uint8_t *)&o)[i], 0);
}

Test(post, wrong_signer_is_refused)
{
    uint8_t pk_a[32], sk_a[64], pk_b[32], sk_b[64];
    struct kith_post p, o;
    size_t len;

    keypair(1, pk_a, sk_a);
    keypair(2, pk_b, sk_b);

    /* Signed by A, then claimed to be B's. */
    make_post(&p, KITH_POST_KIND_POST);
    cr_assert_eq(kith_post_sign(&p, sk_a, work, sizeof(work)), 0);
    memcpy(p.author, pk_b, 32);
    cr_assert_eq(kith_post_seal(&p, GROUP_KEY, sealed, sizeof(sealed), &len), 0);
    cr_assert_eq(kith_post_open(sealed, len, GROUP_KEY, plain, sizeof(plain), &o), 0);
    cr_assert_arr_eq(o.author, pk_b, 32);
    cr_assert_eq(kith_post_verify(&o), -KITH_ESIGNATURE);

    /* Signed, then the body changed before sealing. */
    make_post(&p, KITH_POST_KIND_POST);
    cr_assert_eq(kith_post_sign(&p, sk_a, work, sizeof(work)), 0);
    p.body = "Something else";
    p.body_len = strlen(p.body);
    cr_assert_eq(kith_post_seal(&p, GROUP_KEY, sealed, sizeof(sealed), &len), 0);
    cr_assert_eq(kith_post_open(sealed, len, GROUP_KEY, plain, sizeof(plain), &o), 0);
    cr_assert_eq(kith_post_verify(&o), -KITH_ESIGNATURE);

    /* Signed, then moved to another time (the outer part is signed too). */
    make_post(&p, KITH_POST_KIND_POST);
    cr_assert_eq(kith_post_sign(&p, sk_a, work, sizeof(work)), 0);
    p.outer.created_ms++;
    cr_assert_eq(kith_post_seal(&p, GROUP_KEY, sealed, sizeof(sealed), &len), 0);
    cr_assert_eq(kith_post_open(sealed, len, GROUP_KEY, plain, sizeof(plain), &o), 0);
    cr_assert_eq(kith_post_verify(&o), -KITH_ESIGNATURE);

    /* A good post whose author field is changed after opening. */
    make_post(&p, KITH_POST_KIND_POST);
    len = sign_and_seal(&p, sk_a);
    cr_assert_eq(kith_post_open(sealed, len, GROUP_KEY, plain, sizeof(plain), &o), 0);
    cr_assert_eq(kith_post_verify(&o), 0);
    memcpy(o.author, pk_b, 32);
    cr_assert_eq(kith_post_verify(&o), -KITH_ESIGNATURE);
    o.sig[0] ^= 1;
    memcpy(o.author, pk_a, 32);
    cr_assert_eq(kith_post_verify(&o), -KITH_ESIGNATURE);
}

Test(post, decode_outer)
{
    static struct kat k[8];
    struct kith_post_outer o;

    load_kats(k, 8);
    cr_assert_eq(kith_post_decode_outer(k[1].sealed, k[1].sealed_len, &o), 0);
    cr_assert_eq(o.version, 1);
    cr_assert_arr_eq(o.group_id, k[1].group_id, 32);
    cr_assert_eq(o.epoch, k[1].epoch);
    cr_assert_eq(o.created_ms, k[1].created_ms);
    cr_assert_arr_eq(o.nonce, k[1].nonce, 24);

    memset(sealed, 0, sizeof(sealed));
    sealed[0] = 1;
    cr_assert_eq(kith_post_decode_outer(sealed, KITH_POST_SEALED_MAX, &o), 0);
    cr_assert_eq(kith_post_decode_outer(sealed, KITH_POST_SEALED_MAX + 1, &o), -KITH_ETOOBIG);
    cr_assert_eq(kith_post_open(sealed, KITH_POST_SEALED_MAX + 1, GROUP_KEY, plain, sizeof(plain),
                                &(struct kith_post){0}),
                 -KITH_ETOOBIG);
    sealed[0] = 2;
    cr_assert_eq(kith_post_decode_outer(sealed, 100, &o), -KITH_EVERSION);
    sealed[0] = 0;
    cr_assert_eq(kith_post_decode_outer(sealed, 100, &o), -KITH_EVERSION);
}

/* ---- rules on decode: ciphertexts built by hand ------------------------- */

/* What goes into a hand-built inner part. Content bytes are filled with
 * fill_char; a *_claim field, when non-zero, is written as the length
 * instead of the real one. */
struct spec {
    uint8_t kind, flags, n_att_field;
    size_t topic_len, title_len, body_len;
    const char *body; /* NULL: body_len bytes of 'b' */
    size_t n_att;
    uint64_t att_size;
    uint32_t body_claim;
    size_t trailing; /* zero bytes after the signature */
    size_t cut;      /* bytes cut off the end */
};

static void spec_default(struct spec *s)
{
    memset(s, 0, sizeof(*s));
    s->kind = KITH_POST_KIND_POST;
    s->topic_len = 3;
    s->title_len = 5;
    s->body_len = 10;
}

static void be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* Seal a hand-built inner part with the construction of PROTOCOL.md, using
 * libsodium directly. Returns the sealed length. */
static size_t seal_raw(const struct spec *s)
{
    static uint8_t in[KITH_POST_INNER_MAX + 4096];
    uint8_t key[32];
    unsigned long long clen;
    size_t n = 0;

    memset(in, 0, sizeof(in));
    memset(in, 0xa1, 32); /* author */
    n = 32;
    in[n++] = s->kind;
    in[n++] = s->flags;
    if (s->flags & 1) {
        memset(in + n, 0x5e, 32);
        n += 32;
    }
    in[n++] = (uint8_t)s->topic_len;
    memset(in + n, 't', s->topic_len);
    n += s->topic_len;
    be(in + n, s->title_len, 2);
    n += 2;
    memset(in + n, 'T', s->title_len);
    n += s->title_len;
    be(in + n, s->body_claim ? s->body_claim : s->body_len, 4);
    n += 4;
    if (s->body != NULL)
        memcpy(in + n, s->body, s->body_len);
    else
        memset(in + n, 'b', s->body_len);
    n += s->body_len;
    in[n++] = s->n_att_field ? s->n_att_field : (uint8_t)s->n_att;
    for (size_t i = 0; i < s->n_att; i++) {
        memset(in + n, 0xa7, 32);
        be(in + n + 32, s->att_size, 8);
        n += 40;
    }
    n += KITH_SIG_BYTES + s->trailing; /* a zero signature: verify must refuse it */
    cr_assert_geq(n, s->cut);
    n -= s->cut;

    memset(sealed, 0, KITH_POST_OUTER_BYTES);
    sealed[0] = 1;
    memset(sealed + KITH_POST_OUTER_BYTES - 24, 0x4e, 24);
    crypto_generichash(key, 32, (const uint8_t *)"kith-post-key-v1", 16, GROUP_KEY, 32);
    crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + KITH_POST_OUTER_BYTES, &clen, in, n, sealed,
                                               KITH_POST_OUTER_BYTES, NULL,
                                               sealed + KITH_POST_OUTER_BYTES - 24, key);
    return KITH_POST_OUTER_BYTES + (size_t)clen;
}

static int open_spec(const struct spec *s)
{
    struct kith_post o;
    size_t len = seal_raw(s);
    int rc = kith_post_open(sealed, len, GROUP_KEY, plain, sizeof(plain), &o);

    if (rc < 0) {
        /* On error no plaintext stays behind. */
        for (size_t i = 0; i < len; i++)
            cr_assert_eq(plain[i], 0, "plaintext left at %zu", i);
        for (size_t i = 0; i < sizeof(o); i++)
            cr_assert_eq(((uint8_t *)&o)[i], 0);
    } else {
        cr_assert_eq(kith_post_verify(&o), -KITH_ESIGNATURE);
    }
    return rc;
}

Test(post, open_hand_built_good)
{
    struct spec s;

    spec_default(&s);
    cr_assert_eq(open_spec(&s), 0);
    s.kind = KITH_POST_KIND_REPLY;
    s.flags = 1;
    s.n_att = KITH_POST_ATTACH_MAX;
    s.att_size = KITH_POST_ATTACH_SIZE_MAX;
    s.topic_len = KITH_POST_TOPIC_MAX;
    s.title_len = KITH_POST_TITLE_MAX;
    s.body_len = KITH_POST_BODY_MAX;
    cr_assert_eq(open_spec(&s), 0);
}

Test(post, open_rejects_oversized_fields)
{
    struct spec s;

    spec_default(&s);
    s.topic_len = KITH_POST_TOPIC_MAX + 1;
    cr_assert_eq(open_spec(&s), -KITH_ETOOBIG);
    spec_default(&s);
    s.title_len = KITH_POST_TITLE_MAX + 1;
    cr_assert_eq(open_spec(&s), -KITH_ETOOBIG);
    spec_default(&s);
    s.body_len = KITH_POST_BODY_MAX + 1;
    cr_assert_eq(open_spec(&s), -KITH_ETOOBIG);
    spec_default(&s);
    s.body_claim = 0xffffffffu;
    cr_assert_eq(open_spec(&s), -KITH_ETOOBIG);
    spec_default(&s);
    s.n_att = KITH_POST_ATTACH_MAX + 1;
    cr_assert_eq(open_spec(&s), -KITH_ETOOBIG);
    spec_default(&s);
    s.n_att = 1;
    s.att_size = KITH_POST_ATTACH_SIZE_MAX + 1;
    cr_assert_eq(open_spec(&s), -KITH_ETOOBIG);
}

Test(post, open_rejects_truncated_and_trailing)
{
    struct spec s;

    spec_default(&s);
    s.trailing = 1;
    cr_assert_eq(open_spec(&s), -KITH_ETRAILING);
    spec_default(&s);
    s.cut = 1;
    cr_assert_eq(open_spec(&s), -KITH_ETRUNCATED);
    spec_default(&s);
    s.body_claim = 1000;
    cr_assert_eq(open_spec(&s), -KITH_ETRUNCATED);
    spec_default(&s);
    s.n_att_field = 2; /* says 2, carries none */
    cr_assert_eq(open_spec(&s), -KITH_ETRUNCATED);
    /* Every length short of a whole inner part. */
    for (size_t cut = 1; cut <= 32 + 2 + 1 + 3 + 2 + 5 + 4 + 10 + 1 + 64; cut++) {
        spec_default(&s);
        s.cut = cut;
        cr_assert_eq(open_spec(&s), -KITH_ETRUNCATED, "cut %zu", cut);
    }
}

Test(post, open_rejects_encoding_faults)
{
    struct spec s;

    spec_default(&s);
    s.flags = 0x02;
    cr_assert_eq(open_spec(&s), -KITH_EENCODING);
    spec_default(&s);
    s.flags = 0x80;
    cr_assert_eq(open_spec(&s), -KITH_EENCODING);
    spec_default(&s);
    s.body = "bad \xc0\xaf!";
    s.body_len = 6;
    cr_assert_eq(open_spec(&s), -KITH_EENCODING);
    spec_default(&s);
    s.body = "nul \0 here";
    s.body_len = 10;
    cr_assert_eq(open_spec(&s), -KITH_EENCODING);
    spec_default(&s);
    s.body = "ok\nand\ttab";
    s.body_len = 10;
    cr_assert_eq(open_spec(&s), 0);
}

Test(post, open_rejects_kind_faults)
{
    struct spec s;

    spec_default(&s);
    s.kind = 0;
    cr_assert_eq(open_spec(&s), -KITH_EKIND);
    s.kind = 8;
    cr_assert_eq(open_spec(&s), -KITH_EKIND);
    s.kind = 255;
    cr_assert_eq(open_spec(&s), -KITH_EKIND);

    spec_default(&s);
    s.kind = KITH_POST_KIND_REPLY;
    cr_assert_eq(open_spec(&s), -KITH_EPARENT);
    s.kind = KITH_POST_KIND_MODERATION;
    cr_assert_eq(open_spec(&s), -KITH_EPARENT);
    spec_default(&s);
    s.flags = 1;
    cr_assert_eq(open_spec(&s), -KITH_EPARENT);
    s.kind = KITH_POST_KIND_KEY_UPDATE;
    cr_assert_eq(open_spec(&s), -KITH_EPARENT);

    spec_default(&s);
    s.kind = KITH_POST_KIND_DELETE;
    s.flags = 1;
    cr_assert_eq(open_spec(&s), -KITH_EKIND); /* a delete with content */
    s.topic_len = s.title_len = s.body_len = 0;
    cr_assert_eq(open_spec(&s), 0);
}
