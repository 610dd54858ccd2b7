/*
 * fuzz_peer: bytes from a peer into a responder session (node/peer.c) over a
 * real node (store, vault, service, identity in a temp dir, one group).
 *
 * The first input byte picks the mode:
 *   even: the rest is cut into frames (u16 length + bytes) fed as they are,
 *         from the first handshake message on;
 *   odd:  the fuzzer first runs a real Noise XX handshake as the initiator
 *         (kith/noise.h), then sends HELLO and a PROOF of the node's group,
 *         then each frame of the rest is encrypted and fed, so the session
 *         layer (reassembly, decoding, the order rules, RECON, WANT, POSTS,
 *         PUSH) is what gets fuzzed.
 * A session must end cleanly whatever comes, with no leak, and never abort.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "identity.h"
#include "kith/msg.h"
#include "kith/noise.h"
#include "kith/proof.h"
#include "peer.h"
#include "record.h"
#include "service.h"

struct ft {
    struct transport t;
    uint8_t out[8][KITH_NOISE_MSG_MAX]; /* the first frames the session sent */
    size_t out_len[8], n_out;
    int close_asked;
};

static int f_send(struct transport *t, const uint8_t *frame, size_t len)
{
    struct ft *f = (struct ft *)t;

    if (f->close_asked)
        return -EPIPE;
    if (f->n_out < 8) {
        memcpy(f->out[f->n_out], frame, len);
        f->out_len[f->n_out++] = len;
    }
    return 0;
}

static size_t f_queued(const struct transport *t)
{
    (void)t;
    return 0;
}

static void f_ready(struct transport *t)
{
    (void)t;
}

static void f_pause(struct transport *t, int paused)
{
    (void)t;
    (void)paused;
}

static void f_close(struct transport *t)
{
    ((struct ft *)t)->close_asked = 1;
}

static const struct transport_ops ops = {f_send, f_queued, f_ready, f_pause, f_close};

static uv_loop_t loop;
static struct store *st;
static struct vault *vault;
static struct service *svc;
static struct identity *id;
static struct peer_group group;
static struct peer_env env;
static int ended;

static void on_end(struct peer *p, int err, enum peer_fault fault, void *arg)
{
    (void)p;
    (void)err;
    (void)fault;
    (void)arg;
    ended = 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static char dir[64] = "/tmp/kith-fuzz-peer-XXXXXX";
    char key[128];
    struct service_config sc;
    struct service_session *sess;
    json_t *j;
    struct store_txn *txn;
    struct record_group g;

    (void)argc;
    (void)argv;
    if (sodium_init() < 0 || mkdtemp(dir) == NULL || uv_loop_init(&loop) != 0)
        abort();
    snprintf(key, sizeof(key), "%s/node.key", dir);
    memset(&sc, 0, sizeof(sc));
    if (store_open(dir, &st) < 0 || vault_open_keyfile(st, key, &vault) < 0 ||
        service_open(st, vault, &sc, &svc) < 0 || identity_open(st, vault, &id) < 0 ||
        service_account_create(svc, "fuzz", "pw", 2, &sess) < 0 ||
        service_group_create(svc, sess, "g", NULL, 0, &j) < 0)
        abort();
    if (sodium_hex2bin(group.id, 32, json_string_value(json_object_get(j, "group_id")), 64, NULL,
                       NULL, NULL) != 0)
        abort();
    json_decref(j);
    if (store_read_begin(st, &txn) < 0 || record_group_load(txn, vault, group.id, &g) < 0)
        abort();
    store_txn_end(txn);
    memcpy(group.key, g.key, 32);
    group.epoch = g.epoch;
    record_group_wipe(&g);
    env.loop = &loop;
    env.svc = svc;
    env.st = st;
    env.id = id;
    env.groups = &group;
    env.n_groups = 1;
    env.on_end = on_end;
    return 0;
}

/* Run the initiator's side of the handshake against the session; returns
 * 0 with tx set, or -1. */
