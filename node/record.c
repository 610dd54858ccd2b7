/*
 * record: byte layout and seals of the account and group records, and the
 * name rules (see record.h). Pure apart from the store calls it is handed a
 * transaction for; it keeps no state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith/error.h"
#include "record.h"

/* The same list as content/topics/default.txt, for nodes installed without
 * their content tree. */
static const char *const builtin_topics[] = {
    "Finding out about personal budgets",
    "Assessments",
    "Direct payments",
    "Employing a personal assistant",
    "Managing the money",
    "Reviews and appeals",
    "Everyday life",
    "Something else",
};

/* Largest plain account record: header, name, key, sealed key, groups. */
#define ACCOUNT_PLAIN_MAX                                                                          \
    (1 + 1 + RECORD_NAME_MAX + KITH_PUBKEY_BYTES + 2 + RECORD_SEALED_SK_BYTES + 2 +                \
     RECORD_GROUPS_MAX * KITH_GROUP_ID_BYTES)
#define GROUP_PLAIN_MAX                                                                            \
    (1 + 4 + KITH_GROUP_KEY_BYTES + 1 + RECORD_NAME_MAX + 1 +                                      \
     RECORD_TOPICS_MAX * (1 + KITH_POST_TOPIC_MAX))

/* Decode one code point; returns its length or 0 if invalid. */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

