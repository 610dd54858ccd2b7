/*
 * post: the Kith post format (see kith/post.h and proto/PROTOCOL.md). This
 * module owns the canonical encoding of a post, the rules every post obeys
 * (limits, text, kind and parent), and the signing and sealing constructions.
 * It holds no state and allocates nothing: callers lend every buffer, and key
 * material derived here lives on the stack and is wiped before returning.
 */
#include <string.h>

#include <sodium.h>

#include "kith/post.h"

/* Domain separation for the signature and the post key: 16 ASCII bytes
 * each, no NUL on the wire. */
static const uint8_t SIG_PREFIX[KITH_POST_SIG_PREFIX_BYTES] = {
    'k', 'i', 't', 'h', '-', 'p', 'o', 's', 't', '-', 's', 'i', 'g', '-', 'v', '1'};
#define KEY_CONTEXT_BYTES 16
static const uint8_t KEY_CONTEXT[KEY_CONTEXT_BYTES] = {'k', 'i', 't', 'h', '-', 'p', 'o', 's',
                                                       't', '-', 'k', 'e', 'y', '-', 'v', '1'};

#define FLAG_PARENT 0x01u
#define ATTACH_BYTES (KITH_HASH_BYTES + 8)
/* author, kind, flags, topic_len, title_len, body_len, n_attachments, sig */
#define INNER_MIN (KITH_PUBKEY_BYTES + 1 + 1 + 1 + 2 + 4 + 1 + KITH_SIG_BYTES)

/* Offsets inside the outer part. */
#define OUTER_GROUP 1
#define OUTER_EPOCH (OUTER_GROUP + KITH_GROUP_ID_BYTES)
#define OUTER_CREATED (OUTER_EPOCH + 4)
#define OUTER_NONCE (OUTER_CREATED + 8)

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

int kith_post_check_text(const char *text, size_t len, int multiline)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;

    if (text == NULL && len > 0)
        return -KITH_EINVAL;
    while (i < len) {
        uint32_t c = s[i];
        uint32_t min;
        size_t n;

        if (c < 0x80) {
            n = 1;
            min = 0;
        } else if ((c & 0xe0) == 0xc0) {
            n = 2;
            c &= 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3;
            c &= 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 4;
            c &= 0x07;
            min = 0x10000;
        } else {
            return -KITH_EENCODING;
        }
        if (n > len - i)
            return -KITH_EENCODING;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return -KITH_EENCODING;
            c = (c << 6) | (s[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return -KITH_EENCODING;
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
            if (!multiline || (c != '\n' && c != '\t'))
                return -KITH_EENCODING;
        }
        i += n;
    }
    return 0;
}

static int kind_needs_parent(uint8_t kind)
{
    return kind == KITH_POST_KIND_REPLY || kind == KITH_POST_KIND_EDIT ||
           kind == KITH_POST_KIND_DELETE || kind == KITH_POST_KIND_MODERATION;
}

/* Every rule a post obeys, in the same order for encode and decode so both
 * report the same code for the same fault. */
static int post_check(const struct kith_post *p)
{
    int rc;

    if ((p->topic == NULL && p->topic_len > 0) || (p->title == NULL && p->title_len > 0) ||
        (p->body == NULL && p->body_len > 0))
        return -KITH_EINVAL;
    if (p->outer.version != KITH_POST_VERSION)
        return -KITH_EVERSION;
    if (kith_post_kind_name(p->kind) == NULL)
        return -KITH_EKIND;
    if ((p->has_parent != 0) != kind_needs_parent(p->kind))
        return -KITH_EPARENT;
    if (p->topic_len > KITH_POST_TOPIC_MAX || p->title_len > KITH_POST_TITLE_MAX ||
        p->body_len > KITH_POST_BODY_MAX || p->n_attachments > KITH_POST_ATTACH_MAX)
        return -KITH_ETOOBIG;
    for (size_t i = 0; i < p->n_attachments; i++) {
        if (p->attachments[i].size > KITH_POST_ATTACH_SIZE_MAX)
            return -KITH_ETOOBIG;
    }
    if ((rc = kith_post_check_text(p->topic, p->topic_len, 0)) < 0 ||
        (rc = kith_post_check_text(p->title, p->title_len, 0)) < 0 ||
        (rc = kith_post_check_text(p->body, p->body_len, 1)) < 0)
        return rc;
    if (p->kind == KITH_POST_KIND_DELETE &&
        (p->topic_len | p->title_len | p->body_len | p->n_attachments) != 0)
        return -KITH_EKIND;
    return 0;
}

/* Length of the inner part without its signature; the post must pass
 * post_check. */
