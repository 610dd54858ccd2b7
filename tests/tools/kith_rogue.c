/*
 * kith-rogue: a misbehaving sync peer for the fault tests
 * (tests/integration/sync_faults.sh). It connects over TCP to a kithd,
 * speaks the real protocol (proto/PROTOCOL.md: Noise XX with its own random
 * static key, HELLO, PROOF made from an invite code) as far as its mode
 * says, then misbehaves, and reports on stdout what the node did:
 *
 *   garbage-hs     70,000 random bytes instead of a handshake
 *   oversize-hs    one 65,535-byte frame as handshake message 1 (valid: 32)
 *   stall          a frame header announcing 65,535 bytes, 100 of them, then
 *                  silence (a half-open peer: the handshake timeout ends it)
 *   garbage        a handshake, HELLO and PROOF, then a frame of random bytes
 *   oversize       ... then FRAG pieces adding up to more than the node's
 *                  max_msg
 *   oversize-want  ... then a WANT of 1025 ids (the limit is 1024)
 *   forged         ... then one POSTS of --count valid posts and, last, one
 *                  whose signature is wrong (sealed with the real group key):
 *                  none of the batch may be stored
 *   forged-push    ... then one PUSH of a post with a wrong signature
 *   undecryptable  ... then one PUSH of a post of the group sealed with
 *                  another key
 *   foreign        ... then one PUSH of a post of a group nobody proved
 *   badindex       ... then a WANT naming group index 7, which the rogue's
 *                  PROOF (one proof) does not have
 *   badrecon       ... then a RECON whose Negentropy message has a varint
 *                  with a leading zero digit
 *   order          a handshake, then PROOF before HELLO
 *   nogroup        a handshake, HELLO and a PROOF of random values
 *   replay         session 1 honest (frames recorded); session 2 a fresh
 *                  message 1 and session 1's message 3; session 3 all of
 *                  session 1's frames again; session 4 an honest handshake
 *                  carrying session 1's PROOF
 *   probe          an honest session start, then BYE: does the node accept
 *                  this key now? (with --key, after a fault: is it backed
 *                  off?) Reports what happened; exits 0 either way
 *   truncate       reconcile with an empty set, WANT everything, take
 *                  --cut-after posts (checking each opens and verifies), cut
 *                  the connection with a reset, then reconnect to see the
 *                  node still answers
 *   endless        (with --listen PORT instead of --connect) wait for the
 *                  node to dial 127.0.0.1:PORT, then answer every RECON
 *                  with "the whole range differs"; report-only: how many
 *                  rounds the node runs before --timeout
 *
 * Usage: kith-rogue --connect HOST:PORT --mode MODE [--invite CODE]
 *                   [--timeout SECONDS] [--cut-after POSTS] [--count POSTS]
 *                   [--key HEX64]
 *        kith-rogue --listen PORT --mode endless --invite CODE [--timeout S]
 *
 * --key: the Noise static private key to use (64 hex), so that a second run
 * comes back as the same node (probe after a fault); default random.
 *
 * Prints "key HEX" (its Noise static public key, as the node's peers table
 * shows it), "local ADDR:PORT" per connection (the node logs it as via=),
 * "sent ..." lines, then "result: ..." (what the node did, e.g. "closed
 * after ERROR KITH_ESIGNATURE") and "expect: ...". Exits 0 when the result
 * is the expected one, 1 when not, 2 on a usage or setup error.
 *
 * This file holds the modes and main; rogue_conn.c the connection, Noise
 * and message layer; rogue_recon.c the modes that reconcile.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "kith/error.h"
#include "kith/frame.h"
#include "kith/invite.h"
#include "kith/msg.h"
#include "kith/noise.h"
#include "kith/post.h"
#include "kith/proof.h"
#include "kith/recon.h"
#include "kith/wire.h"
#include "rogue_conn.h"

/* ---- posts ---- */

