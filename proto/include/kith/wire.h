/*
 * wire: the numbers of Kith's sync session protocol, in one place (as tmux's
 * tmux-protocol.h). proto/PROTOCOL.md, "Session protocol (sync)", says what
 * each message means and how its bytes are laid out; proto/msg.c encodes and
 * decodes them.
 *
 * BUMP KITH_WIRE_VERSION WHEN ANYTHING HERE OR IN A MESSAGE'S LAYOUT CHANGES:
 * a new type, a renumbered type, a changed limit that a peer relies on, a
 * field added or removed. Types are numbered in blocks by purpose; add new
 * ones at the end of their block and never reuse a number.
 */
#ifndef KITH_WIRE_H
#define KITH_WIRE_H

#include "kith/noise.h"
#include "kith/post.h"

/* The session protocol version carried in HELLO. */
#define KITH_WIRE_VERSION 1

enum kith_msg_type {
    /* 0x01-0x0f: session control */
    KITH_MSG_HELLO = 0x01, /* version, features, limits, software name */
    KITH_MSG_PING = 0x02,  /* u64 nonce */
    KITH_MSG_PONG = 0x03,  /* the PING's nonce */
    KITH_MSG_BYE = 0x04,   /* reason u8: a normal end */
    KITH_MSG_ERROR = 0x05, /* code u16 + short ASCII reason: the sender found a fault */

    /* 0x10-0x1f: groups */
    KITH_MSG_PROOF = 0x10, /* one membership proof per group key the sender offers */

    /* 0x20-0x2f: set reconciliation */
    KITH_MSG_RECON = 0x20, /* group index + one Negentropy V1 message */

    /* 0x30-0x3f: posts */
    KITH_MSG_WANT = 0x30,  /* group index + post ids the sender asks for */
    KITH_MSG_POSTS = 0x31, /* a batch of sealed posts */
    KITH_MSG_PUSH = 0x32,  /* one new sealed post, sent live */

    /* 0x70-0x7f: framing (one message split over several Noise messages) */
    KITH_MSG_FRAG = 0x7e,     /* a full-size piece; more follow */
    KITH_MSG_FRAG_END = 0x7f, /* the last piece */
};

/* BYE reasons. Unknown reasons are accepted and read as "other". */
enum kith_bye_reason {
    KITH_BYE_DONE = 0,      /* nothing left to do */
    KITH_BYE_SHUTDOWN = 1,  /* the node is stopping */
    KITH_BYE_VERSION = 2,   /* the peer's HELLO version is not ours */
    KITH_BYE_NO_GROUPS = 3, /* no group in common */
    KITH_BYE_BUSY = 4,      /* too many peers or syncs; try later */
    KITH_BYE_IDLE = 5,      /* idle too long */
};

/* ---- Limits ---- */

/* One Noise transport plaintext. A message longer than this is split into
 * FRAG pieces (see kith/msg.h). */
#define KITH_WIRE_PIECE_MAX KITH_NOISE_PLAIN_MAX
/* The longest message (after reassembly) any node may send or accept. */
#define KITH_WIRE_MSG_MAX (1u << 20)
/* HELLO's max_msg may not be below this: a POSTS batch of one largest post. */
#define KITH_WIRE_MSG_MIN (1 + 2 + 4 + KITH_POST_SEALED_MAX)
/* Node software name in HELLO: printable ASCII. */
#define KITH_WIRE_SOFTWARE_MAX 32
/* Proofs in one PROOF message (group keys offered in one session). */
#define KITH_WIRE_PROOF_MAX 64
#define KITH_WIRE_PROOF_BYTES 32
/* Post ids in one WANT. */
#define KITH_WIRE_WANT_MAX 1024
/* Posts in one POSTS batch (the batch's bytes are bounded by max_msg too). */
#define KITH_WIRE_POSTS_MAX 4096
/* Smallest sealed post: the outer part and a tag. */
#define KITH_WIRE_POST_MIN (KITH_POST_OUTER_BYTES + KITH_POST_TAG_BYTES)
/* ERROR's reason: printable ASCII. */
#define KITH_WIRE_REASON_MAX 64

/* Fixed message sizes, type byte included. */
#define KITH_WIRE_HELLO_MIN 12 /* with an empty software name */
#define KITH_WIRE_PING_BYTES 9
#define KITH_WIRE_BYE_BYTES 2
#define KITH_WIRE_ERROR_MIN 4
/* Headers in front of variable parts. */
#define KITH_WIRE_PROOF_HEAD 2 /* type, count u8 */
#define KITH_WIRE_RECON_HEAD 2 /* type, group u8 */
#define KITH_WIRE_WANT_HEAD 4  /* type, group u8, count u16 */
#define KITH_WIRE_POSTS_HEAD 3 /* type, count u16; then u32 length + post, each */

#endif
