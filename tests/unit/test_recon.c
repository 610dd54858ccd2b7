/*
 * Tests for proto/recon.c: varints and bounds with known bytes, fingerprints
 * checked against Python's hashlib, the reference implementation's own
 * conversations (tests/vectors/recon-negentropy.txt) replayed byte for byte,
 * whole reconciliations in memory on random and clustered differences with
 * and without frame size limits, and the exact error for each kind of
 * malformed message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "kith/recon.h"

__attribute__((constructor)) static void init_sodium(void)
{
    if (sodium_init() < 0)
        abort();
}

/* ---- helpers ---- */

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s) / 2;

    cr_assert_leq(n, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;

        cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

static uint64_t rng;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rnd_id(uint8_t id[32])
{
    for (int i = 0; i < 32; i += 8) {
        uint64_t v = rnd();

        memcpy(id + i, &v, 8);
    }
}

/* Ids reported to the initiator, in order. */
struct seen {
    uint8_t (*have)[32], (*need)[32];
    size_t n_have, n_need, cap;
    int fail_after; /* stop with an error after this many reports; -1 never */
};

static int on_id(void *arg, int have, const uint8_t id[32])
{
    struct seen *s = arg;

    if (s->fail_after >= 0 && (size_t)s->fail_after <= s->n_have + s->n_need)
        return -12345;
    if (s->n_have == s->cap || s->n_need == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->have = realloc(s->have, s->cap * 32);
        s->need = realloc(s->need, s->cap * 32);
        cr_assert(s->have != NULL && s->need != NULL);
    }
    memcpy(have ? s->have[s->n_have++] : s->need[s->n_need++], id, 32);
    return 0;
}

static void seen_free(struct seen *s)
{
    free(s->have);
    free(s->need);
}

static int id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* Sort ids and drop repeats; returns the new count and how many it dropped. */
static size_t uniq(uint8_t (*ids)[32], size_t n, size_t *dropped)
{
    size_t k = 0;

    *dropped = 0;
    if (n == 0)
        return 0;
    qsort(ids, n, 32, id_cmp);
    for (size_t i = 0; i < n; i++)
        if (k == 0 || memcmp(ids[k - 1], ids[i], 32) != 0)
            memcpy(ids[k++], ids[i], 32);
    *dropped = n - k;
    return k;
}

struct stats {
    int rounds;
    size_t up, down, max_up, max_down, repeats;
};

/* Run a whole reconciliation in memory and leave the reports in *s. */
static void converse(struct kith_recon_array *a, struct kith_recon_array *b, size_t limit_a,
                     size_t limit_b, struct seen *s, struct stats *st)
{
    struct kith_recon_storage sa, sb;
    struct kith_recon ra, rb;
    uint8_t *m1 = NULL, *m2 = NULL;
    size_t len1, len2, cap1 = 0, cap2 = 0, need;

    kith_recon_array_storage(a, &sa);
    kith_recon_array_storage(b, &sb);
    cr_assert_eq(kith_recon_init(&ra, &sa, limit_a, 0), 0);
    cr_assert_eq(kith_recon_init(&rb, &sb, limit_b, 0), 0);
    memset(st, 0, sizeof(*st));
    cap1 = KITH_RECON_INITIATE_MAX;
    m1 = malloc(cap1);
    cr_assert_eq(kith_recon_initiate(&ra, m1, cap1, &len1), 0);
    for (;;) {
        st->up += len1;
        if (len1 > st->max_up)
            st->max_up = len1;
        cr_assert_eq(kith_recon_out_max(&rb, m1, len1, &need), 0);
        if (need > cap2) {
            free(m2);
            m2 = malloc(need);
            cap2 = need;
        }
        cr_assert_eq(kith_recon_reconcile(&rb, m1, len1, NULL, NULL, m2, cap2, &len2), 0);
        st->down += len2;
        if (len2 > st->max_down)
            st->max_down = len2;
        st->rounds++;
        cr_assert_eq(kith_recon_out_max(&ra, m2, len2, &need), 0);
        if (need > cap1) {
            free(m1);
            m1 = malloc(need);
            cap1 = need;
        }
        cr_assert_eq(kith_recon_reconcile(&ra, m2, len2, on_id, s, m1, cap1, &len1), 0);
        if (len1 == 0)
            break;
        cr_assert_lt(st->rounds, 10000, "no convergence");
    }
    kith_recon_free(&ra);
    kith_recon_free(&rb);
    free(m1);
    free(m2);
}

/* Two sets: n shared items, only_a items only in a, only_b only in b. Ids of
 * the differences go to want_have / want_need (caller frees). Clustered puts
 * all differences at neighbouring timestamps in the middle. */
static void make_sets(struct kith_recon_array *a, struct kith_recon_array *b, size_t n,
                      size_t only_a, size_t only_b, int clustered, uint8_t (**want_have)[32],
                      uint8_t (**want_need)[32])
{
    size_t total = n + only_a + only_b;

    kith_recon_array_init(a);
    kith_recon_array_init(b);
    *want_have = malloc((only_a + 1) * 32);
    *want_need = malloc((only_b + 1) * 32);
    for (size_t i = 0; i < total; i++) {
        uint8_t id[32];
        uint64_t ts = 1700000000 + rnd() % (total / 2 + 1);

        rnd_id(id);
        if (i >= n && clustered)
            ts = 1700000000 + total / 3 + (i - n);
        if (i < n + only_a)
            cr_assert_eq(kith_recon_array_add(a, ts, id), 0);
        if (i < n || i >= n + only_a)
            cr_assert_eq(kith_recon_array_add(b, ts, id), 0);
        if (i >= n && i < n + only_a)
            memcpy((*want_have)[i - n], id, 32);
        if (i >= n + only_a)
            memcpy((*want_need)[i - n - only_a], id, 32);
    }
    cr_assert_eq(kith_recon_array_seal(a), 0);
    cr_assert_eq(kith_recon_array_seal(b), 0);
}

/* Reconcile and check have/need are exactly the differences. Repeated
 * reports are allowed only when the responder has a frame limit (see
 * PROTOCOL.md: a responder that stops early makes the initiator revisit
 * ranges it had settled). */
static void check_case(size_t n, size_t only_a, size_t only_b, int clustered, size_t limit_a,
                       size_t limit_b, struct stats *st)
{
    struct kith_recon_array a, b;
    uint8_t(*want_have)[32], (*want_need)[32];
    struct seen s = {NULL, NULL, 0, 0, 0, -1};
    size_t dh, dn, nh, nn;

    make_sets(&a, &b, n, only_a, only_b, clustered, &want_have, &want_need);
    converse(&a, &b, limit_a, limit_b, &s, st);
    nh = uniq(s.have, s.n_have, &dh);
    nn = uniq(s.need, s.n_need, &dn);
    st->repeats = dh + dn;
    if (limit_b == 0)
        cr_assert_eq(st->repeats, 0);
    cr_assert_eq(nh, only_a);
    cr_assert_eq(nn, only_b);
    if (only_a > 0)
        qsort(want_have, only_a, 32, id_cmp);
    if (only_b > 0)
        qsort(want_need, only_b, 32, id_cmp);
    cr_assert(only_a == 0 || memcmp(s.have, want_have, only_a * 32) == 0);
    cr_assert(only_b == 0 || memcmp(s.need, want_need, only_b * 32) == 0);
    if (limit_a)
        cr_assert_leq(st->max_up, limit_a);
    if (limit_b)
        cr_assert_leq(st->max_down, limit_b);
    fprintf(stderr,
            "recon n=%zu a=%zu b=%zu%s limits=%zu/%zu: %d rounds, %zu bytes up, %zu down"
            " (max frame %zu/%zu, %zu repeats)\n",
            n, only_a, only_b, clustered ? " clustered" : "", limit_a, limit_b, st->rounds, st->up,
            st->down, st->max_up, st->max_down, st->repeats);
    seen_free(&s);
    free(want_have);
    free(want_need);
    kith_recon_array_free(&a);
    kith_recon_array_free(&b);
}

/* ---- varints, sums, fingerprints ---- */

Test(recon, varint_known_bytes)
{
    static const struct {
        uint64_t v;
        const char *hex;
    } kat[] = {
        {0, "00"},
        {1, "01"},
        {127, "7f"},
        {128, "8100"},
        {300, "822c"},
        {16383, "ff7f"},
        {16384, "818000"},
        {1677970534ull, "86a08f9866"},
        {UINT64_MAX, "81ffffffffffffffff7f"},
    };

    for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
        uint8_t b[KITH_RECON_VARINT_MAX];
        char h[2 * KITH_RECON_VARINT_MAX + 1];
        size_t n = kith_recon_varint_encode(kat[i].v, b), used;
        uint64_t back;

        hex(b, n, h);
        cr_assert_str_eq(h, kat[i].hex);
        cr_assert_eq(kith_recon_varint_decode(b, n, &back, &used), 0);
        cr_assert_eq(back, kat[i].v);
        cr_assert_eq(used, n);
    }
}