/* Seal a post of the invite's group by a random author. how: 0 valid, 1
 * signature broken after signing, 2 sealed with a key that is not the
 * group's, 3 of a random group (and key). Prints its id. */
static int make_post(int how, uint8_t *out, size_t cap, size_t *len)
{
    static const char *const what[] = {"valid", "forged signature", "wrong key", "foreign group"};
    static uint64_t seq;
    uint8_t pk[KITH_PUBKEY_BYTES], sk[KITH_SECKEY_BYTES], key[KITH_GROUP_KEY_BYTES];
    uint8_t id[KITH_POST_ID_BYTES];
    char body[128];
    struct kith_post p;
    struct timespec ts;
    int r;

    memset(&p, 0, sizeof(p));
    clock_gettime(CLOCK_REALTIME, &ts);
    p.outer.version = KITH_POST_VERSION;
    memcpy(p.outer.group_id, rogue_opt.inv.group_id, KITH_GROUP_ID_BYTES);
    p.outer.epoch = rogue_opt.inv.epoch;
    if (how == 3)
        randombytes_buf(p.outer.group_id, KITH_GROUP_ID_BYTES);
    p.outer.created_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + seq++;
    randombytes_buf(p.outer.nonce, sizeof(p.outer.nonce));
    p.kind = KITH_POST_KIND_POST;
    snprintf(body, sizeof(body), "ROGUE-MARKER %s post from kith-rogue", what[how]);
    p.title = "rogue";
    p.title_len = strlen(p.title);
    p.body = body;
    p.body_len = strlen(body);
    crypto_sign_keypair(pk, sk);
    r = kith_post_sign(&p, sk, out, cap);
    sodium_memzero(sk, sizeof(sk));
    if (r < 0)
        return r;
    if (how == 1)
        p.sig[7] ^= 0x20;
    memcpy(key, rogue_opt.inv.group_key, sizeof(key));
    if (how >= 2)
        randombytes_buf(key, sizeof(key));
    r = kith_post_seal(&p, key, out, cap, len);
    sodium_memzero(key, sizeof(key));
    if (r < 0)
        return r;
    kith_post_id(out, *len, id);
    printf("sent post %s: ", what[how]);
    print_hex("id", id, sizeof(id));
    return 0;
}

/* how: as make_post; 0 sends the forged POSTS batch, else one PUSH. */
static int send_posts(struct conn *c, int how)
{
    static uint8_t a[KITH_POST_SEALED_MAX];
    struct kith_msg_posts_builder pb;
    struct kith_msg m;
    size_t alen = 0, len = 0;
    int r;

    if (how != 0) {
        r = make_post(how, a, sizeof(a), &alen);
        if (r < 0)
            return r;
        memset(&m, 0, sizeof(m));
        m.type = KITH_MSG_PUSH;
        m.u.push.post = a;
        m.u.push.len = alen;
        return send_msg(c, &m);
    }
    /* The batch must fit the node's max_msg: the caller keeps --count
     * small enough (a post here is about 250 bytes). */
    r = kith_msg_posts_begin(&pb, msgbuf, c->node_max_msg);
    for (size_t i = 0; i <= rogue_opt.count && r == 0; i++) {
        r = make_post(i < rogue_opt.count ? 0 : 1, a, sizeof(a), &alen);
        if (r == 0)
            r = kith_msg_posts_add(&pb, a, alen);
    }
    if (r == 0)
        r = kith_msg_posts_end(&pb, &len);
    return r < 0 ? r : send_bytes(c, msgbuf, len);
}

/* ---- modes ---- */

static int raw_send(struct conn *c, size_t hdr_len, size_t n)
{
    uint8_t *junk = malloc(n + 2);
    int r;

    if (junk == NULL)
        return -ENOMEM;
    randombytes_buf(junk, n + 2);
    if (hdr_len != 0) {
        junk[0] = (uint8_t)(hdr_len >> 8);
        junk[1] = (uint8_t)hdr_len;
        n += 2;
    }
    r = send_all(c->fd, junk, n);
    free(junk);
    printf("sent %zu raw bytes%s\n", n, r < 0 ? " (the node closed while we wrote)" : "");
    return 0;
}

