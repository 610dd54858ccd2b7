/*
 * Tests for proto/invite.c: the known-answer code, round trips, the lenient
 * reading of retyped codes, and refusal of typos, bad names and codes built
 * by hand (with a base32 encoder written here, independent of invite.c).
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "kith/invite.h"

/* libsodium is set up once, before Criterion forks a process per test. (No
 * TestSuite(.init = ...): cppcheck cannot parse Criterion's macros.) */
__attribute__((constructor)) static void init_sodium(void)
{
    if (sodium_init() < 0)
        abort();
}

/* group id 0x20..0x3f, epoch 1, key 0x40..0x5f, name "Budget buddies"; also
 * in proto/PROTOCOL.md, and checked with Python's base64 and hashlib. */
static const char KAT[] = "kith1-aeqccirdeqssmjzifevcwlbnfyxtamjsgm2dknrxha4tuoz4hu7d6aaaaaauaqkci"
                          "ncekrshjbeuus2mjvhe6ucrkjjvivkwk5mfsws3lrov4xyoij2wiz3foqqge5lemruwk4yxn"
                          "3rly";

static void kat_invite(struct kith_invite *inv)
{
    memset(inv, 0, sizeof(*inv));
    for (int i = 0; i < 32; i++) {
        inv->group_id[i] = (uint8_t)(0x20 + i);
        inv->group_key[i] = (uint8_t)(0x40 + i);
    }
    inv->epoch = 1;
    snprintf(inv->name, sizeof(inv->name), "%s", "Budget buddies");
}

static int decode(const char *text, struct kith_invite *out)
{
    return kith_invite_decode(text, strlen(text), out);
}

Test(invite, known_answer)
{
    struct kith_invite inv, out;
    char text[KITH_INVITE_TEXT_MAX];

    kat_invite(&inv);
    cr_assert_eq(kith_invite_encode(&inv, text, sizeof(text)), 0);
    cr_assert_str_eq(text, KAT);
    cr_assert_eq(decode(KAT, &out), 0);
    cr_assert_arr_eq(&out, &inv, sizeof(inv));
}

Test(invite, round_trip)
{
    static const char *const names[] = {
        "x", "Peer group \xc3\xa9t\xc3\xa9 \xf0\x9f\x8c\xbb",
        "0123456789012345678901234567890123456789012345678901234567890123", /* 64 */
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct kith_invite inv, out;
        char text[KITH_INVITE_TEXT_MAX];

        memset(&inv, 0, sizeof(inv));
        randombytes_buf(inv.group_id, sizeof(inv.group_id));
        randombytes_buf(inv.group_key, sizeof(inv.group_key));
        inv.epoch = 0xfedcba98u;
        snprintf(inv.name, sizeof(inv.name), "%s", names[i]);
        cr_assert_eq(kith_invite_encode(&inv, text, sizeof(text)), 0);
        cr_assert_lt(strlen(text), KITH_INVITE_TEXT_MAX);
        cr_assert_eq(strncmp(text, "kith1-", 6), 0);
        cr_assert_eq(decode(text, &out), 0);
        cr_assert_arr_eq(&out, &inv, sizeof(inv));
    }
}

Test(invite, retyped_codes_are_read)
{
    struct kith_invite inv, out;
    char upper[sizeof(KAT)], spaced[2 * sizeof(KAT) + 8];
    size_t o = 0;

    kat_invite(&inv);
    for (size_t i = 0; i < sizeof(KAT); i++)
        upper[i] = (KAT[i] >= 'a' && KAT[i] <= 'z') ? (char)(KAT[i] - 'a' + 'A') : KAT[i];
    cr_assert_eq(decode(upper, &out), 0);
    cr_assert_arr_eq(&out, &inv, sizeof(inv));

    /* Groups of four split by spaces and dashes, with surrounding whitespace. */
    spaced[o++] = ' ';
    spaced[o++] = '\t';
    memcpy(spaced + o, KAT, 6);
    o += 6;
    for (size_t i = 6; KAT[i] != '\0'; i++) {
        if (i > 6 && (i - 6) % 4 == 0)
            spaced[o++] = (i % 8 == 0) ? ' ' : '-';
        spaced[o++] = KAT[i];
    }
    spaced[o++] = '\r';
    spaced[o++] = '\n';
    spaced[o] = '\0';
    cr_assert_eq(decode(spaced, &out), 0);
    cr_assert_arr_eq(&out, &inv, sizeof(inv));
}