Test(recon, varint_errors)
{
    uint8_t b[16] = {0};
    uint64_t v;
    size_t used, n;

    cr_assert_eq(kith_recon_varint_decode(b, 0, &v, &used), -KITH_ETRUNCATED);
    n = unhex("8181", b, sizeof(b));
    cr_assert_eq(kith_recon_varint_decode(b, n, &v, &used), -KITH_ETRUNCATED);
    n = unhex("8001", b, sizeof(b)); /* leading zero digit */
    cr_assert_eq(kith_recon_varint_decode(b, n, &v, &used), -KITH_EENCODING);
    n = unhex("82ffffffffffffffff7f", b, sizeof(b)); /* 2^65 - 1 */
    cr_assert_eq(kith_recon_varint_decode(b, n, &v, &used), -KITH_EENCODING);
    n = unhex("81ffffffffffffffffff7f", b, sizeof(b)); /* 11 digits */
    cr_assert_eq(kith_recon_varint_decode(b, n, &v, &used), -KITH_EENCODING);
}

Test(recon, sums_wrap)
{
    uint8_t acc[32], one[32] = {1}, ff[32];

    memset(acc, 0xff, 32);
    memset(ff, 0xff, 32);
    kith_recon_sum_add(acc, one);
    for (int i = 0; i < 32; i++)
        cr_assert_eq(acc[i], 0);
    kith_recon_sum_sub(acc, one);
    cr_assert_eq(memcmp(acc, ff, 32), 0);
    /* 0x..ff00 + 0x..0100 carries across every limb boundary. */
    memset(acc, 0, 32);
    acc[7] = 0xff;
    acc[15] = 0xff;
    one[0] = 0;
    one[7] = 1;
    kith_recon_sum_add(acc, one);
    cr_assert_eq(acc[7], 0);
    cr_assert_eq(acc[8], 1);
}