/* The modes that misbehave once a session has started. */
static int after_start(struct conn *c)
{
    uint8_t junk[200];
    size_t pieces;
    int r = 0;

    if (strcmp(rogue_opt.mode, "garbage") == 0) {
        randombytes_buf(junk, sizeof(junk));
        r = send_frame(c, junk, sizeof(junk));
        printf("sent a frame of %zu random bytes\n", sizeof(junk));
    } else if (strcmp(rogue_opt.mode, "oversize") == 0) {
        pieces = c->node_max_msg / (KITH_WIRE_PIECE_MAX - 1) + 1;
        for (size_t i = 0; i < pieces && r == 0; i++) {
            c->plain[0] = KITH_MSG_FRAG;
            randombytes_buf(c->plain + 1, KITH_WIRE_PIECE_MAX - 1);
            r = send_plain(c, c->plain, KITH_WIRE_PIECE_MAX);
        }
        printf("sent %zu FRAG pieces (%zu bytes; the node's max_msg is %u)\n", pieces,
               pieces * (KITH_WIRE_PIECE_MAX - 1), c->node_max_msg);
    } else if (strcmp(rogue_opt.mode, "oversize-want") == 0) {
        size_t n = KITH_WIRE_WANT_MAX + 1;
        msgbuf[0] = KITH_MSG_WANT;
        msgbuf[1] = 0;
        msgbuf[2] = (uint8_t)(n >> 8);
        msgbuf[3] = (uint8_t)n;
        randombytes_buf(msgbuf + 4, n * KITH_POST_ID_BYTES);
        r = send_bytes(c, msgbuf, 4 + n * KITH_POST_ID_BYTES);
        printf("sent a WANT of %zu ids\n", n);
    } else if (strcmp(rogue_opt.mode, "forged") == 0) {
        r = send_posts(c, 0);
    } else if (strcmp(rogue_opt.mode, "forged-push") == 0) {
        r = send_posts(c, 1);
    } else if (strcmp(rogue_opt.mode, "undecryptable") == 0) {
        r = send_posts(c, 2);
    } else if (strcmp(rogue_opt.mode, "foreign") == 0) {
        r = send_posts(c, 3);
    } else if (strcmp(rogue_opt.mode, "badrecon") == 0) {
        static const uint8_t bad[] = {KITH_MSG_RECON, 0, KITH_RECON_VERSION, 0x80, 0x00};
        r = send_bytes(c, bad, sizeof(bad));
        printf("sent a RECON with a non-canonical varint\n");
    } else if (strcmp(rogue_opt.mode, "badindex") == 0) {
        msgbuf[0] = KITH_MSG_WANT;
        msgbuf[1] = 7;
        msgbuf[2] = 0;
        msgbuf[3] = 1;
        randombytes_buf(msgbuf + 4, KITH_POST_ID_BYTES);
        r = send_bytes(c, msgbuf, 4 + KITH_POST_ID_BYTES);
        printf("sent a WANT for group index 7\n");
    }
    /* A write that fails because the node already closed is an outcome. */
    return r == -EPIPE || r == -ECONNRESET ? 0 : r;
}

