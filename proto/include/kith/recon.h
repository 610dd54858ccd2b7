/*
 * recon: range-based set reconciliation, byte for byte compatible with
 * Negentropy protocol V1 (https://github.com/hoytech/negentropy, the protocol
 * strfry and NIP-77 use). Two peers each hold a set of items (timestamp u64,
 * id[32]) sorted by timestamp then id; they trade messages until the
 * initiator knows which ids it has that the other lacks ("have") and which
 * the other has that it lacks ("need"). Traffic grows with the number of
 * differences times log n, not with n. proto/PROTOCOL.md, "Set
 * reconciliation", is the normative description of the bytes.
 *
 * The module is pure: no I/O, no clock. It reads items only through struct
 * kith_recon_storage (so node/ can serve them from an LMDB cursor) and writes
 * messages into caller buffers. The one allocation is a scratch index, grown
 * on demand and kept in struct kith_recon, used to match a peer's id list
 * against ours; its size is bounded by the largest incoming message / 6.
 *
 * By default how each side splits ranges and when it lists ids follows the
 * reference implementation exactly (16 buckets, id lists below 32 items, the
 * frame size rule), so our messages are the same bytes the reference would
 * send; KITH_RECON_POLICY_ADAPTIVE makes other valid choices that cost far
 * fewer bytes where many items differ (see enum kith_recon_policy).
 *
 * A struct kith_recon_array (a sorted array in memory, proto/recon_array.c)
 * implements the storage interface for tests, the harness and small sets.
 */
#ifndef KITH_RECON_H
#define KITH_RECON_H

#include <stddef.h>
#include <stdint.h>

#include "kith/error.h"

/* The protocol version byte. Negentropy V1; a new version is 0x62. */
#define KITH_RECON_VERSION 0x61
#define KITH_RECON_ID_BYTES 32
#define KITH_RECON_FP_BYTES 16
#define KITH_RECON_SUM_BYTES 32
/* The reserved "infinity" timestamp; no item may carry it. */
#define KITH_RECON_TS_INFINITY UINT64_MAX
/* Smallest non-zero frame size limit (as in the reference). */
#define KITH_RECON_FRAME_MIN 4096
/* Largest message kith_recon_initiate() writes. */
#define KITH_RECON_INITIATE_MAX 1024
/* Longest varint (a u64 in 7-bit digits). */
#define KITH_RECON_VARINT_MAX 10

/* Range modes on the wire. */
enum kith_recon_mode {
    KITH_RECON_SKIP = 0,
    KITH_RECON_FINGERPRINT = 1,
    KITH_RECON_IDLIST = 2,
};

struct kith_recon_item {
    uint64_t ts;
    uint8_t id[KITH_RECON_ID_BYTES];
};

/*
 * Where the items come from. The set must not change during one call into
 * this module; it may change between messages only if the caller accepts a
 * reconciliation against a moving set (it still terminates, but have/need
 * then describe whichever snapshot each message saw). Every function returns
 * 0 or a negative error, which the caller of kith_recon_* gets back as is.
 *
 * size:        number of items.
 * get:         item i (0 <= i < size), copied into *item.
 * lower_bound: the first index i in [begin, end) whose item is >= *bound in
 *              (ts, id) order, or end if none is. The bound's id is a prefix
 *              padded with zero bytes.
 * sum:         optional (may be NULL): the sum mod 2^256 of the ids in
 *              [begin, end), each read as a 256-bit little-endian integer.
 *              When NULL it is computed with get(), costing O(end - begin).
 */
struct kith_recon_storage {
    void *ctx;
    int (*size)(void *ctx, size_t *n);
    int (*get)(void *ctx, size_t i, struct kith_recon_item *item);
    int (*lower_bound)(void *ctx, size_t begin, size_t end, const struct kith_recon_item *bound,
                       size_t *pos);
    int (*sum)(void *ctx, size_t begin, size_t end, uint8_t sum[KITH_RECON_SUM_BYTES]);
};