/*
 * Fingerprints, computed independently with Python:
 *   s = sum(int.from_bytes(bytes.fromhex(i), 'little') for i in ids) % 2**256
 *   hashlib.sha256(s.to_bytes(32, 'little') + varint(len(ids))).hexdigest()[:32]
 * The first three also appear in the Kotlin port's FingerprintTest.
 */
Test(recon, fingerprint_known_answers)
{
    static const char *ids[] = {
        "eb6b05c2e3b008592ac666594d78ed83e7b9ab30f825b9b08878128f7500008c",
        "39b916432333e069a4386917609215cc688eb99f06fed01aadc29b1b4b92d6f0",
        "abc81d58ebe3b9a87100d47f58bf15e9b1cbf62d38623f11d0f0d17179f5f3ba",
    };
    static const char *want[] = {
        "7f9c9e31ac8256ca2f258583df262dbc", "6d74e1212fcafc8a81d090f0ffbde8b0",
        "96b26d110825d4b1805fc56988a3e65d", "c15ce60f185fd24ae341076caa93daa5"};
    uint8_t sum[32] = {0}, id[32], fp[16], ff[32];
    char h[33];

    for (size_t n = 0; n <= 3; n++) {
        if (n > 0) {
            unhex(ids[n - 1], id, sizeof(id));
            kith_recon_sum_add(sum, id);
        }
        kith_recon_fingerprint(sum, n, fp);
        hex(fp, 16, h);
        cr_assert_str_eq(h, want[n]);
    }
    /* 200 ids of all ones: carries out of the top, and a two-byte count. */
    memset(sum, 0, 32);
    memset(ff, 0xff, 32);
    for (int i = 0; i < 200; i++) {
        kith_recon_sum_add(sum, ff);
        if (i == 1) {
            kith_recon_fingerprint(sum, 2, fp);
            hex(fp, 16, h);
            cr_assert_str_eq(h, "c66ec0b91041dd7d6987a5478d39fdb0");
        }
    }
    kith_recon_fingerprint(sum, 200, fp);
    hex(fp, 16, h);
    cr_assert_str_eq(h, "f63366b5996b0ec1e47046561d8d1e01");
}

/* ---- exact messages ---- */