static int mode_replay(char *result, size_t cap)
{
    struct conn *c = conn_new(), *d = NULL;
    uint8_t proof_msg[2 + 2 * KITH_PROOF_BYTES];
    size_t proof_len = 0, index;
    struct kith_msg m;
    struct outcome o;
    char r2[RESULT_MAX], r3[RESULT_MAX], r4[RESULT_MAX] = "not run (no invite)";
    int r;

    if (c == NULL)
        return 2;
    c->record = 1;
    r = session_start(c, proof_msg, &proof_len);
    if (r != 0 || (rogue_opt.has_invite && !node_has_group(c, &index))) {
        snprintf(result, cap, "session 1 failed");
        conn_free(c);
        return 1;
    }
    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_BYE;
    m.u.bye.reason = KITH_BYE_DONE;
    (void)send_msg(c, &m);
    printf("session 1: honest, %zu frames recorded, ended with BYE\n", c->n_rec);

    /* Session 2: a fresh message 1, then session 1's message 3. */
    d = conn_new();
    if (d == NULL)
        goto fail;
    r = handshake(d, NULL, 0, c->rec[1], c->rec_len[1], now_ms() + rogue_opt.timeout_ms);
    observe_raw(d, &o);
    describe(&o, r == 2 || r == CLOSED, r2, sizeof(r2));
    if (o.bytes != 0)
        snprintf(r2 + strlen(r2), sizeof(r2) - strlen(r2), " (sent %zu bytes after)", o.bytes);
    conn_free(d);

    /* Session 3: every frame of session 1 again, in order. */
    d = conn_new();
    if (d == NULL)
        goto fail;
    r = handshake(d, c->rec[0], c->rec_len[0], c->rec[1], c->rec_len[1],
                  now_ms() + rogue_opt.timeout_ms);
    for (size_t i = 2; i < c->n_rec && r == 2; i++)
        (void)send_frame(d, c->rec[i], c->rec_len[i]);
    observe_raw(d, &o);
    describe(&o, r == 2 || r == CLOSED, r3, sizeof(r3));
    if (o.bytes != 0)
        snprintf(r3 + strlen(r3), sizeof(r3) - strlen(r3), " (sent %zu bytes after)", o.bytes);
    conn_free(d);
    d = NULL;

    /* Session 4: an honest handshake carrying session 1's PROOF. */
    if (rogue_opt.has_invite) {
        d = conn_new();
        if (d == NULL)
            goto fail;
        memset(&m, 0, sizeof(m));
        m.type = KITH_MSG_HELLO;
        m.u.hello.version = KITH_WIRE_VERSION;
        m.u.hello.max_msg = ROGUE_MAX_MSG;
        r = handshake(d, NULL, 0, NULL, 0, now_ms() + rogue_opt.timeout_ms);
        if (r == 0)
            r = send_msg(d, &m);
        if (r == 0)
            r = send_bytes(d, proof_msg, proof_len);
        if (r != 0)
            printf("session 4: could not send: %s\n", r == CLOSED ? "closed" : kith_errname(r));
        observe(d, &o);
        describe(&o, 0, r4, sizeof(r4));
        conn_free(d);
    }
    printf("session 2 (fresh message 1, old message 3): %s\n", r2);
    printf("session 3 (all of session 1 again): %s\n", r3);
    printf("session 4 (new handshake, old PROOF): %s\n", r4);
    snprintf(result, cap, "%s; %s; %s", r2, r3, r4);
    conn_free(c);
    return 0;
fail:
    conn_free(c);
    return 2;
}

/* Every mode: what the node should do ("" for report-only modes) and
 * whether it needs --invite. */
static const struct mode_info {
    const char *mode, *expect;
    int invite;
} modes[] = {
    {"garbage-hs", "closed during the handshake", 0},
    {"oversize-hs", "closed during the handshake", 0},
    {"stall", "closed during the handshake", 0},
    {"garbage", "closed after ERROR KITH_EDECRYPT", 0},
    {"oversize", "closed after ERROR KITH_ETOOBIG", 0},
    {"oversize-want", "closed after ERROR KITH_ETOOBIG", 0},
    {"forged", "closed after ERROR KITH_ESIGNATURE", 1},
    {"forged-push", "closed after ERROR KITH_ESIGNATURE", 1},
    {"undecryptable", "closed after ERROR KITH_EDECRYPT", 1},
    {"foreign", "closed after ERROR KITH_EPROTOCOL", 1},
    {"badindex", "closed after ERROR KITH_EPROTOCOL", 1},
    {"badrecon", "closed after ERROR KITH_EENCODING", 1},
    {"order", "closed after ERROR KITH_EPROTOCOL", 0},
    {"nogroup", "closed after BYE 3 (no-groups)", 0},
    {"replay",
     "closed during the handshake; closed during the handshake; closed after BYE 3 (no-groups)", 1},
    {"truncate", "cut mid-transfer; node still answers", 1},
    {"probe", "", 0},
    {"endless", "", 1},
};