int record_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;

    for (size_t i = 0; i < len;) {
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

/* UTF-8 with no C0/C1 control character and no DEL. */
static int text_clean(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;

    for (size_t i = 0; i < len;) {
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            return 0;
        i += n;
    }
    return 1;
}

int record_name_clean(const char *in, char out[RECORD_NAME_MAX + 1])
{
    size_t len = strlen(in);

    while (len > 0 && in[0] == ' ') {
        in++;
        len--;
    }
    while (len > 0 && in[len - 1] == ' ')
        len--;
    if (len == 0 || len > RECORD_NAME_MAX || !text_clean(in, len))
        return -KITH_ENAME;
    memcpy(out, in, len);
    out[len] = '\0';
    return 0;
}

int record_topic_check(const char *t, size_t len)
{
    if (len > KITH_POST_TOPIC_MAX)
        return -KITH_ETOOBIG;
    if (len == 0 || !text_clean(t, len))
        return -KITH_ENAME;
    return 0;
}

static int fold(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

int record_name_equal(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        if (fold((unsigned char)*a) != fold((unsigned char)*b))
            return 0;
    }
    return *a == *b;
}

void record_account_key(const struct vault *v, const char *clean_name, uint8_t key[32])
{
    char folded[RECORD_NAME_MAX + 1];
    size_t len = strlen(clean_name);

    if (len > RECORD_NAME_MAX)
        len = RECORD_NAME_MAX;
    for (size_t i = 0; i < len; i++)
        folded[i] = (char)fold((unsigned char)clean_name[i]);
    vault_index_key(v, "account", folded, len, key);
    sodium_memzero(folded, sizeof(folded));
}

static void ad_make(const char *label, const uint8_t id[32], uint8_t *ad, size_t *ad_len)
{
    size_t l = strlen(label);

    for (size_t i = 0; i < l; i++)
        ad[i] = (uint8_t)label[i];
    memcpy(ad + l, id, 32);
    *ad_len = l + 32;
}

static void put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u16(const uint8_t *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}

static uint32_t get_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Open a node seal into a fresh buffer. */
static int unseal_get(struct store_txn *txn, const struct vault *v, enum store_db db,
                      const uint8_t key[32], const uint8_t *ad, size_t ad_len, size_t max,
                      uint8_t **plain, size_t *plain_len)
{
    const void *val;
    size_t vlen;
    int r = store_get(txn, db, key, 32, &val, &vlen);

    if (r < 0)
        return r;
    if (vlen < VAULT_SEAL_OVERHEAD || vlen - VAULT_SEAL_OVERHEAD > max)
        return -KITH_ESTORE;
    *plain = malloc(vlen);
    if (*plain == NULL)
        return -ENOMEM;
    r = vault_unseal(v, val, vlen, ad, ad_len, *plain, vlen, plain_len);
    if (r < 0) {
        free(*plain);
        *plain = NULL;
        return r == -KITH_EDECRYPT ? r : -KITH_ESTORE;
    }
    return 0;
}

static int seal_put(struct store_txn *txn, const struct vault *v, enum store_db db,
                    const uint8_t key[32], const uint8_t *ad, size_t ad_len, const uint8_t *plain,
                    size_t len)
{
    size_t cap = len + VAULT_SEAL_OVERHEAD, out_len;
    uint8_t *out = malloc(cap);
    int r;

    if (out == NULL)
        return -ENOMEM;
    r = vault_seal(v, plain, len, ad, ad_len, out, cap, &out_len);
    if (r == 0)
        r = store_put(txn, db, key, 32, out, out_len);
    free(out);
    return r;
}

int record_account_load(struct store_txn *txn, const struct vault *v, const uint8_t key[32],
                        struct record_account *out)
{
    uint8_t ad[64], *p = NULL;
    size_t ad_len, len, off = 0, nl, skl, ng;
    int r;

    memset(out, 0, sizeof(*out));
    ad_make("account", key, ad, &ad_len);
    r = unseal_get(txn, v, STORE_DB_ACCOUNTS, key, ad, ad_len, ACCOUNT_PLAIN_MAX, &p, &len);
    if (r < 0)
        return r;
    r = -KITH_ESTORE;
    if (len < 2 || p[0] != RECORD_VERSION)
        goto fail;
    nl = p[1];
    off = 2;
    if (nl == 0 || nl > RECORD_NAME_MAX || len - off < nl + KITH_PUBKEY_BYTES + 2)
        goto fail;
    memcpy(out->name, p + off, nl);
    out->name[nl] = '\0';
    off += nl;
    memcpy(out->public_key, p + off, KITH_PUBKEY_BYTES);
    off += KITH_PUBKEY_BYTES;
    skl = get_u16(p + off);
    off += 2;
    if (skl > RECORD_SEALED_SK_BYTES || len - off < skl + 2)
        goto fail;
    memcpy(out->sealed_sk, p + off, skl);
    out->sealed_sk_len = skl;
    off += skl;
    ng = get_u16(p + off);
    off += 2;
    if (ng > RECORD_GROUPS_MAX || len - off != ng * KITH_GROUP_ID_BYTES)
        goto fail;
    if (ng > 0) {
        out->groups = malloc(ng * KITH_GROUP_ID_BYTES);
        if (out->groups == NULL) {
            r = -ENOMEM;
            goto fail;
        }
        memcpy(out->groups, p + off, ng * KITH_GROUP_ID_BYTES);
    }
    out->n_groups = ng;
    sodium_memzero(p, len);
    free(p);
    return 0;
fail:
    sodium_memzero(p, len);
    free(p);
    memset(out, 0, sizeof(*out));
    return r;
}

int record_account_save(struct store_txn *txn, const struct vault *v, const uint8_t key[32],
                        const struct record_account *a)
{
    uint8_t ad[64], *p;
    size_t ad_len, nl = strlen(a->name), off = 0, len;
    int r;

    if (nl == 0 || nl > RECORD_NAME_MAX || a->sealed_sk_len > RECORD_SEALED_SK_BYTES ||
        a->n_groups > RECORD_GROUPS_MAX)
        return -KITH_EINVAL;
    len = 2 + nl + KITH_PUBKEY_BYTES + 2 + a->sealed_sk_len + 2 + a->n_groups * 32;
    p = malloc(len);
    if (p == NULL)
        return -ENOMEM;
    p[off++] = RECORD_VERSION;
    p[off++] = (uint8_t)nl;
    memcpy(p + off, a->name, nl);
    off += nl;
    memcpy(p + off, a->public_key, KITH_PUBKEY_BYTES);
    off += KITH_PUBKEY_BYTES;
    put_u16(p + off, (uint32_t)a->sealed_sk_len);
    off += 2;
    memcpy(p + off, a->sealed_sk, a->sealed_sk_len);
    off += a->sealed_sk_len;
    put_u16(p + off, (uint32_t)a->n_groups);
    off += 2;
    if (a->n_groups > 0)
        memcpy(p + off, a->groups, a->n_groups * 32);
    ad_make("account", key, ad, &ad_len);
    r = seal_put(txn, v, STORE_DB_ACCOUNTS, key, ad, ad_len, p, len);
    sodium_memzero(p, len);
    free(p);
    return r;
}

int record_account_has_group(const struct record_account *a, const uint8_t gid[32])
{
    for (size_t i = 0; i < a->n_groups; i++) {
        if (memcmp(a->groups + i * 32, gid, 32) == 0)
            return 1;
    }
    return 0;
}

int record_account_add_group(struct record_account *a, const uint8_t gid[32])
{
    uint8_t *g;

    if (record_account_has_group(a, gid))
        return -KITH_EEXIST;
    if (a->n_groups >= RECORD_GROUPS_MAX)
        return -KITH_ETOOBIG;
    g = realloc(a->groups, (a->n_groups + 1) * 32);
    if (g == NULL)
        return -ENOMEM;
    memcpy(g + a->n_groups * 32, gid, 32);
    a->groups = g;
    a->n_groups++;
    return 0;
}

void record_account_free(struct record_account *a)
{
    if (a == NULL)
        return;
    free(a->groups);
    sodium_memzero(a, sizeof(*a));
}

int record_group_load(struct store_txn *txn, const struct vault *v, const uint8_t gid[32],
                      struct record_group *out)
{
    uint8_t ad[64], *p = NULL;
    size_t ad_len, len, off, nl, nt;
    int r;

    memset(out, 0, sizeof(*out));
    ad_make("group", gid, ad, &ad_len);
    r = unseal_get(txn, v, STORE_DB_GROUPS, gid, ad, ad_len, GROUP_PLAIN_MAX, &p, &len);
    if (r < 0)
        return r;
    r = -KITH_ESTORE;
    if (len < 1 + 4 + 32 + 1 || p[0] != RECORD_VERSION)
        goto fail;
    memcpy(out->id, gid, 32);
    out->epoch = get_u32(p + 1);
    memcpy(out->key, p + 5, 32);
    off = 37;
    nl = p[off++];
    if (nl == 0 || nl > RECORD_NAME_MAX || len - off < nl + 1)
        goto fail;
    memcpy(out->name, p + off, nl);
    off += nl;
    nt = p[off++];
    if (nt > RECORD_TOPICS_MAX)
        goto fail;
    for (size_t i = 0; i < nt; i++) {
        size_t tl;
        if (off >= len)
            goto fail;
        tl = p[off++];
        if (tl > KITH_POST_TOPIC_MAX || len - off < tl)
            goto fail;
        memcpy(out->topics[i], p + off, tl);
        off += tl;
    }
    if (off != len)
        goto fail;
    out->n_topics = nt;
    sodium_memzero(p, len);
    free(p);
    return 0;
fail:
    sodium_memzero(p, len);
    free(p);
    record_group_wipe(out);
    return r;
}

int record_group_save(struct store_txn *txn, const struct vault *v, const struct record_group *g)
{
    uint8_t p[GROUP_PLAIN_MAX], ad[64];
    size_t off = 0, nl = strlen(g->name), ad_len;
    int r;

    if (nl == 0 || nl > RECORD_NAME_MAX || g->n_topics > RECORD_TOPICS_MAX)
        return -KITH_EINVAL;
    p[off++] = RECORD_VERSION;
    put_u32(p + off, g->epoch);
    off += 4;
    memcpy(p + off, g->key, 32);
    off += 32;
    p[off++] = (uint8_t)nl;
    memcpy(p + off, g->name, nl);
    off += nl;
    p[off++] = (uint8_t)g->n_topics;
    for (size_t i = 0; i < g->n_topics; i++) {
        size_t tl = strlen(g->topics[i]);
        if (tl > KITH_POST_TOPIC_MAX) {
            sodium_memzero(p, sizeof(p));
            return -KITH_EINVAL;
        }
        p[off++] = (uint8_t)tl;
        memcpy(p + off, g->topics[i], tl);
        off += tl;
    }
    ad_make("group", g->id, ad, &ad_len);
    r = seal_put(txn, v, STORE_DB_GROUPS, g->id, ad, ad_len, p, off);
    sodium_memzero(p, sizeof(p));
    return r;
}

void record_group_wipe(struct record_group *g)
{
    sodium_memzero(g, sizeof(*g));
}

static void topic_add(struct record_group *g, const char *t, size_t len)
{
    if (g->n_topics >= RECORD_TOPICS_MAX || record_topic_check(t, len) < 0)
        return;
    memcpy(g->topics[g->n_topics], t, len);
    g->topics[g->n_topics][len] = '\0';
    g->n_topics++;
}

void record_topics_default(const char *content_dir, struct record_group *g)
{
    char path[4096];
    FILE *f = NULL;

    g->n_topics = 0;
    if (content_dir != NULL &&
        (size_t)snprintf(path, sizeof(path), "%s/topics/default.txt", content_dir) < sizeof(path))
        f = fopen(path, "r");
    if (f != NULL) {
        char line[512];

        while (fgets(line, sizeof(line), f) != NULL) {
            size_t len = strcspn(line, "\r\n");
            if (line[len] == '\0' && !feof(f)) {
                /* Longer than any topic: skip the rest of the line. */
                int c;
                while ((c = fgetc(f)) != EOF && c != '\n')
                    ;
                continue;
            }
            line[len] = '\0';
            while (len > 0 && line[len - 1] == ' ')
                line[--len] = '\0';
            if (len == 0 || line[0] == '#')
                continue;
            topic_add(g, line, len);
        }
        fclose(f);
        if (g->n_topics > 0)
            return;
    }
    for (size_t i = 0; i < sizeof(builtin_topics) / sizeof(builtin_topics[0]); i++)
        topic_add(g, builtin_topics[i], strlen(builtin_topics[i]));
}
