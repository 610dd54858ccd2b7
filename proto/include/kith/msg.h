/*
 * msg: encode and decode the messages of the sync session protocol (numbers
 * in kith/wire.h, layouts in proto/PROTOCOL.md, "Session protocol (sync)").
 *
 * A message is: type u8 | body. It travels as the plaintext of one Noise
 * transport message, or, when longer than KITH_WIRE_PIECE_MAX, as FRAG pieces
 * (kith_msg_piece / struct kith_msg_reasm below).
 *
 * Pure: no allocation, no I/O. Decoding checks the whole message (lengths,
 * counts, limits, text, no trailing bytes) and returns views into the input:
 * pointers in struct kith_msg live as long as the input buffer. Encoding
 * applies the same rules with the same error codes, so what decodes
 * re-encodes to the same bytes and what encodes decodes.
 */
#ifndef KITH_MSG_H
#define KITH_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "kith/error.h"
#include "kith/wire.h"

/* A decoded (or to-be-encoded) message. Only the member of u named by type
 * is meaningful. Pointers are views, never owned. */
struct kith_msg {
    uint8_t type; /* enum kith_msg_type */
    union {
        struct {
            uint16_t version;  /* KITH_WIRE_VERSION */
            uint32_t features; /* bits; none defined in version 1 (send 0, ignore unknown) */
            uint32_t max_msg;  /* longest message the sender accepts, after reassembly */
            const char *software;
            size_t software_len; /* 0..KITH_WIRE_SOFTWARE_MAX, printable ASCII */
        } hello;
        struct {
            uint64_t nonce;
        } ping; /* PING and PONG */
        struct {
            uint8_t reason; /* enum kith_bye_reason, or another value read as "other" */
        } bye;
        struct {
            uint16_t code; /* a Kith error: -(KITH_ERRBASE + code) is the kith_strerror code */
            const char *reason;
            size_t reason_len; /* 0..KITH_WIRE_REASON_MAX, printable ASCII */
        } error;
        struct {
            const uint8_t *proofs; /* count x KITH_WIRE_PROOF_BYTES */
            size_t count;          /* 0..KITH_WIRE_PROOF_MAX */
        } proof;
        struct {
            uint8_t group;       /* index into the sender's PROOF list */
            const uint8_t *data; /* one Negentropy message; empty means "done" */
            size_t len;
        } recon;
        struct {
            uint8_t group;      /* index into the sender's PROOF list */
            const uint8_t *ids; /* count x KITH_POST_ID_BYTES */
            size_t count;       /* 1..KITH_WIRE_WANT_MAX */
        } want;
        struct {
            const uint8_t *entries; /* count x (len u32 | sealed post); walk with
                                       kith_msg_posts_next */
            size_t entries_len;
            size_t count; /* 1..KITH_WIRE_POSTS_MAX */
        } posts;
        struct {
            const uint8_t *post; /* one sealed post */
            size_t len;
        } push;
    } u;
};

/*
 * Decode one whole message (in, len bytes: a Noise plaintext, or what
 * kith_msg_reasm_feed gave back) into *m. Views in *m point into in.
 * Returns 0 or, with *m unspecified:
 *   -KITH_ETRUNCATED  empty input, or the input ends inside a field or
 *                     before the bytes a count or length announces; a
 *                     sealed post shorter than KITH_WIRE_POST_MIN
 *   -KITH_ETRAILING   bytes after the last field
 *   -KITH_ETOOBIG     the message is over KITH_WIRE_MSG_MAX; a count, length
 *                     or group index over its KITH_WIRE_* limit; a sealed
 *                     post over KITH_POST_SEALED_MAX; HELLO max_msg over
 *                     KITH_WIRE_MSG_MAX
 *   -KITH_EVERSION    an unknown type, or a HELLO whose version is not
 *                     KITH_WIRE_VERSION (then m->type and m->u.hello.version
 *                     are set, so the node can answer BYE version)
 *   -KITH_EENCODING   a zero count where one is required (WANT, POSTS), HELLO
 *                     max_msg under KITH_WIRE_MSG_MIN, text that is not
 *                     printable ASCII, or a FRAG / FRAG_END piece (pieces go
 *                     to kith_msg_reasm_feed, not here)
 */
int kith_msg_decode(const uint8_t *in, size_t len, struct kith_msg *m)
    __attribute__((warn_unused_result));

/*
 * Encode *m into out (capacity cap); *out_len gets the length. For POSTS,
 * m->u.posts holds already-framed entries (as decode gives them); to build a
 * batch from posts use kith_msg_posts_begin/add/end. Returns 0, the error
 * decode would give for the same bytes (the message is checked first, with
 * the same codes), or -KITH_EBUFSIZE if cap is too small. -KITH_EINVAL for a
 * NULL view with a non-zero length. On error *out_len is not set. out must
 * not overlap the views in *m.
 */