/*
 * How a side splits a range whose fingerprints differ, and when it lists ids
 * instead. Either way every message is valid Negentropy V1 and either side
 * can talk to any V1 peer whatever policy the peer uses.
 *
 * REFERENCE: as the reference implementation (16 buckets, ids below 32
 *            items); the same bytes it sends, as the test vectors check.
 * ADAPTIVE:  estimates from the share of differing fingerprints in each
 *            message how many differences a range holds, splits it so that
 *            each bucket gets about one, and lets the last ranges be a few
 *            items listed by the responder alone (an initiator lists only
 *            ranges it holds nothing of); it never takes more messages than
 *            the reference for a range of the same size. Far fewer bytes
 *            where many items differ, fewer where few do.
 */
enum kith_recon_policy {
    KITH_RECON_POLICY_REFERENCE = 0,
    KITH_RECON_POLICY_ADAPTIVE = 1,
};

/* One side of one reconciliation. Fields are private. */
struct kith_recon {
    const struct kith_recon_storage *st;
    size_t frame_limit;
    size_t max_in;
    int role;   /* 0 none yet, 1 initiator, 2 responder */
    int policy; /* enum kith_recon_policy */
    uint8_t *scratch;
    size_t scratch_cap;
};

/*
 * Reported to the initiator for each id that differs. have is 1 for an id we
 * hold and the peer lacks, 0 for one the peer holds and we lack. id is valid
 * only during the call. A non-zero (negative) return stops the reconcile call,
 * which returns that value.
 */
typedef int (*kith_recon_id_fn)(void *arg, int have, const uint8_t id[KITH_RECON_ID_BYTES]);

/*
 * Set up one side. st is borrowed and must outlive r. frame_limit is the
 * largest message this side sends (0: no limit, else >= KITH_RECON_FRAME_MIN;
 * a side that reaches it ends the message early and the protocol takes more
 * rounds). max_in is the largest message this side accepts (0: no limit);
 * it is independent of frame_limit because the peer chooses its own.
 * Returns 0, or -KITH_EINVAL (bad frame_limit or NULL st). Allocates nothing.
 */
int kith_recon_init(struct kith_recon *r, const struct kith_recon_storage *st, size_t frame_limit,
                    size_t max_in);

/*
 * kith_recon_init with a split policy (kith_recon_init uses
 * KITH_RECON_POLICY_REFERENCE). Returns 0, or -KITH_EINVAL (as
 * kith_recon_init, or an unknown policy). Allocates nothing.
 */
int kith_recon_init_policy(struct kith_recon *r, const struct kith_recon_storage *st,
                           size_t frame_limit, size_t max_in, enum kith_recon_policy policy);

/* Free the scratch index. r may be reused with kith_recon_init. */
void kith_recon_free(struct kith_recon *r);

/*
 * Make r the initiator and write the first message into out (cap bytes, at
 * least KITH_RECON_INITIATE_MAX suffices). Returns 0 with *out_len set,
 * -KITH_EINVAL if r already has a role, -KITH_EBUFSIZE, or a storage error.
 */
