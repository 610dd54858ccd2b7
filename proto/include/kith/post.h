/*
 * post: the Kith post format. A post is immutable and content-addressed.
 *
 * On the wire and on disk a post is "sealed":
 *
 *   outer (69 bytes, clear)  | ciphertext of inner (XChaCha20-Poly1305-IETF,
 *                              outer as associated data, nonce from outer,
 *                              key derived from the group key; 16-byte tag)
 *
 *   outer = version u8 (= 1) | group_id[32] | epoch u32 BE | created_ms u64 BE
 *           | nonce[24]
 *
 *   inner = author[32] | kind u8 | flags u8 (bit 0: has parent; other bits 0)
 *           | parent[32] (only if flag 0)
 *           | topic_len u8 | topic | title_len u16 BE | title
 *           | body_len u32 BE | body
 *           | n_attachments u8 | n x (hash[32] | size u64 BE)
 *           | signature[64]
 *
 * The post key is BLAKE2b-256 keyed with the group key over "kith-post-key-v1".
 * The signature is Ed25519 by the author over
 *   "kith-post-sig-v1" (16 bytes) | outer | inner without the signature.
 * The post id is BLAKE2b-256 (unkeyed) of the whole sealed post.
 *
 * Encoding is canonical: one byte sequence per post. Text fields are UTF-8
 * with no NUL; flags have no unknown bits; nothing follows the signature.
 * proto/PROTOCOL.md is the normative description, with test vectors.
 *
 * All functions here are pure: no allocation, no I/O, no clock. The caller
 * supplies every buffer and the nonce (from randombytes_buf in the node, fixed
 * in the known-answer tests).
 */
#ifndef KITH_POST_H
#define KITH_POST_H

#include <stddef.h>
#include <stdint.h>

#include "kith/error.h"

/* Bump KITH_POST_VERSION when the byte layout changes. */
#define KITH_POST_VERSION 1

#define KITH_GROUP_ID_BYTES 32
#define KITH_GROUP_KEY_BYTES 32
#define KITH_POST_ID_BYTES 32
#define KITH_POST_NONCE_BYTES 24
#define KITH_PUBKEY_BYTES 32
#define KITH_SECKEY_BYTES 64 /* libsodium Ed25519 secret key (seed | public key) */
#define KITH_SIG_BYTES 64
#define KITH_HASH_BYTES 32
#define KITH_POST_TAG_BYTES 16
#define KITH_POST_OUTER_BYTES 69

/* Limits, enforced by encode and decode alike. */
#define KITH_POST_TOPIC_MAX 64                  /* bytes */
#define KITH_POST_TITLE_MAX 200                 /* bytes */
#define KITH_POST_BODY_MAX 65536                /* bytes */
#define KITH_POST_ATTACH_MAX 16                 /* attachment references per post */
#define KITH_POST_ATTACH_SIZE_MAX (64ull << 20) /* bytes per attachment */

/* Largest inner plaintext and largest sealed post. */
#define KITH_POST_INNER_MAX                                                                        \
    (KITH_PUBKEY_BYTES + 1 + 1 + KITH_POST_ID_BYTES + 1 + KITH_POST_TOPIC_MAX + 2 +                \
     KITH_POST_TITLE_MAX + 4 + KITH_POST_BODY_MAX + 1 + KITH_POST_ATTACH_MAX * 40 +                \
     KITH_SIG_BYTES)
#define KITH_POST_SEALED_MAX (KITH_POST_OUTER_BYTES + KITH_POST_INNER_MAX + KITH_POST_TAG_BYTES)
/* A plaintext buffer for kith_post_open() that fits any post: open needs
 * sealed_len bytes (room for the signed message), more than the inner part. */
#define KITH_POST_PLAIN_MAX KITH_POST_SEALED_MAX