static const struct mode_info *mode_find(const char *mode)
{
    for (size_t i = 0; mode != NULL && i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(modes[i].mode, mode) == 0)
            return &modes[i];
    }
    return NULL;
}

static int run(char *result, size_t cap)
{
    struct conn *c;
    struct outcome o;
    int r, hs_stage = 0;

    if (strcmp(rogue_opt.mode, "replay") == 0)
        return mode_replay(result, cap);
    if (strcmp(rogue_opt.mode, "truncate") == 0)
        return mode_truncate(result, cap);
    if (strcmp(rogue_opt.mode, "endless") == 0)
        return mode_endless(result, cap);
    c = conn_new();
    if (c != NULL && strcmp(rogue_opt.mode, "probe") == 0) {
        struct kith_msg m;

        r = session_start(c, NULL, NULL);
        if (r == 0) {
            memset(&m, 0, sizeof(m));
            m.type = KITH_MSG_BYE;
            (void)send_msg(c, &m);
        }
        char what[RESULT_MAX / 2];

        observe(c, &o);
        describe(&o, r != 0, what, sizeof(what));
        snprintf(result, cap, "session %s; %s", r == 0 ? "accepted" : "refused", what);
        conn_free(c);
        return 0;
    }
    if (c == NULL)
        return 2;
    if (strcmp(rogue_opt.mode, "garbage-hs") == 0) {
        r = raw_send(c, 0, 70000);
        hs_stage = 1;
    } else if (strcmp(rogue_opt.mode, "oversize-hs") == 0) {
        r = raw_send(c, KITH_FRAME_MAX, KITH_FRAME_MAX);
        hs_stage = 1;
    } else if (strcmp(rogue_opt.mode, "stall") == 0) {
        r = raw_send(c, KITH_FRAME_MAX, 100);
        hs_stage = 1;
    } else if (strcmp(rogue_opt.mode, "order") == 0) {
        struct kith_msg m;
        uint8_t proof[KITH_PROOF_BYTES];

        r = handshake(c, NULL, 0, NULL, 0, now_ms() + rogue_opt.timeout_ms);
        memset(&m, 0, sizeof(m));
        m.type = KITH_MSG_PROOF;
        m.u.proof.proofs = proof;
        m.u.proof.count = 1;
        randombytes_buf(proof, sizeof(proof));
        if (r == 0)
            r = send_msg(c, &m);
        printf("sent PROOF before HELLO\n");
    } else {
        r = session_start(c, NULL, NULL);
        if (r == 0 && rogue_opt.has_invite && strcmp(rogue_opt.mode, "nogroup") != 0) {
            size_t gi;
            if (!node_has_group(c, &gi)) {
                snprintf(result, cap, "the node does not hold the invite's group");
                conn_free(c);
                return 1;
            }
        }
        if (r == 0)
            r = after_start(c);
    }
    if (r < 0) {
        snprintf(result, cap, "failed before misbehaving: %s", kith_errname(r));
        conn_free(c);
        return 1;
    }
    if (hs_stage) {
        int64_t t0 = now_ms();
        observe_raw(c, &o);
        printf("the node sent %zu bytes and %s after %lld ms\n", o.bytes,
               o.closed ? "closed" : "kept the connection", (long long)(now_ms() - t0));
    } else {
        observe(c, &o);
    }
    describe(&o, hs_stage, result, cap);
    conn_free(c);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: kith-rogue --connect HOST:PORT --mode MODE [--invite CODE]\n"
                    "                  [--timeout SECONDS] [--cut-after POSTS] [--count POSTS]\n"
                    "                  [--key HEX64] [--listen PORT (endless)]\n"
                    "modes: garbage-hs oversize-hs stall garbage oversize oversize-want forged\n"
                    "       forged-push undecryptable foreign badindex badrecon order nogroup\n"
                    "       replay truncate probe endless\n");
    return 2;
}