static void array_of(struct kith_recon_array *a, const uint64_t *ts, uint8_t (*ids)[32], size_t n)
{
    kith_recon_array_init(a);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(kith_recon_array_add(a, ts[i], ids[i]), 0);
    cr_assert_eq(kith_recon_array_seal(a), 0);
}

Test(recon, empty_vs_empty)
{
    struct kith_recon_array a;
    struct kith_recon_storage st;
    struct kith_recon ri, rr;
    struct seen s = {NULL, NULL, 0, 0, 0, -1};
    uint8_t m[KITH_RECON_INITIATE_MAX], resp[256], next[256];
    size_t len, rlen, nlen;
    char h[2 * sizeof(m) + 1];

    array_of(&a, NULL, NULL, 0);
    kith_recon_array_storage(&a, &st);
    cr_assert_eq(kith_recon_init(&ri, &st, 0, 0), 0);
    cr_assert_eq(kith_recon_init(&rr, &st, 0, 0), 0);
    cr_assert_eq(kith_recon_initiate(&ri, m, sizeof(m), &len), 0);
    hex(m, len, h);
    /* version, bound infinity (ts 0, no prefix), id list, no ids */
    cr_assert_str_eq(h, "6100000200");
    cr_assert_eq(kith_recon_reconcile(&rr, m, len, NULL, NULL, resp, sizeof(resp), &rlen), 0);
    hex(resp, rlen, h);
    cr_assert_str_eq(h, "6100000200");
    cr_assert_eq(kith_recon_reconcile(&ri, resp, rlen, on_id, &s, next, sizeof(next), &nlen), 0);
    cr_assert_eq(nlen, 0);
    cr_assert_eq(s.n_have + s.n_need, 0);
    /* A second initiate on either side is refused. */
    cr_assert_eq(kith_recon_initiate(&ri, m, sizeof(m), &len), -KITH_EINVAL);
    cr_assert_eq(kith_recon_initiate(&rr, m, sizeof(m), &len), -KITH_EINVAL);
    kith_recon_free(&ri);
    kith_recon_free(&rr);
    kith_recon_array_free(&a);
}

/* 32 items at one timestamp, ids differing in byte 3: 16 buckets of two,
 * split by bounds of a 4-byte prefix, checked byte by byte. */
Test(recon, bounds_known_bytes)
{
    uint64_t ts[32];
    uint8_t ids[32][32], m[KITH_RECON_INITIATE_MAX], want[KITH_RECON_INITIATE_MAX];
    struct kith_recon_array a;
    struct kith_recon_storage st;
    struct kith_recon r;
    size_t len, w = 0;

    for (int i = 0; i < 32; i++) {
        ts[i] = 5;
        memset(ids[i], 0xaa, 32);
        ids[i][3] = (uint8_t)(i * 8);
    }
    array_of(&a, ts, ids, 32);
    kith_recon_array_storage(&a, &st);
    cr_assert_eq(kith_recon_init(&r, &st, 0, 0), 0);
    cr_assert_eq(kith_recon_initiate(&r, m, sizeof(m), &len), 0);

    want[w++] = 0x61;
    for (int k = 0; k < 16; k++) {
        uint8_t sum[32] = {0};

        kith_recon_sum_add(sum, ids[2 * k]);
        kith_recon_sum_add(sum, ids[2 * k + 1]);
        if (k < 15) {
            /* ts 5 is delta 5 + 1 the first time, then delta 0 + 1 */
            want[w++] = k == 0 ? 0x06 : 0x01;
            want[w++] = 4; /* aa aa aa and the first differing byte */
            memcpy(want + w, ids[2 * k + 2], 4);
            w += 4;
        } else {
            want[w++] = 0x00; /* infinity */
            want[w++] = 0x00;
        }
        want[w++] = KITH_RECON_FINGERPRINT;
        kith_recon_fingerprint(sum, 2, want + w);
        w += 16;
    }
    cr_assert_eq(len, w);
    cr_assert_eq(memcmp(m, want, w), 0);
    kith_recon_free(&r);
    kith_recon_array_free(&a);
}