Test(invite, typos_are_refused)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    struct kith_invite out;
    char t[sizeof(KAT)];

    /* Every single-character substitution. */
    for (size_t i = 6; i < sizeof(KAT) - 1; i++) {
        for (size_t a = 0; a < 32; a++) {
            if (alphabet[a] == KAT[i])
                continue;
            memcpy(t, KAT, sizeof(KAT));
            t[i] = alphabet[a];
            cr_assert_eq(decode(t, &out), -KITH_EINVITE, "pos %zu char %c", i, alphabet[a]);
        }
    }
    /* Every dropped character, and every swap of neighbours. */
    for (size_t i = 6; i < sizeof(KAT) - 1; i++) {
        memcpy(t, KAT, i);
        memcpy(t + i, KAT + i + 1, sizeof(KAT) - i - 1);
        cr_assert_eq(decode(t, &out), -KITH_EINVITE, "drop %zu", i);
        if (i + 1 < sizeof(KAT) - 1 && KAT[i] != KAT[i + 1]) {
            memcpy(t, KAT, sizeof(KAT));
            t[i] = KAT[i + 1];
            t[i + 1] = KAT[i];
            cr_assert_eq(decode(t, &out), -KITH_EINVITE, "swap %zu", i);
        }
    }
    /* The error leaves no key behind. */
    for (size_t i = 0; i < sizeof(out); i++)
        cr_assert_eq(((uint8_t *)&out)[i], 0);
}

Test(invite, malformed_codes_are_refused)
{
    struct kith_invite out;
    char t[sizeof(KAT) + 8];

    cr_assert_eq(decode("", &out), -KITH_EINVITE);
    cr_assert_eq(decode("kith1-", &out), -KITH_EINVITE);
    cr_assert_eq(decode("kith1", &out), -KITH_EINVITE);
    memcpy(t, KAT, sizeof(KAT));
    t[4] = '2';
    cr_assert_eq(decode(t, &out), -KITH_EINVITE);
    memcpy(t, KAT, sizeof(KAT));
    t[10] = '1'; /* not in the alphabet */
    cr_assert_eq(decode(t, &out), -KITH_EINVITE);
    t[10] = '=';
    cr_assert_eq(decode(t, &out), -KITH_EINVITE);
    t[10] = '\0';
    cr_assert_eq(kith_invite_decode(t, sizeof(KAT) - 1, &out), -KITH_EINVITE);
    /* Extra characters after a complete code. */
    memcpy(t, KAT, sizeof(KAT));
    memcpy(t + sizeof(KAT) - 1, "aa", 3);
    cr_assert_eq(decode(t, &out), -KITH_EINVITE);
    cr_assert_eq(kith_invite_decode(NULL, 0, &out), -KITH_EINVAL);
}

/* ---- codes built by hand ------------------------------------------------ */

static void b32(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "abcdefghijklmnopqrstuvwxyz234567";
    size_t o = 6;

    memcpy(out, "kith1-", 6);
    for (size_t bit = 0; bit < n * 8; bit += 5) {
        unsigned v = 0;

        for (size_t k = 0; k < 5; k++) {
            size_t b = bit + k;
            unsigned x = b < n * 8 ? (in[b / 8] >> (7 - b % 8)) & 1 : 0;

            v = (v << 1) | x;
        }
        out[o++] = a[v];
    }
    out[o] = '\0';
}

/* version | id | epoch | key | name_len | name | checksum, with name_len
 * written as len_field. */