static size_t inner_unsigned_len(const struct kith_post *p)
{
    return INNER_MIN - KITH_SIG_BYTES + (p->has_parent ? KITH_POST_ID_BYTES : 0) + p->topic_len +
           p->title_len + p->body_len + p->n_attachments * ATTACH_BYTES;
}

size_t kith_post_sealed_size(const struct kith_post *post)
{
    if (post_check(post) < 0)
        return 0;
    return KITH_POST_OUTER_BYTES + inner_unsigned_len(post) + KITH_SIG_BYTES + KITH_POST_TAG_BYTES;
}

static void encode_outer(const struct kith_post_outer *o, uint8_t *out)
{
    out[0] = o->version;
    memcpy(out + OUTER_GROUP, o->group_id, KITH_GROUP_ID_BYTES);
    put_be(out + OUTER_EPOCH, o->epoch, 4);
    put_be(out + OUTER_CREATED, o->created_ms, 8);
    memcpy(out + OUTER_NONCE, o->nonce, KITH_POST_NONCE_BYTES);
}

/* Write the inner part without the signature, with author as given (sign
 * writes the key it signs with before post->author is set). Returns the
 * bytes written. */
static size_t encode_inner(const struct kith_post *p, const uint8_t *author, uint8_t *out)
{
    uint8_t *w = out;

    memcpy(w, author, KITH_PUBKEY_BYTES);
    w += KITH_PUBKEY_BYTES;
    *w++ = p->kind;
    *w++ = p->has_parent ? FLAG_PARENT : 0;
    if (p->has_parent) {
        memcpy(w, p->parent, KITH_POST_ID_BYTES);
        w += KITH_POST_ID_BYTES;
    }
    *w++ = (uint8_t)p->topic_len;
    if (p->topic_len > 0)
        memcpy(w, p->topic, p->topic_len);
    w += p->topic_len;
    put_be(w, p->title_len, 2);
    w += 2;
    if (p->title_len > 0)
        memcpy(w, p->title, p->title_len);
    w += p->title_len;
    put_be(w, p->body_len, 4);
    w += 4;
    if (p->body_len > 0)
        memcpy(w, p->body, p->body_len);
    w += p->body_len;
    *w++ = (uint8_t)p->n_attachments;
    for (size_t i = 0; i < p->n_attachments; i++) {
        memcpy(w, p->attachments[i].hash, KITH_HASH_BYTES);
        put_be(w + KITH_HASH_BYTES, p->attachments[i].size, 8);
        w += ATTACH_BYTES;
    }
    return (size_t)(w - out);
}

int kith_post_sign(struct kith_post *post, const uint8_t author_sk[KITH_SECKEY_BYTES],
                   uint8_t *work, size_t work_cap)
{
    uint8_t pk[KITH_PUBKEY_BYTES];
    uint8_t sig[KITH_SIG_BYTES];
    size_t len;
    int rc;

    if (post == NULL || author_sk == NULL || work == NULL)
        return -KITH_EINVAL;
    if ((rc = post_check(post)) < 0)
        return rc;
    if (work_cap <
        KITH_POST_OUTER_BYTES + inner_unsigned_len(post) + KITH_SIG_BYTES + KITH_POST_TAG_BYTES)
        return -KITH_EBUFSIZE;
    crypto_sign_ed25519_sk_to_pk(pk, author_sk);
    memcpy(work, SIG_PREFIX, KITH_POST_SIG_PREFIX_BYTES);
    encode_outer(&post->outer, work + KITH_POST_SIG_PREFIX_BYTES);
    len = KITH_POST_SIGNED_HEAD_BYTES + encode_inner(post, pk, work + KITH_POST_SIGNED_HEAD_BYTES);
    crypto_sign_ed25519_detached(sig, NULL, work, len, author_sk);
    sodium_memzero(work, len);
    memcpy(post->author, pk, sizeof(pk));
    memcpy(post->sig, sig, sizeof(sig));
    return 0;
}

/* post key = BLAKE2b-256 keyed with the group key over "kith-post-key-v1". */
static void post_key(const uint8_t group_key[KITH_GROUP_KEY_BYTES],
                     uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES])
{
    crypto_generichash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, KEY_CONTEXT,
                       KEY_CONTEXT_BYTES, group_key, KITH_GROUP_KEY_BYTES);
}

