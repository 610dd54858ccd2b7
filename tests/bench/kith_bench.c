/*
 * kith_bench: how fast a node writes and reads posts, measured in one run on
 * one machine (a benchmark, not a test: it asserts nothing about speed).
 *
 *   kith_bench [--posts N] [--batch B]
 *
 * Prints plain "name: value" lines:
 *   sealed_stored_per_s   sign + seal + store_post_put, B posts per store_write
 *                         (one committed, synced LMDB transaction per batch)
 *   opened_verified_per_s kith_post_open + kith_post_verify, posts in memory
 *   read_opened_verified_per_s  the same, each post read from the store first
 *   raw_verify_per_s      crypto_sign_verify_detached on messages of the same
 *                         size as the posts' signed messages
 *   ratio_opened_verified_to_raw  the aim is >= 0.9: opening a post should cost
 *                         little beyond its signature check
 * Each read figure is the best of a few rounds, taken in turn, so that clock
 * scaling and noise hit every figure alike. The store lives in a private
 * temporary directory that is removed at the end.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "kith/post.h"
#include "store.h"

#define BODY_BYTES 500
#define ROUNDS 3

struct bench {
    size_t n, batch;
    uint8_t group_key[KITH_GROUP_KEY_BYTES];
    uint8_t group_id[KITH_GROUP_ID_BYTES];
    uint8_t pk[KITH_PUBKEY_BYTES], sk[KITH_SECKEY_BYTES];
    uint8_t *sealed; /* n posts, one slot of stride bytes each */
    size_t stride;   /* bytes per post slot in sealed */
    size_t *len;     /* sealed length of each post */
    uint8_t (*id)[KITH_POST_ID_BYTES];
    uint64_t *created_ms;
    size_t put_from, put_to; /* the batch store_write is putting */
    struct store *st;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int put_batch(struct store_txn *txn, void *arg)
{
    struct bench *b = arg;

