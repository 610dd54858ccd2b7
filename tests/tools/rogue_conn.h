/*
 * rogue_conn: the connection half of kith-rogue (kith_rogue.c): a TCP
 * connection to a node, the initiator's side of the Noise XX handshake
 * (with message 1 or 3 replaced for replays), sending and receiving session
 * messages, the honest start of a session (HELLO and PROOF), and watching
 * what the node does afterwards. A struct conn owns its socket, its Noise
 * states (wiped when freed) and the frames it recorded.
 */
#ifndef KITH_ROGUE_CONN_H
#define KITH_ROGUE_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "kith/invite.h"
#include "kith/msg.h"
#include "kith/noise.h"
#include "kith/proof.h"
#include "kith/wire.h"

#define ROGUE_MAX_MSG KITH_WIRE_MSG_MAX
#define REC_MAX 8
#define RESULT_MAX 512
#define CLOSED 1 /* the node closed the connection */

struct conn {
    int fd;
    struct kith_noise_handshake hs;
    struct kith_noise_cipher tx, rx;
    uint8_t hh[KITH_NOISE_HASHLEN];
    struct kith_msg_reasm reasm;
    uint8_t *reasm_buf;
    uint32_t node_max_msg;
    uint8_t node_proofs[KITH_WIRE_PROOF_MAX * KITH_PROOF_BYTES];
    size_t n_node_proofs;
    int got_hello, got_proof;
    int responder; /* the node dialed us (conn_accept) */
    int record;    /* keep every frame sent (replay) */
    uint8_t *rec[REC_MAX];
    size_t rec_len[REC_MAX], n_rec;
    uint8_t in[KITH_NOISE_MSG_MAX];  /* one frame come in */
    uint8_t out[KITH_NOISE_MSG_MAX]; /* one frame going out */
    uint8_t plain[KITH_NOISE_MSG_MAX];
};

/* What the node did after the misbehaviour. */
struct outcome {
    int closed, timeout, error, bye; /* error and bye: -1 if none came */
    int bad;                         /* a frame of the node's did not decrypt or decode */
    size_t messages, bytes;
};

/* The command line (kith_rogue.c fills it). */
struct rogue_opts {
    const char *host, *port, *mode;
    struct kith_invite inv;
    int has_invite;
    int timeout_ms;
    size_t cut_after;
    size_t count;            /* valid posts before the forged one (forged) */
    const char *listen_port; /* endless: where the node dials us */
};

extern struct rogue_opts rogue_opt;
extern uint8_t my_sk[KITH_NOISE_DHLEN]; /* our Noise static key (secret) */
extern uint8_t msgbuf[ROGUE_MAX_MSG];   /* one message being built */

/* Monotonic milliseconds. */
int64_t now_ms(void);
/* Print "label HEX" on a line. */
void print_hex(const char *label, const uint8_t *b, size_t n);

/* Connect to rogue_opt.host:port and print "local ADDR:PORT". Returns the
 * connection, or NULL (message on stderr). Free with conn_free. */
struct conn *conn_new(void);
/* Accept one connection on the listening socket lfd (the node dialed us);
 * we are then the Noise responder. NULL on timeout or error. */
struct conn *conn_accept(int lfd, int64_t deadline);
void conn_free(struct conn *c);
/* Close with a reset (SO_LINGER 0), as a crash or a pulled cable would. */
void conn_reset(struct conn *c);

/* Write all n bytes. Returns 0 or -errno (-EPIPE: the node closed). */
int send_all(int fd, const uint8_t *b, size_t n);
/* One length-prefixed frame (recorded when c->record). Returns 0 or an
 * error. */
int send_frame(struct conn *c, const uint8_t *p, size_t n);

/*
 * The initiator's side of XX. m1 / m3 (may be NULL): send these bytes as
 * message 1 / 3 instead of our own (replay); the handshake then cannot
 * complete here. Returns 0 (complete), 2 (replayed: sent, not complete),
 * CLOSED, or an error.
 */
int handshake(struct conn *c, const uint8_t *m1, size_t m1_len, const uint8_t *m3, size_t m3_len,
              int64_t deadline);

/* The responder's side of XX (after conn_accept). Returns 0, CLOSED or an
 * error. */
int handshake_responder(struct conn *c, int64_t deadline);

/* Encrypt one Noise plaintext and send it as a frame. Returns 0 or an
 * error. */
int send_plain(struct conn *c, const uint8_t *p, size_t n);
/* Send a whole message (type byte first), in FRAG pieces when long. */
int send_bytes(struct conn *c, const uint8_t *msg, size_t len);
/* Encode m into msgbuf and send it. */
int send_msg(struct conn *c, const struct kith_msg *m);
/* Receive one whole message into *m (views valid until the next call).
 * Returns 1, 0 when the node closed, -ETIMEDOUT, or an error: the node sent
 * something that does not decrypt or decode. */
int recv_msg(struct conn *c, struct kith_msg *m, int64_t deadline);

/* HELLO, then PROOF: the invite's group if we have one, else two random
 * values. proof_msg (may be NULL; room for 66 bytes) gets the PROOF
 * message's bytes. Returns 0 or an error. */
int send_hello_proof(struct conn *c, uint8_t *proof_msg, size_t *proof_len);
/* 1 if the node proved the invite's group (*index: its place in the node's
 * PROOF list), else 0. */
int node_has_group(const struct conn *c, size_t *index);
/* A full honest start: handshake, HELLO, PROOF, the node's HELLO and
 * PROOF. Returns 0, CLOSED or an error (printed). */
int session_start(struct conn *c, uint8_t *proof_msg, size_t *proof_len);

/* Read what the node sends until it closes or rogue_opt.timeout_ms pass. */
void observe(struct conn *c, struct outcome *o);
/* The same before the handshake completed: bytes only. */
void observe_raw(struct conn *c, struct outcome *o);
/* One line for o: "closed after ERROR KITH_ESIGNATURE", "closed after BYE
 * 3 (no-groups)", "closed during the handshake" (handshake_stage),
 * "closed without a word", "still open after N ms". */
void describe(const struct outcome *o, int handshake_stage, char *out, size_t cap);

/* The modes of rogue_recon.c. Each writes its result line into result
 * (capacity cap) and returns 0 (result written), 1 (could not run as
 * meant; result says why) or 2 (setup error). */
int mode_truncate(char *result, size_t cap);
int mode_endless(char *result, size_t cap);

#endif