int kith_post_seal(const struct kith_post *post, const uint8_t group_key[KITH_GROUP_KEY_BYTES],
                   uint8_t *out, size_t out_cap, size_t *out_len)
{
    uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    unsigned long long clen;
    size_t inner_len, size;
    uint8_t *inner;
    int rc;

    if (post == NULL || group_key == NULL || out == NULL || out_len == NULL)
        return -KITH_EINVAL;
    if ((rc = post_check(post)) < 0)
        return rc;
    size = KITH_POST_OUTER_BYTES + inner_unsigned_len(post) + KITH_SIG_BYTES + KITH_POST_TAG_BYTES;
    if (out_cap < size)
        return -KITH_EBUFSIZE;
    encode_outer(&post->outer, out);
    /* Encode the plaintext where the ciphertext goes and encrypt in place:
     * libsodium's AEAD allows c == m, so no second buffer is needed. */
    inner = out + KITH_POST_OUTER_BYTES;
    inner_len = encode_inner(post, post->author, inner);
    memcpy(inner + inner_len, post->sig, KITH_SIG_BYTES);
    inner_len += KITH_SIG_BYTES;
    post_key(group_key, key);
    crypto_aead_xchacha20poly1305_ietf_encrypt(inner, &clen, inner, inner_len, out,
                                               KITH_POST_OUTER_BYTES, NULL, post->outer.nonce, key);
    sodium_memzero(key, sizeof(key));
    *out_len = size;
    return 0;
}

int kith_post_decode_outer(const uint8_t *sealed, size_t sealed_len, struct kith_post_outer *outer)
{
    if (sealed == NULL || outer == NULL)
        return -KITH_EINVAL;
    if (sealed_len < KITH_POST_OUTER_BYTES + KITH_POST_TAG_BYTES)
        return -KITH_ETRUNCATED;
    if (sealed[0] != KITH_POST_VERSION)
        return -KITH_EVERSION;
    if (sealed_len > KITH_POST_SEALED_MAX)
        return -KITH_ETOOBIG;
    outer->version = sealed[0];
    memcpy(outer->group_id, sealed + OUTER_GROUP, KITH_GROUP_ID_BYTES);
    outer->epoch = (uint32_t)get_be(sealed + OUTER_EPOCH, 4);
    outer->created_ms = get_be(sealed + OUTER_CREATED, 8);
    memcpy(outer->nonce, sealed + OUTER_NONCE, KITH_POST_NONCE_BYTES);
    return 0;
}

/* Cursor over the inner plaintext: take() hands out the next n bytes or
 * NULL when fewer are left. */
struct reader {
    const uint8_t *p;
    size_t left;
};

static const uint8_t *take(struct reader *r, size_t n)
{
    const uint8_t *at = r->p;

    if (n > r->left)
        return NULL;
    r->p += n;
    r->left -= n;
    return at;
}

/* Take a length field of w bytes whose value may be at most max, then that
 * many bytes of text. */
static int take_text(struct reader *r, size_t w, size_t max, const char **text, size_t *len)
{
    const uint8_t *f = take(r, w);
    const uint8_t *t;
    size_t n;

    if (f == NULL)
        return -KITH_ETRUNCATED;
    n = (size_t)get_be(f, w);
    if (n > max)
        return -KITH_ETOOBIG;
    if ((t = take(r, n)) == NULL)
        return -KITH_ETRUNCATED;
    *text = (const char *)t;
    *len = n;
    return 0;
}

/* Parse the inner plaintext into post (outer is set by the caller), then
 * apply the same rules as encoding. */
static int decode_inner(const uint8_t *in, size_t len, struct kith_post *post)
{
    struct reader r = {in, len};
    const uint8_t *f;
    int rc;

    if ((f = take(&r, KITH_PUBKEY_BYTES + 2)) == NULL)
        return -KITH_ETRUNCATED;
    memcpy(post->author, f, KITH_PUBKEY_BYTES);
    post->kind = f[KITH_PUBKEY_BYTES];
    if ((f[KITH_PUBKEY_BYTES + 1] & ~FLAG_PARENT) != 0)
        return -KITH_EENCODING;
    post->has_parent = (f[KITH_PUBKEY_BYTES + 1] & FLAG_PARENT) != 0;
    if (post->has_parent) {
        if ((f = take(&r, KITH_POST_ID_BYTES)) == NULL)
            return -KITH_ETRUNCATED;
        memcpy(post->parent, f, KITH_POST_ID_BYTES);
    }
    if ((rc = take_text(&r, 1, KITH_POST_TOPIC_MAX, &post->topic, &post->topic_len)) < 0 ||
        (rc = take_text(&r, 2, KITH_POST_TITLE_MAX, &post->title, &post->title_len)) < 0 ||
        (rc = take_text(&r, 4, KITH_POST_BODY_MAX, &post->body, &post->body_len)) < 0)
        return rc;
    if ((f = take(&r, 1)) == NULL)
        return -KITH_ETRUNCATED;
    post->n_attachments = f[0];
    if (post->n_attachments > KITH_POST_ATTACH_MAX)
        return -KITH_ETOOBIG;
    for (size_t i = 0; i < post->n_attachments; i++) {
        if ((f = take(&r, ATTACH_BYTES)) == NULL)
            return -KITH_ETRUNCATED;
        memcpy(post->attachments[i].hash, f, KITH_HASH_BYTES);
        post->attachments[i].size = get_be(f + KITH_HASH_BYTES, 8);
    }
    if ((f = take(&r, KITH_SIG_BYTES)) == NULL)
        return -KITH_ETRUNCATED;
    memcpy(post->sig, f, KITH_SIG_BYTES);
    if (r.left != 0)
        return -KITH_ETRAILING;
    return post_check(post);
}