    for (size_t i = b->put_from; i < b->put_to; i++) {
        struct store_post_meta meta = {0};
        int rc;

        memcpy(meta.group_id, b->group_id, sizeof(meta.group_id));
        meta.created_ms = b->created_ms[i];
        rc = store_post_put(txn, b->id[i], b->sealed + i * b->stride, b->len[i], &meta);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Sign, seal and store every post, batch by batch. */
static int seal_and_store(struct bench *b, double *secs)
{
    static uint8_t work[KITH_POST_SEALED_MAX];
    char body[BODY_BYTES];
    double t0 = now_s();

    for (size_t i = 0; i < BODY_BYTES; i++)
        body[i] = "Notes from the meetup about direct payments.\n"[i % 45];
    for (size_t from = 0; from < b->n; from += b->batch) {
        size_t to = from + b->batch < b->n ? from + b->batch : b->n;
        int rc;

        for (size_t i = from; i < to; i++) {
            struct kith_post p;

            memset(&p, 0, sizeof(p));
            p.outer.version = KITH_POST_VERSION;
            memcpy(p.outer.group_id, b->group_id, sizeof(p.outer.group_id));
            p.outer.epoch = 1;
            p.outer.created_ms = b->created_ms[i] = 1700000000000ull + i;
            randombytes_buf(p.outer.nonce, sizeof(p.outer.nonce));
            p.kind = KITH_POST_KIND_POST;
            p.topic = "direct-payments";
            p.topic_len = strlen(p.topic);
            p.title = "Benchmark post";
            p.title_len = strlen(p.title);
            p.body = body;
            p.body_len = sizeof(body);
            if ((rc = kith_post_sign(&p, b->sk, work, sizeof(work))) < 0 ||
                (rc = kith_post_seal(&p, b->group_key, b->sealed + i * b->stride, b->stride,
                                     &b->len[i])) < 0) {
                fprintf(stderr, "kith_bench: seal: %s\n", kith_strerror(rc));
                return rc;
            }
            kith_post_id(b->sealed + i * b->stride, b->len[i], b->id[i]);
        }
        b->put_from = from;
        b->put_to = to;
        if ((rc = store_write(b->st, put_batch, b)) < 0) {
            fprintf(stderr, "kith_bench: store: %s\n", kith_strerror(rc));
            return rc;
        }
    }
    *secs = now_s() - t0;
    return 0;
}

static int open_verify_all(struct bench *b, uint8_t *plain, double *secs)
{
    double t0 = now_s();

    for (size_t i = 0; i < b->n; i++) {
        struct kith_post p;

        if (kith_post_open(b->sealed + i * b->stride, b->len[i], b->group_key, plain,
                           KITH_POST_SEALED_MAX, &p) != 0 ||
            kith_post_verify(&p) != 0)
            return -1;
    }
    *secs = now_s() - t0;
    return 0;
}

static int read_open_verify_all(struct bench *b, uint8_t *plain, double *secs)
{
    struct store_txn *txn;
    double t0 = now_s();
    int rc = 0;

    if (store_read_begin(b->st, &txn) < 0)
        return -1;
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        const uint8_t *s;
        struct kith_post p;
        size_t len;

        if (store_post_get(txn, b->id[i], &s, &len) != 0 ||
            kith_post_open(s, len, b->group_key, plain, KITH_POST_SEALED_MAX, &p) != 0 ||
            kith_post_verify(&p) != 0)
            rc = -1;
    }
    store_txn_end(txn);
    *secs = now_s() - t0;
    return rc;
}

/* The raw Ed25519 check on the posts' own signed messages (same sizes). */
static int raw_verify_all(struct bench *b, uint8_t *msgs, size_t msg_len, uint8_t (*sigs)[64],
                          double *secs)
{
    double t0 = now_s();

    for (size_t i = 0; i < b->n; i++) {
        if (crypto_sign_verify_detached(sigs[i], msgs + i * msg_len, msg_len, b->pk) != 0)
            return -1;
    }
    *secs = now_s() - t0;
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void usage(void)
{
    fprintf(stderr, "usage: kith_bench [--posts N] [--batch B]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct bench b = {.n = 20000, .batch = 500};
    char dir[] = "/tmp/kith-bench-XXXXXX";
    static uint8_t plain[KITH_POST_SEALED_MAX];
    double t_store, t_open, t_read, t_raw, best_open = 1e30, best_read = 1e30, best_raw = 1e30;
    uint8_t *msgs = NULL;
    uint8_t(*sigs)[64] = NULL;
    size_t msg_len = 0;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--posts") == 0 && i + 1 < argc)
            b.n = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            b.batch = strtoul(argv[++i], NULL, 10);
        else
            usage();
    }
    if (b.n == 0 || b.batch == 0)
        usage();
    if (sodium_init() < 0)
        return 1;
    randombytes_buf(b.group_key, sizeof(b.group_key));
    randombytes_buf(b.group_id, sizeof(b.group_id));
    crypto_sign_keypair(b.pk, b.sk);
    b.stride = 1024;
    b.sealed = malloc(b.n * b.stride);
    b.len = calloc(b.n, sizeof(*b.len));
    b.id = calloc(b.n, sizeof(*b.id));
    b.created_ms = calloc(b.n, sizeof(*b.created_ms));
    if (!b.sealed || !b.len || !b.id || !b.created_ms || mkdtemp(dir) == NULL) {
        perror("kith_bench");
        goto out;
    }
    if ((rc = store_open(dir, &b.st)) < 0) {
        fprintf(stderr, "kith_bench: store_open: %s\n", kith_strerror(rc));
        rc = 1;
        goto rmdir;
    }
    rc = 1;
    if (seal_and_store(&b, &t_store) < 0)
        goto close;

    /* The messages the signatures cover, copied out once for the raw rate. */
    {
        struct kith_post p;

        if (kith_post_open(b.sealed, b.len[0], b.group_key, plain, sizeof(plain), &p) != 0)
            goto close;
        msg_len = p.signed_len;
    }
    msgs = malloc(b.n * msg_len);
    sigs = malloc(b.n * sizeof(*sigs));
    if (!msgs || !sigs)
        goto close;
    for (size_t i = 0; i < b.n; i++) {
        struct kith_post p;

        if (kith_post_open(b.sealed + i * b.stride, b.len[i], b.group_key, plain, sizeof(plain),
                           &p) != 0 ||
            p.signed_len != msg_len)
            goto close;
        memcpy(msgs + i * msg_len, p.signed_msg, msg_len);
        memcpy(sigs[i], p.sig, 64);
    }

    for (int r = 0; r < ROUNDS; r++) {
        if (raw_verify_all(&b, msgs, msg_len, sigs, &t_raw) < 0 ||
            open_verify_all(&b, plain, &t_open) < 0 ||
            read_open_verify_all(&b, plain, &t_read) < 0) {
            fprintf(stderr, "kith_bench: a post failed to open or verify\n");
            goto close;
        }
        best_raw = t_raw < best_raw ? t_raw : best_raw;
        best_open = t_open < best_open ? t_open : best_open;
        best_read = t_read < best_read ? t_read : best_read;
    }

    printf("posts: %zu\n", b.n);
    printf("batch: %zu\n", b.batch);
    printf("body_bytes: %d\n", BODY_BYTES);
    printf("sealed_bytes: %zu\n", b.len[0]);
    printf("signed_message_bytes: %zu\n", msg_len);
    printf("sealed_stored_per_s: %.0f\n", (double)b.n / t_store);
    printf("opened_verified_per_s: %.0f\n", (double)b.n / best_open);
    printf("read_opened_verified_per_s: %.0f\n", (double)b.n / best_read);
    printf("raw_verify_per_s: %.0f\n", (double)b.n / best_raw);
    printf("ratio_opened_verified_to_raw: %.3f\n", best_raw / best_open);
    rc = 0;

close:
    store_close(b.st);
rmdir:
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
out:
    free(msgs);
    free(sigs);
    free(b.sealed);
    free(b.len);
    free(b.id);
    free(b.created_ms);
    return rc;
}