/* Replay the reference implementation's conversations. */
Test(recon, reference_vectors)
{
    FILE *f = fopen(KITH_TEST_VECTORS "/recon-negentropy.txt", "r");
    char *line = NULL;
    size_t line_cap = 0;
    int cases = 0;
    ssize_t got;

    cr_assert_not_null(f);
    while ((got = getline(&line, &line_cap, f)) >= 0) {
        struct kith_recon_array a, b;
        struct kith_recon_storage sa, sb;
        struct kith_recon ra, rb;
        struct seen s = {NULL, NULL, 0, 0, 0, -1};
        static uint8_t expect[65536], out[65536], prev[65536];
        size_t limit = 0, len = 0, prev_len = 0, step = 0;
        int started = 0;

        if (strncmp(line, "case ", 5) != 0)
            continue;
        kith_recon_array_init(&a);
        kith_recon_array_init(&b);
        while ((got = getline(&line, &line_cap, f)) >= 0) {
            uint8_t id[32];
            unsigned long long ts;
            char idhex[65];

            line[strcspn(line, "\n")] = '\0';
            if (strcmp(line, "end") == 0)
                break;
            if (sscanf(line, "frame %zu", &limit) == 1)
                continue;
            if (sscanf(line, "client %llu,%64s", &ts, idhex) == 2) {
                unhex(idhex, id, 32);
                cr_assert_eq(kith_recon_array_add(&a, ts, id), 0);
                continue;
            }
            if (sscanf(line, "server %llu,%64s", &ts, idhex) == 2) {
                unhex(idhex, id, 32);
                cr_assert_eq(kith_recon_array_add(&b, ts, id), 0);
                continue;
            }
            if (!started) {
                cr_assert_eq(kith_recon_array_seal(&a), 0);
                cr_assert_eq(kith_recon_array_seal(&b), 0);
                kith_recon_array_storage(&a, &sa);
                kith_recon_array_storage(&b, &sb);
                cr_assert_eq(kith_recon_init(&ra, &sa, limit, 0), 0);
                cr_assert_eq(kith_recon_init(&rb, &sb, limit, 0), 0);
                cr_assert_eq(kith_recon_initiate(&ra, out, sizeof(out), &len), 0);
                started = 1;
            } else if (step % 2 == 1 && strncmp(line, "msg ", 4) == 0) {
                /* server's turn: answer the client's last message */
                cr_assert_eq(
                    kith_recon_reconcile(&rb, prev, prev_len, NULL, NULL, out, sizeof(out), &len),
                    0);
            }
            if (strncmp(line, "msg ", 4) == 0) {
                size_t n = unhex(line + 4, expect, sizeof(expect));

                cr_assert_eq(len, n, "message %zu: length %zu, want %zu", step, len, n);
                cr_assert_eq(memcmp(out, expect, n), 0, "message %zu differs", step);
                memcpy(prev, out, len);
                prev_len = len;
                if (step % 2 == 1) {
                    /* client reads the server's message */
                    s.n_have = s.n_need = 0;
                    cr_assert_eq(kith_recon_reconcile(&ra, prev, prev_len, on_id, &s, out,
                                                      sizeof(out), &len),
                                 0);
                }
                step++;
            } else {
                size_t h, nd;

                if (sscanf(line, "result %zu %zu", &h, &nd) == 2) {
                    cr_assert_eq(s.n_have, h);
                    cr_assert_eq(s.n_need, nd);
                } else {
                    cr_assert_str_eq(line, "done");
                    cr_assert_eq(len, 0);
                }
            }
        }
        cr_assert(started);
        cases++;
        seen_free(&s);
        kith_recon_free(&ra);
        kith_recon_free(&rb);
        kith_recon_array_free(&a);
        kith_recon_array_free(&b);
    }
    cr_assert_eq(cases, 3);
    free(line);
    fclose(f);
}

/* ---- whole reconciliations ---- */

Test(recon, empty_vs_many)
{
    struct stats st;

    rng = 1;
    check_case(0, 0, 1000, 0, 0, 0, &st);
    cr_assert_eq(st.rounds, 1);
    check_case(0, 1000, 0, 0, 0, 0, &st);
    cr_assert_eq(st.rounds, 1);
}

Test(recon, identical_one_round)
{
    struct stats st;

    rng = 2;
    check_case(100000, 0, 0, 0, 0, 0, &st);
    cr_assert_eq(st.rounds, 1);
    cr_assert_lt(st.up + st.down, 400);
}

/* Traffic grows with d log n: at n = 100,000 a handful of differences costs
 * a few kilobytes where listing the ids would cost 3.2 MB. */