/* Kinds. Numbers are on the wire: never renumber, add at the end. */
enum kith_post_kind {
    KITH_POST_KIND_POST = 1,       /* a new thread; no parent */
    KITH_POST_KIND_REPLY = 2,      /* parent = the post replied to */
    KITH_POST_KIND_EDIT = 3,       /* parent = the post edited (same author); new title/body */
    KITH_POST_KIND_DELETE = 4,     /* parent = the post deleted (same author); empty topic,
                                      title and body, no attachments (else -KITH_EKIND) */
    KITH_POST_KIND_PROFILE = 5,    /* the author's display name in title; no parent */
    KITH_POST_KIND_MODERATION = 6, /* parent = the post acted on */
    KITH_POST_KIND_KEY_UPDATE = 7, /* body carries a new group key epoch (later issue); no parent */
};
/* Kind rules (checked by sign, seal and open): an unknown kind, or a delete
 * with content, is -KITH_EKIND; a post, profile or key update with a parent,
 * or a reply, edit, delete or moderation without one, is -KITH_EPARENT. */

struct kith_post_outer {
    uint8_t version;
    uint8_t group_id[KITH_GROUP_ID_BYTES];
    uint32_t epoch;
    uint64_t created_ms; /* milliseconds since 1970, from the node's hybrid logical clock */
    uint8_t nonce[KITH_POST_NONCE_BYTES];
};

struct kith_attachment_ref {
    uint8_t hash[KITH_HASH_BYTES]; /* BLAKE2b-256 of the sealed attachment manifest */
    uint64_t size;                 /* clear size in bytes */
};

/*
 * A post in the clear. Text fields are pointers with lengths and are not
 * NUL-terminated. After kith_post_open() they point into the caller's
 * plaintext buffer and live as long as it does.
 */
struct kith_post {
    struct kith_post_outer outer;
    uint8_t author[KITH_PUBKEY_BYTES];
    uint8_t kind; /* enum kith_post_kind */
    int has_parent;
    uint8_t parent[KITH_POST_ID_BYTES];
    const char *topic;
    size_t topic_len;
    const char *title;
    size_t title_len;
    const char *body;
    size_t body_len;
    size_t n_attachments;
    struct kith_attachment_ref attachments[KITH_POST_ATTACH_MAX];
    uint8_t sig[KITH_SIG_BYTES];
    /* Set by kith_post_open() only: the exact bytes the signature covers
     * ("kith-post-sig-v1" | outer | inner without signature), laid out at the
     * start of the caller's plaintext buffer, so that kith_post_verify() checks
     * the signature with no copy. NULL in a post built by hand. */
    const uint8_t *signed_msg;
    size_t signed_len;
};

/* Bytes before the inner plaintext in the signed message: the domain
 * separation string "kith-post-sig-v1" and the outer part. */
#define KITH_POST_SIG_PREFIX_BYTES 16
#define KITH_POST_SIGNED_HEAD_BYTES (KITH_POST_SIG_PREFIX_BYTES + KITH_POST_OUTER_BYTES)

/*
 * Sign post as the author whose Ed25519 secret key is author_sk: sets
 * post->author to the matching public key and post->sig. Every other field,
 * including post->outer (nonce too), must be final.
 *
 * Ed25519 needs the signed message in one piece, and a post can be 64 KiB,
 * too big for a stack; so the caller lends work (capacity work_cap, at least
 * kith_post_sealed_size(post) bytes: the buffer the post will be sealed into
 * does). work holds plaintext while signing and is wiped before returning;
 * it must not overlap the post's text fields.
 *
 * Returns 0, or -KITH_EINVAL (NULL text pointer with a length, NULL work) /
 * -KITH_EVERSION (outer.version is not KITH_POST_VERSION) / -KITH_ETOOBIG /
 * -KITH_EKIND / -KITH_EPARENT / -KITH_EENCODING if the post breaks a rule
 * above, or -KITH_EBUFSIZE if work is too small. On error post is unchanged.
 */