int kith_msg_encode(const struct kith_msg *m, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Walk a decoded POSTS message: *off starts at 0. Returns 1 with *post and
 * *len set (a view into the message), 0 after the last post, or
 * -KITH_ETRUNCATED / -KITH_ETOOBIG if the entries are malformed (only for a
 * struct not made by kith_msg_decode).
 */
int kith_msg_posts_next(const struct kith_msg *m, size_t *off, const uint8_t **post, size_t *len);

/* Building a POSTS batch in place in a caller buffer. */
struct kith_msg_posts_builder {
    uint8_t *out;
    size_t cap, len, count;
};

/*
 * Start a batch in out (capacity cap: the peer's max_msg, or less; no more
 * than KITH_WIRE_MSG_MAX of it is used). Returns
 * 0, or -KITH_EBUFSIZE if cap cannot hold the header.
 */
int kith_msg_posts_begin(struct kith_msg_posts_builder *b, uint8_t *out, size_t cap);

/*
 * Append one sealed post. Returns 0; -KITH_EBUFSIZE if it does not fit in the
 * rest of the buffer or the batch already has KITH_WIRE_POSTS_MAX posts (send
 * this batch, start another); -KITH_ETRUNCATED / -KITH_ETOOBIG for a post
 * length outside KITH_WIRE_POST_MIN..KITH_POST_SEALED_MAX. On error the batch
 * is unchanged.
 */
int kith_msg_posts_add(struct kith_msg_posts_builder *b, const uint8_t *post, size_t len);

/* Finish the batch; *out_len gets the message length. Returns 0, or
 * -KITH_EENCODING if no post was added (an empty POSTS is not allowed). */
int kith_msg_posts_end(struct kith_msg_posts_builder *b, size_t *out_len);

/* ---- Pieces: messages longer than one Noise plaintext ---- */

/* How many Noise plaintexts a message of len bytes takes (1 when it fits in
 * KITH_WIRE_PIECE_MAX; 0 if len is 0 or over KITH_WIRE_MSG_MAX). */
size_t kith_msg_pieces(size_t len);

/*
 * Piece number i (0-based, below kith_msg_pieces(len)) of the message msg
 * (len bytes), written into out (capacity cap; KITH_WIRE_PIECE_MAX always
 * does); *out_len gets its length. A message that fits is its own single
 * piece. Otherwise every piece but the last is FRAG plus
 * KITH_WIRE_PIECE_MAX - 1 bytes of the message, the last is FRAG_END plus the
 * rest. Returns 0, -KITH_EINVAL (i out of range, len 0 or too big) or
 * -KITH_EBUFSIZE.
 */
int kith_msg_piece(const uint8_t *msg, size_t len, size_t i, uint8_t *out, size_t cap,
                   size_t *out_len);

/* Reassembly of pieces into a caller buffer (capacity: our HELLO max_msg). */
struct kith_msg_reasm {
    uint8_t *buf;
    size_t cap, len;
    int complete; /* buf holds the message the last feed returned */
};

/* Start with buffer buf (cap bytes, clamped to KITH_WIRE_MSG_MAX), borrowed
 * for the life of r. */
void kith_msg_reasm_init(struct kith_msg_reasm *r, uint8_t *buf, size_t cap);

/*
 * Feed one Noise plaintext. Returns 1 with *msg and *msg_len set to a whole
 * message (a view into plain, or into r's buffer, valid until the next feed),
 * 0 when more pieces are needed, or a negative error that ends the session:
 *   -KITH_ETRUNCATED  an empty plaintext, or a FRAG_END with no data
 *   -KITH_EENCODING   a FRAG that is not full size, a FRAG_END with no FRAG
 *                     before it, a whole message between pieces, or pieces
 *                     adding up to a message that would have fitted in one
 *   -KITH_ETOOBIG     the plaintext is over KITH_WIRE_PIECE_MAX, or the
 *                     pieces add up to more than the buffer's capacity
 * The message itself is not decoded: pass it to kith_msg_decode.
 */
int kith_msg_reasm_feed(struct kith_msg_reasm *r, const uint8_t *plain, size_t len,
                        const uint8_t **msg, size_t *msg_len) __attribute__((warn_unused_result));

/* Forget any pieces held and start over (after an error, or to reuse r). The
 * buffer holds only session plaintext (sealed posts, ids), never keys, so it
 * is not wiped. */
void kith_msg_reasm_reset(struct kith_msg_reasm *r);

#endif