Test(recon, few_differences)
{
    static const size_t ns[] = {1000, 10000, 100000};
    static const size_t ds[] = {1, 10, 100};
    struct stats st;

    rng = 3;
    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 3; j++) {
            for (int clustered = 0; clustered <= 1; clustered++) {
                size_t d = ds[j];

                check_case(ns[i], d - d / 2, d / 2, clustered, 0, 0, &st);
                cr_assert_leq(st.rounds, 4);
                cr_assert_lt(st.up + st.down, 1000 + d * 2000);
            }
        }
    }
}

Test(recon, frame_limits)
{
    struct stats st;

    rng = 4;
    /* the reference's own test settings */
    check_case(50000, 2000, 2000, 0, 60000, 500000, &st);
    /* small frames both ways: many rounds, but every frame fits */
    check_case(5000, 3000, 3000, 0, 4096, 4096, &st);
    check_case(5000, 0, 6000, 1, 0, 4096, &st);
    check_case(5000, 6000, 0, 0, 4096, 0, &st);
}

/* ---- malformed messages ---- */

struct fixture {
    struct kith_recon_array a;
    struct kith_recon_storage st;
    struct kith_recon r;
};

static void fixture_make(struct fixture *fx, size_t n, int initiator, size_t max_in)
{
    uint8_t m[KITH_RECON_INITIATE_MAX];
    size_t len;

    kith_recon_array_init(&fx->a);
    for (size_t i = 0; i < n; i++) {
        uint8_t id[32];

        rnd_id(id);
        cr_assert_eq(kith_recon_array_add(&fx->a, 100 + i, id), 0);
    }
    cr_assert_eq(kith_recon_array_seal(&fx->a), 0);
    kith_recon_array_storage(&fx->a, &fx->st);
    cr_assert_eq(kith_recon_init(&fx->r, &fx->st, 0, max_in), 0);
    if (initiator)
        cr_assert_eq(kith_recon_initiate(&fx->r, m, sizeof(m), &len), 0);
}

static void fixture_free(struct fixture *fx)
{
    kith_recon_free(&fx->r);
    kith_recon_array_free(&fx->a);
}

static int feed(struct fixture *fx, const char *msghex, struct seen *s, char *outhex)
{
    static uint8_t msg[4096], out[65536];
    size_t len = unhex(msghex, msg, sizeof(msg)), out_len = 0;
    int rc =
        kith_recon_reconcile(&fx->r, msg, len, s ? on_id : NULL, s, out, sizeof(out), &out_len);

    if (rc == 0 && outhex != NULL)
        hex(out, out_len, outhex);
    return rc;
}

Test(recon, malformed_responder)
{
    static const struct {
        const char *hex;
        int rc;
    } bad[] = {
        {"", -KITH_ETRUNCATED},
        {"5f", -KITH_EVERSION},
        {"70", -KITH_EVERSION},
        {"6181", -KITH_ETRUNCATED}, /* bound timestamp cut */
        {"610021", -KITH_ETOOBIG},  /* 33-byte prefix */
        {"6100"
         "02aa",
         -KITH_ETRUNCATED},
        {"61000003", -KITH_EENCODING}, /* mode 3 */
        {"610000", -KITH_ETRUNCATED},  /* no mode */
        {"61000001"
         "000102030405060708090a0b0c0d0e",
         -KITH_ETRUNCATED},
        {"6100000202"
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         -KITH_ETRUNCATED},            /* two ids promised, one sent */
        {"61800000", -KITH_EENCODING}, /* non-minimal varint */
        {"61020150"
         "00"
         "010110"
         "00",
         -KITH_EENCODING}, /* second bound below the first */
    };
    char out[256];

    rng = 5;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fixture fx;

        fixture_make(&fx, 50, 0, 0);
        cr_assert_eq(feed(&fx, bad[i].hex, NULL, NULL), bad[i].rc, "case %zu", i);
        fixture_free(&fx);
    }
    {
        /* Equal bounds are allowed (the reference can send two infinities). */
        struct fixture fx;

        fixture_make(&fx, 0, 0, 0);
        cr_assert_eq(feed(&fx,
                          "61020150"
                          "00"
                          "010150"
                          "00",
                          NULL, out),
                     0);
        cr_assert_str_eq(out, "61");
        fixture_free(&fx);
    }
}