int kith_recon_initiate(struct kith_recon *r, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Initiator: take the responder's message, report differing ids through fn
 * (called only after the whole message has parsed), and write the next
 * message. *out_len == 0 means done: nothing is left to reconcile.
 * Responder (r has not initiated): fn may be NULL and is never called; the
 * response is always written (a 1-byte response means "nothing to add" and
 * is sent all the same, as the reference does).
 *
 * out must hold cap bytes: at least frame_limit if one is set, else at least
 * what kith_recon_out_max() says for this message.
 *
 * Returns 0 or a negative error; on error the session is over.
 *   -KITH_ETOOBIG     msg is longer than max_in, or an id prefix is over 32
 *   -KITH_ETRUNCATED  msg is empty or ends inside a varint or field
 *   -KITH_EVERSION    version byte outside 0x60..0x6f, or (initiator) not
 *                     0x61. A responder answers any other 0x6? with the
 *                     single byte 0x61 and returns 0, as the protocol says.
 *   -KITH_EENCODING   non-minimal or over-long varint, unknown mode, or a
 *                     bound lower than the one before it
 *   -KITH_EBUFSIZE    cap is too small (checked before anything happens)
 *   -KITH_EINVAL      a NULL argument, or fn NULL on the initiator
 *   -ENOMEM, or whatever the storage or fn returned.
 * Parse errors are found before fn is ever called.
 *
 * fn may see an id again in a later round, but only after the responder cut
 * a message short at its frame limit, or a reference-policy initiator cut its
 * own: the protocol then re-covers ranges the initiator had already settled
 * (the reference behaves the same). Treat reports as idempotent.
 */
int kith_recon_reconcile(struct kith_recon *r, const uint8_t *msg, size_t len, kith_recon_id_fn fn,
                         void *arg, uint8_t *out, size_t cap, size_t *out_len);

/*
 * The output capacity reconcile needs for msg: frame_limit if one is set,
 * else a bound computed from msg and the set size. Returns 0 with *cap, or
 * the parse errors of kith_recon_reconcile.
 */
int kith_recon_out_max(struct kith_recon *r, const uint8_t *msg, size_t len, size_t *cap);

/* Wire helpers, exposed for tests and for node/ summaries. */

/* Write v as a Negentropy varint (base 128, most significant digit first,
 * high bit on every byte but the last). Returns the length, 1..10. */
size_t kith_recon_varint_encode(uint64_t v, uint8_t out[KITH_RECON_VARINT_MAX]);

/* Read one varint from p (len bytes). Returns 0 with *v and *used, or
 * -KITH_ETRUNCATED, or -KITH_EENCODING (leading zero digit, over 64 bits). */
int kith_recon_varint_decode(const uint8_t *p, size_t len, uint64_t *v, size_t *used);

/* acc += id (mod 2^256, little-endian). */
void kith_recon_sum_add(uint8_t acc[KITH_RECON_SUM_BYTES], const uint8_t id[KITH_RECON_ID_BYTES]);
/* acc -= id (mod 2^256, little-endian). */
void kith_recon_sum_sub(uint8_t acc[KITH_RECON_SUM_BYTES], const uint8_t id[KITH_RECON_ID_BYTES]);
/* fp = first 16 bytes of SHA-256(sum || varint(count)). */
void kith_recon_fingerprint(const uint8_t sum[KITH_RECON_SUM_BYTES], uint64_t count,
                            uint8_t fp[KITH_RECON_FP_BYTES]);

/*
 * A sorted array of items in memory, with prefix sums so every fingerprint
 * costs O(1). Add items, seal, then hand kith_recon_array_storage() to
 * kith_recon_init. Owns its memory; free with kith_recon_array_free.
 */
struct kith_recon_array {
    struct kith_recon_item *items;
    uint8_t *prefix; /* (n + 1) sums of 32 bytes, after seal */
    size_t n, cap;
    int sealed;
};

void kith_recon_array_init(struct kith_recon_array *a);
/* Returns 0, -KITH_EINVAL (sealed, or ts is the infinity value), -ENOMEM. */
int kith_recon_array_add(struct kith_recon_array *a, uint64_t ts,
                         const uint8_t id[KITH_RECON_ID_BYTES]);
/* Sort and index. Returns 0, -KITH_EINVAL (already sealed), -KITH_EEXIST (an
 * item was added twice), -ENOMEM. */
int kith_recon_array_seal(struct kith_recon_array *a);
/* Fill *st to read from a (sealed); a must outlive every use of *st. */
void kith_recon_array_storage(struct kith_recon_array *a, struct kith_recon_storage *st);
void kith_recon_array_free(struct kith_recon_array *a);

#endif