int main(int argc, char **argv)
{
    static char hostbuf[300];
    char result[RESULT_MAX] = "";
    uint8_t pk[KITH_NOISE_DHLEN];
    const struct mode_info *mi;
    const char *exp, *key_hex = NULL;
    size_t key_len = 0;
    int r;

    rogue_opt.timeout_ms = 10000;
    rogue_opt.cut_after = 1;
    rogue_opt.count = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            return usage();
        i++;
        if (strcmp(a, "--connect") == 0) {
            char *colon;
            snprintf(hostbuf, sizeof(hostbuf), "%s", v[0] == '[' ? v + 1 : v);
            colon = strrchr(hostbuf, ':');
            if (colon == NULL)
                return usage();
            *colon = '\0';
            if (colon > hostbuf && colon[-1] == ']')
                colon[-1] = '\0';
            rogue_opt.host = hostbuf;
            rogue_opt.port = colon + 1;
        } else if (strcmp(a, "--mode") == 0) {
            rogue_opt.mode = v;
        } else if (strcmp(a, "--invite") == 0) {
            if (kith_invite_decode(v, strlen(v), &rogue_opt.inv) < 0) {
                fprintf(stderr, "kith-rogue: bad invite code\n");
                return 2;
            }
            rogue_opt.has_invite = 1;
        } else if (strcmp(a, "--timeout") == 0) {
            rogue_opt.timeout_ms = atoi(v) * 1000;
        } else if (strcmp(a, "--cut-after") == 0) {
            rogue_opt.cut_after = (size_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--count") == 0) {
            rogue_opt.count = (size_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--key") == 0) {
            key_hex = v;
        } else if (strcmp(a, "--listen") == 0) {
            rogue_opt.listen_port = v;
        } else {
            return usage();
        }
    }
    mi = mode_find(rogue_opt.mode);
    if (mi != NULL && strcmp(mi->mode, "endless") == 0 && rogue_opt.listen_port != NULL)
        rogue_opt.host = "127.0.0.1"; /* we listen; nothing is dialed */
    if (rogue_opt.host == NULL || mi == NULL || rogue_opt.timeout_ms <= 0)
        return usage();
    if (strcmp(rogue_opt.mode, "nogroup") == 0)
        rogue_opt.has_invite = 0; /* it proves nothing */
    if (!rogue_opt.has_invite && mi->invite) {
        fprintf(stderr, "kith-rogue: mode %s needs --invite\n", rogue_opt.mode);
        return 2;
    }
    if (sodium_init() < 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (key_hex == NULL)
        randombytes_buf(my_sk, sizeof(my_sk));
    else if (sodium_hex2bin(my_sk, sizeof(my_sk), key_hex, strlen(key_hex), NULL, &key_len, NULL) !=
                 0 ||
             key_len != sizeof(my_sk))
        return usage();
    crypto_scalarmult_base(pk, my_sk);
    print_hex("key", pk, sizeof(pk));
    r = run(result, sizeof(result));
    sodium_memzero(my_sk, sizeof(my_sk));
    sodium_memzero(&rogue_opt.inv, sizeof(rogue_opt.inv));
    if (r == 2)
        return 2;
    exp = mi->expect;
    if (exp[0] == '\0') {
        printf("result: %s\n", result);
        return r == 0 ? 0 : 1;
    }
    printf("result: %s\n", result);
    printf("expect: %s\n", exp);
    return r == 0 && strcmp(result, exp) == 0 ? 0 : 1;
}