Test(recon, version_fallback)
{
    struct fixture fx;
    char out[256];

    rng = 6;
    fixture_make(&fx, 10, 0, 0);
    /* Another protocol version: answer with the one we speak, nothing else. */
    cr_assert_eq(feed(&fx, "62aabbccddeeff", NULL, out), 0);
    cr_assert_str_eq(out, "61");
    cr_assert_eq(feed(&fx, "60", NULL, out), 0);
    cr_assert_str_eq(out, "61");
    fixture_free(&fx);

    /* The initiator treats any other version as fatal. */
    fixture_make(&fx, 10, 1, 0);
    cr_assert_eq(feed(&fx, "62", &(struct seen){NULL, NULL, 0, 0, 0, -1}, NULL), -KITH_EVERSION);
    fixture_free(&fx);
}

Test(recon, size_limits)
{
    struct fixture fx;
    struct seen s = {NULL, NULL, 0, 0, 0, -1};
    uint8_t msg[8] = {0x61, 0, 0, 2, 0}, out[8];
    size_t len;

    rng = 7;
    fixture_make(&fx, 10, 0, 4);
    cr_assert_eq(kith_recon_reconcile(&fx.r, msg, 5, NULL, NULL, out, sizeof(out), &len),
                 -KITH_ETOOBIG);
    fixture_free(&fx);
    /* The responder's answer lists its 10 ids: 8 bytes is too small, and
     * that is found before anything is written. */
    fixture_make(&fx, 10, 0, 0);
    cr_assert_eq(kith_recon_reconcile(&fx.r, msg, 5, NULL, NULL, out, sizeof(out), &len),
                 -KITH_EBUFSIZE);
    fixture_free(&fx);
    /* A frame limit under 4096 is refused; an initiator needs fn. */
    cr_assert_eq(kith_recon_init(&fx.r, &fx.st, 4095, 0), -KITH_EINVAL);
    fixture_make(&fx, 10, 1, 0);
    cr_assert_eq(kith_recon_reconcile(&fx.r, msg, 5, NULL, NULL, out, sizeof(out), &len),
                 -KITH_EINVAL);
    seen_free(&s);
    fixture_free(&fx);
}

/* A bad range anywhere means no id is reported at all. */
Test(recon, parse_before_report)
{
    struct fixture fx;
    struct seen s = {NULL, NULL, 0, 0, 0, -1};
    char msg[512];

    rng = 8;
    fixture_make(&fx, 10, 1, 0);
    /* a valid id list over everything (we have 10 ids they lack), then junk */
    snprintf(msg, sizeof(msg), "%s%s", "6100000200", "000003");
    cr_assert_eq(feed(&fx, msg, &s, NULL), -KITH_EENCODING);
    cr_assert_eq(s.n_have + s.n_need, 0);
    /* the callback's error stops the call and comes back */
    s.fail_after = 3;
    cr_assert_eq(feed(&fx, "6100000200", &s, NULL), -12345);
    cr_assert_eq(s.n_have, 3);
    seen_free(&s);
    fixture_free(&fx);
}

/* A peer that repeats an id in its list gets it reported once. */
Test(recon, repeated_ids_once)
{
    struct fixture fx;
    struct seen s = {NULL, NULL, 0, 0, 0, -1};
    char msg[512], out[256];
    const char *id = "0101010101010101010101010101010101010101010101010101010101010101";

    rng = 9;
    fixture_make(&fx, 0, 1, 0);
    snprintf(msg, sizeof(msg), "610000020%d%s%s%s", 3, id, id, id);
    cr_assert_eq(feed(&fx, msg, &s, out), 0);
    cr_assert_eq(s.n_need, 1);
    cr_assert_eq(s.n_have, 0);
    seen_free(&s);
    fixture_free(&fx);
}

Test(recon, array_rules)
{
    struct kith_recon_array a;
    uint8_t id[32] = {7};

    kith_recon_array_init(&a);
    cr_assert_eq(kith_recon_array_add(&a, UINT64_MAX, id), -KITH_EINVAL);
    cr_assert_eq(kith_recon_array_add(&a, 1, id), 0);
    cr_assert_eq(kith_recon_array_add(&a, 1, id), 0);
    cr_assert_eq(kith_recon_array_seal(&a), -KITH_EEXIST);
    kith_recon_array_free(&a);
    kith_recon_array_init(&a);
    cr_assert_eq(kith_recon_array_seal(&a), 0);
    cr_assert_eq(kith_recon_array_seal(&a), -KITH_EINVAL);
    cr_assert_eq(kith_recon_array_add(&a, 1, id), -KITH_EINVAL);
    kith_recon_array_free(&a);
}
