/*
 * invite: the text code that carries a group's id, key epoch, key and name
 * (see kith/invite.h and proto/PROTOCOL.md). This module owns the code's byte
 * layout, its base32 spelling and the lenient reading of codes that people
 * retype. It holds no state; the key bytes it handles pass through stack
 * buffers that are wiped before returning.
 */
#include <string.h>

#include <sodium.h>

#include "kith/invite.h"

static const char PREFIX[] = "kith1-";
#define PREFIX_LEN 6
static const char ALPHABET[] = "abcdefghijklmnopqrstuvwxyz234567";

#define CHECK_BYTES 4
/* version | group_id | epoch | group_key | name_len */
#define HEAD_BYTES (1 + KITH_GROUP_ID_BYTES + 4 + KITH_GROUP_KEY_BYTES + 1)
#define NAME_AT (HEAD_BYTES)
#define PAYLOAD_MAX (HEAD_BYTES + KITH_GROUP_NAME_MAX + CHECK_BYTES)

static int name_check(const char *name, size_t len)
{
    if (len == 0 || len > KITH_GROUP_NAME_MAX || kith_post_check_text(name, len, 0) < 0)
        return -KITH_ENAME;
    return 0;
}

static void checksum(const uint8_t *data, size_t len, uint8_t out[CHECK_BYTES])
{
    uint8_t h[crypto_generichash_BYTES];

    crypto_generichash(h, sizeof(h), data, len, NULL, 0);
    memcpy(out, h, CHECK_BYTES);
}

int kith_invite_encode(const struct kith_invite *inv, char *text, size_t cap)
{
    uint8_t buf[PAYLOAD_MAX];
    size_t name_len, len, need, o = 0;
    uint32_t acc = 0;
    int bits = 0;

    if (inv == NULL || text == NULL)
        return -KITH_EINVAL;
    name_len = strnlen(inv->name, sizeof(inv->name));
    if (name_check(inv->name, name_len) < 0)
        return -KITH_ENAME;
    len = HEAD_BYTES + name_len + CHECK_BYTES;
    need = PREFIX_LEN + (len * 8 + 4) / 5 + 1;
    if (cap < need)
        return -KITH_EBUFSIZE;

    buf[0] = KITH_INVITE_VERSION;
    memcpy(buf + 1, inv->group_id, KITH_GROUP_ID_BYTES);
    for (int i = 0; i < 4; i++)
        buf[1 + KITH_GROUP_ID_BYTES + i] = (uint8_t)(inv->epoch >> (24 - 8 * i));
    memcpy(buf + 1 + KITH_GROUP_ID_BYTES + 4, inv->group_key, KITH_GROUP_KEY_BYTES);
    buf[HEAD_BYTES - 1] = (uint8_t)name_len;
    memcpy(buf + NAME_AT, inv->name, name_len);
    checksum(buf, len - CHECK_BYTES, buf + len - CHECK_BYTES);

    memcpy(text, PREFIX, PREFIX_LEN);
    o = PREFIX_LEN;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | buf[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            text[o++] = ALPHABET[(acc >> bits) & 31];
        }
    }
    if (bits > 0)
        text[o++] = ALPHABET[(acc << (5 - bits)) & 31];
    text[o] = '\0';
    sodium_memzero(buf, sizeof(buf));
    sodium_memzero(&acc, sizeof(acc));
    return 0;
}

/* Value of a base32 character, -1 for one to skip, -2 for one that is not
 * allowed. Upper case is accepted because people retype codes. */
static int b32_value(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    if (c == ' ' || c == '-' || c == '\t' || c == '\n' || c == '\r')
        return -1;
    return -2;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Decode the base32 part into buf; returns the byte count or -KITH_EINVITE. */
static int b32_decode(const char *s, size_t len, uint8_t *buf, size_t cap)
{
    uint32_t acc = 0;
    size_t n = 0;
    int bits = 0;

    for (size_t i = 0; i < len; i++) {
        int v = b32_value(s[i]);

        if (v == -1)
            continue;
        if (v < 0)
            return -KITH_EINVITE;
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -KITH_EINVITE;
            buf[n++] = (uint8_t)(acc >> bits);
        }
    }
    /* Canonical unpadded base32: fewer than 5 bits left over, all zero. */
    if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
        return -KITH_EINVITE;
    return (int)n;
}

static int invite_parse(const char *text, size_t len, uint8_t *buf, struct kith_invite *inv)
{
    uint8_t check[CHECK_BYTES];
    size_t name_len;
    int n;

    while (len > 0 && is_space(*text)) {
        text++;
        len--;
    }
    if (len < PREFIX_LEN)
        return -KITH_EINVITE;
    for (size_t i = 0; i < PREFIX_LEN; i++) {
        char c = text[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != PREFIX[i])
            return -KITH_EINVITE;
    }
    n = b32_decode(text + PREFIX_LEN, len - PREFIX_LEN, buf, PAYLOAD_MAX);
    if (n < 0)
        return n;
    if ((size_t)n < HEAD_BYTES + CHECK_BYTES)
        return -KITH_EINVITE;
    checksum(buf, (size_t)n - CHECK_BYTES, check);
    if (sodium_memcmp(check, buf + n - CHECK_BYTES, CHECK_BYTES) != 0)
        return -KITH_EINVITE;
    if (buf[0] != KITH_INVITE_VERSION)
        return -KITH_EVERSION;
    name_len = buf[HEAD_BYTES - 1];
    if (HEAD_BYTES + name_len + CHECK_BYTES != (size_t)n)
        return -KITH_EINVITE;
    if (name_check((const char *)buf + NAME_AT, name_len) < 0)
        return -KITH_ENAME;

    memcpy(inv->group_id, buf + 1, KITH_GROUP_ID_BYTES);
    inv->epoch = 0;
    for (int i = 0; i < 4; i++)
        inv->epoch = (inv->epoch << 8) | buf[1 + KITH_GROUP_ID_BYTES + i];
    memcpy(inv->group_key, buf + 1 + KITH_GROUP_ID_BYTES + 4, KITH_GROUP_KEY_BYTES);
    memcpy(inv->name, buf + NAME_AT, name_len);
    inv->name[name_len] = '\0';
    return 0;
}

int kith_invite_decode(const char *text, size_t len, struct kith_invite *inv)
{
    uint8_t buf[PAYLOAD_MAX];
    int rc;

    if (inv == NULL)
        return -KITH_EINVAL;
    memset(inv, 0, sizeof(*inv));
    if (text == NULL)
        return -KITH_EINVAL;
    rc = invite_parse(text, len, buf, inv);
    sodium_memzero(buf, sizeof(buf));
    if (rc < 0)
        sodium_memzero(inv, sizeof(*inv));
    return rc;
}