static int handshake(struct ft *f, struct kith_noise_cipher *tx)
{
    static const uint8_t s[32] = {1, 2, 3}, e[32] = {4, 5, 6};
    struct kith_noise_handshake hs;
    struct kith_noise_cipher rx;
    uint8_t msg[KITH_NOISE_MSG_MAX], pl[16], hh[64], proof[32];
    uint8_t plain[128], ct[256];
    size_t n, pn, len;
    struct kith_msg m;
    int r = -1;

    if (kith_noise_handshake_init_kith(&hs, 1, s, e) < 0 ||
        kith_noise_handshake_write(&hs, NULL, 0, msg, sizeof(msg), &n) < 0)
        goto done;
    f->t.on_frame(&f->t, msg, n);
    if (f->n_out != 1 ||
        kith_noise_handshake_read(&hs, f->out[0], f->out_len[0], pl, sizeof(pl), &pn) < 0 ||
        kith_noise_handshake_write(&hs, NULL, 0, msg, sizeof(msg), &n) < 0 ||
        kith_noise_handshake_hash(&hs, hh) < 0 || kith_noise_handshake_split(&hs, tx, &rx) < 0)
        goto done;
    f->t.on_frame(&f->t, msg, n);
    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_HELLO;
    m.u.hello.version = KITH_WIRE_VERSION;
    m.u.hello.max_msg = KITH_WIRE_MSG_MAX;
    if (kith_msg_encode(&m, plain, sizeof(plain), &len) < 0 ||
        kith_noise_cipher_encrypt(tx, NULL, 0, plain, len, ct, sizeof(ct), &n) < 0)
        goto done;
    f->t.on_frame(&f->t, ct, n);
    if (kith_proof_make(group.key, group.epoch, hh, KITH_PROOF_INITIATOR, proof) < 0)
        goto done;
    memset(&m, 0, sizeof(m));
    m.type = KITH_MSG_PROOF;
    m.u.proof.proofs = proof;
    m.u.proof.count = 1;
    if (kith_msg_encode(&m, plain, sizeof(plain), &len) < 0 ||
        kith_noise_cipher_encrypt(tx, NULL, 0, plain, len, ct, sizeof(ct), &n) < 0)
        goto done;
    f->t.on_frame(&f->t, ct, n);
    r = 0;
done:
    kith_noise_handshake_wipe(&hs);
    kith_noise_cipher_wipe(&rx);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t ct[KITH_NOISE_MSG_MAX];
    struct ft *f = calloc(1, sizeof(*f));
    struct kith_noise_cipher tx;
    struct peer *p;
    int sealed = 0;

    if (f == NULL || size == 0) {
        free(f);
        return 0;
    }
    f->t.ops = &ops;
    memset(&tx, 0, sizeof(tx));
    ended = 0;
    if (peer_start(&env, &f->t, 0, &p) < 0) {
        free(f);
        return 0;
    }
    if ((data[0] & 1) && handshake(f, &tx) == 0)
        sealed = 1;
    data++;
    size--;
    while (size >= 2 && !f->close_asked) {
        size_t len = (size_t)data[0] << 8 | data[1];
        size_t n = 0;

        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        if (len == 0 || len > KITH_NOISE_PLAIN_MAX)
            break;
        if (sealed) {
            if (kith_noise_cipher_encrypt(&tx, NULL, 0, data, len, ct, sizeof(ct), &n) < 0)
                break;
            f->t.on_frame(&f->t, ct, n);
        } else {
            f->t.on_frame(&f->t, data, len);
        }
        /* Let verification work finish before the next frame. */
        uv_run(&loop, UV_RUN_NOWAIT);
        data += len;
        size -= len;
    }
    /* The medium closes; the session frees itself once its work is done. */
    f->t.on_close(&f->t, f->close_asked ? 0 : -EPIPE);
    while (!ended)
        uv_run(&loop, UV_RUN_ONCE);
    kith_noise_cipher_wipe(&tx);
    free(f);
    return 0;
}