int kith_post_open(const uint8_t *sealed, size_t sealed_len,
                   const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint8_t *plain, size_t plain_cap,
                   struct kith_post *post)
{
    uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    unsigned long long inner_len = 0;
    size_t written = 0;
    uint8_t *inner;
    int rc;

    if (sealed == NULL || group_key == NULL || plain == NULL || post == NULL)
        return -KITH_EINVAL;
    memset(post, 0, sizeof(*post));
    if ((rc = kith_post_decode_outer(sealed, sealed_len, &post->outer)) < 0)
        goto fail;
    if (plain_cap < sealed_len) {
        rc = -KITH_EBUFSIZE;
        goto fail;
    }
    /* The plaintext goes after room for the signature prefix and the outer
     * part, so the signed message is contiguous and verify needs no copy. */
    inner = plain + KITH_POST_SIGNED_HEAD_BYTES;
    post_key(group_key, key);
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        inner, &inner_len, NULL, sealed + KITH_POST_OUTER_BYTES, sealed_len - KITH_POST_OUTER_BYTES,
        sealed, KITH_POST_OUTER_BYTES, sealed + OUTER_NONCE, key);
    sodium_memzero(key, sizeof(key));
    if (rc != 0) {
        rc = -KITH_EDECRYPT;
        goto fail;
    }
    written = KITH_POST_SIGNED_HEAD_BYTES + (size_t)inner_len;
    memcpy(plain, SIG_PREFIX, KITH_POST_SIG_PREFIX_BYTES);
    memcpy(plain + KITH_POST_SIG_PREFIX_BYTES, sealed, KITH_POST_OUTER_BYTES);
    if (inner_len < INNER_MIN) {
        rc = -KITH_ETRUNCATED;
        goto fail;
    }
    if ((rc = decode_inner(inner, (size_t)inner_len, post)) < 0)
        goto fail;
    post->signed_msg = plain;
    post->signed_len = KITH_POST_SIGNED_HEAD_BYTES + (size_t)inner_len - KITH_SIG_BYTES;
    return 0;

fail:
    if (written > 0)
        sodium_memzero(plain, written);
    sodium_memzero(post, sizeof(*post));
    return rc;
}

int kith_post_verify(const struct kith_post *post)
{
    if (post == NULL || post->signed_msg == NULL ||
        post->signed_len < KITH_POST_SIGNED_HEAD_BYTES + INNER_MIN - KITH_SIG_BYTES)
        return -KITH_EINVAL;
    /* The key must be the author named inside the signed bytes, not a field
     * changed after opening. */
    if (sodium_memcmp(post->signed_msg + KITH_POST_SIGNED_HEAD_BYTES, post->author,
                      KITH_PUBKEY_BYTES) != 0)
        return -KITH_ESIGNATURE;
    if (crypto_sign_ed25519_verify_detached(post->sig, post->signed_msg, post->signed_len,
                                            post->author) != 0)
        return -KITH_ESIGNATURE;
    return 0;
}

void kith_post_id(const uint8_t *sealed, size_t sealed_len, uint8_t id[KITH_POST_ID_BYTES])
{
    crypto_generichash(id, KITH_POST_ID_BYTES, sealed, sealed_len, NULL, 0);
}

const char *kith_post_kind_name(uint8_t kind)
{
    switch (kind) {
    case KITH_POST_KIND_POST:
        return "post";
    case KITH_POST_KIND_REPLY:
        return "reply";
    case KITH_POST_KIND_EDIT:
        return "edit";
    case KITH_POST_KIND_DELETE:
        return "delete";
    case KITH_POST_KIND_PROFILE:
        return "profile";
    case KITH_POST_KIND_MODERATION:
        return "moderation";
    case KITH_POST_KIND_KEY_UPDATE:
        return "key-update";
    default:
        return NULL;
    }
}