int kith_post_sign(struct kith_post *post, const uint8_t author_sk[KITH_SECKEY_BYTES],
                   uint8_t *work, size_t work_cap);

/*
 * Encode and encrypt a signed post into out (capacity out_cap). On success
 * *out_len is the sealed length. Returns 0, -KITH_EBUFSIZE if out_cap is too
 * small (kith_post_sealed_size() says how much is needed), or the errors of
 * kith_post_sign for a post that breaks a rule. On error nothing is written
 * to out and *out_len is not set. The post is not checked for a
 * valid signature: seal only what kith_post_sign signed or what
 * kith_post_open + kith_post_verify accepted. out must not overlap the
 * post's text fields (to re-seal an opened post, use another buffer than its
 * plaintext).
 */
int kith_post_seal(const struct kith_post *post, const uint8_t group_key[KITH_GROUP_KEY_BYTES],
                   uint8_t *out, size_t out_cap, size_t *out_len);

/* Bytes kith_post_seal() will write for post (0 if the post breaks a rule).
 * Does not depend on author or sig, so it can be asked before signing. */
size_t kith_post_sealed_size(const struct kith_post *post);

/*
 * Decode the clear outer part of a sealed post, without any key.
 * Returns 0, -KITH_ETRUNCATED (shorter than outer + tag), -KITH_EVERSION,
 * or -KITH_ETOOBIG (longer than KITH_POST_SEALED_MAX).
 */
int kith_post_decode_outer(const uint8_t *sealed, size_t sealed_len, struct kith_post_outer *outer);

/*
 * Decrypt and decode a sealed post with the group key. plain (capacity
 * plain_cap, at least sealed_len bytes; KITH_POST_PLAIN_MAX always does)
 * receives the signed message: KITH_POST_SIGNED_HEAD_BYTES of prefix and
 * outer, then the inner plaintext. post's text fields and signed_msg point
 * into it.
 * Does NOT check the signature: call kith_post_verify() before trusting it.
 * Returns 0, the errors of kith_post_decode_outer, -KITH_EDECRYPT,
 * -KITH_EBUFSIZE, -KITH_ETRUNCATED, -KITH_ETOOBIG, -KITH_EKIND, -KITH_EPARENT,
 * -KITH_EENCODING or -KITH_ETRAILING. On error *post is zeroed and no
 * plaintext is left in plain. plain must not overlap sealed.
 */
int kith_post_open(const uint8_t *sealed, size_t sealed_len,
                   const uint8_t group_key[KITH_GROUP_KEY_BYTES], uint8_t *plain, size_t plain_cap,
                   struct kith_post *post) __attribute__((warn_unused_result));

/* Check post->sig against post->author over post->signed_msg, for a post
 * filled by kith_post_open() (and not changed since). Returns 0,
 * -KITH_ESIGNATURE, or -KITH_EINVAL for a post that did not come from
 * kith_post_open (signed_msg is NULL). */
int kith_post_verify(const struct kith_post *post) __attribute__((warn_unused_result));

/* The post id: BLAKE2b-256 of the sealed bytes. */
void kith_post_id(const uint8_t *sealed, size_t sealed_len, uint8_t id[KITH_POST_ID_BYTES]);

/* Name of a kind ("post", "reply", ...) or NULL if unknown. Static string. */
const char *kith_post_kind_name(uint8_t kind);

/*
 * Check that text (len bytes, need not be NUL-terminated) is what a post's
 * text fields allow: well-formed UTF-8 (no overlong forms, no surrogates, at
 * most U+10FFFF) with no control characters (C0, DEL, C1), except that
 * multiline != 0 also allows \n and \t (a body). \r is never allowed: front
 * ends turn CRLF into LF. Front ends can call it to refuse input early.
 * Returns 0 or -KITH_EENCODING (NULL text with len > 0 is -KITH_EINVAL).
 */
int kith_post_check_text(const char *text, size_t len, int multiline);

#endif