static void hand_code(uint8_t version, uint8_t len_field, const char *name, size_t name_len,
                      char *out)
{
    uint8_t buf[300], h[32];
    size_t n = 0;

    buf[n++] = version;
    memset(buf + n, 0x11, 32 + 4 + 32);
    n += 68;
    buf[n++] = len_field;
    memcpy(buf + n, name, name_len);
    n += name_len;
    crypto_generichash(h, 32, buf, n, NULL, 0);
    memcpy(buf + n, h, 4);
    n += 4;
    b32(buf, n, out);
}

Test(invite, hand_built_codes)
{
    struct kith_invite out;
    char t[600];
    char long_name[200];

    hand_code(1, 5, "group", 5, t);
    cr_assert_eq(decode(t, &out), 0);
    cr_assert_str_eq(out.name, "group");
    cr_assert_eq(out.epoch, 0x11111111u);

    hand_code(2, 5, "group", 5, t);
    cr_assert_eq(decode(t, &out), -KITH_EVERSION);
    hand_code(1, 6, "group", 5, t);
    cr_assert_eq(decode(t, &out), -KITH_EINVITE);
    hand_code(1, 4, "group", 5, t);
    cr_assert_eq(decode(t, &out), -KITH_EINVITE);
    hand_code(1, 0, "", 0, t);
    cr_assert_eq(decode(t, &out), -KITH_ENAME);
    hand_code(1, 5, "gr\x01up", 5, t);
    cr_assert_eq(decode(t, &out), -KITH_ENAME);
    hand_code(1, 5, "gr\xffup", 5, t);
    cr_assert_eq(decode(t, &out), -KITH_ENAME);
    memset(long_name, 'n', sizeof(long_name));
    hand_code(1, 65, long_name, 65, t);
    cr_assert_eq(decode(t, &out), -KITH_EINVITE); /* longer than any valid code */
    hand_code(1, 64, long_name, 64, t);
    cr_assert_eq(decode(t, &out), 0);

    /* Non-zero bits past the last byte: not the canonical spelling. */
    hand_code(1, 5, "group", 5, t);
    size_t len = strlen(t);
    char *last = &t[len - 1];
    cr_assert_eq(decode(t, &out), 0);
    *last = (char)(*last == 'a' ? 'b' : 'a');
    cr_assert_eq(decode(t, &out), -KITH_EINVITE);
}

Test(invite, bad_names_are_refused_on_encode)
{
    static const char *const bad[] = {"", "tab\there", "new\nline", "\x7f", "\xc3", "\xed\xa0\x80"};
    struct kith_invite inv;
    char text[KITH_INVITE_TEXT_MAX];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kat_invite(&inv);
        snprintf(inv.name, sizeof(inv.name), "%s", bad[i]);
        cr_assert_eq(kith_invite_encode(&inv, text, sizeof(text)), -KITH_ENAME, "name %zu", i);
    }
    /* 65 bytes with no NUL inside the field. */
    kat_invite(&inv);
    memset(inv.name, 'a', sizeof(inv.name));
    cr_assert_eq(kith_invite_encode(&inv, text, sizeof(text)), -KITH_ENAME);
}

Test(invite, buffer_size)
{
    struct kith_invite inv;
    char text[KITH_INVITE_TEXT_MAX];

    kat_invite(&inv);
    cr_assert_eq(kith_invite_encode(&inv, text, sizeof(KAT) - 1), -KITH_EBUFSIZE);
    cr_assert_eq(kith_invite_encode(&inv, text, sizeof(KAT)), 0);
    cr_assert_str_eq(text, KAT);

    /* The longest name still fits KITH_INVITE_TEXT_MAX. */
    memset(inv.name, 'a', KITH_GROUP_NAME_MAX);
    inv.name[KITH_GROUP_NAME_MAX] = '\0';
    cr_assert_eq(kith_invite_encode(&inv, text, sizeof(text)), 0);
}
