/*
 * benchprep: what the benchmarks share to build a node's data dir
 * in-process before they start real kithd processes on it: an account, a
 * group (or a joined one) and many signed, sealed posts stored in batches
 * through service_accept_batch, as sync stores them. Not part of kithd; only
 * the programs in tests/bench link it.
 *
 * It owns nothing beyond its structs: a bench_node holds the open store,
 * vault and service of one data dir until bench_node_close; a bench_writer
 * holds the buffers of one batch until bench_writer_free.
 */
#ifndef KITH_BENCHPREP_H
#define KITH_BENCHPREP_H

#include <stddef.h>
#include <stdint.h>

#include "kith/invite.h"
#include "kith/post.h"
#include "service.h"
#include "store.h"
#include "vault.h"

struct bench_node {
    struct store *st;
    struct vault *v;
    struct service *svc;
    struct service_session *sess; /* the account made by bench_node_open */
};

/* Open (making it) the data dir dir with its key file DIR/node.key and
 * create the account name with passphrase pass. Returns 0 or the first
 * error; on error nothing is left open. */
int bench_node_open(struct bench_node *n, const char *dir, const char *name, const char *pass);
void bench_node_close(struct bench_node *n);

/* Create the group name for n's account, with the default topics, and fill
 * *inv and code (capacity cap, at least KITH_INVITE_TEXT_MAX) with its
 * invite. The caller wipes both when done. */
int bench_group_create(struct bench_node *n, const char *name, struct kith_invite *inv, char *code,
                       size_t cap);

/* Join the group of code with n's account. */
int bench_group_join(struct bench_node *n, const char *code);

/* One post to write: its text is copied when it is added. */
struct bench_post {
    uint8_t kind;          /* enum kith_post_kind */
    const uint8_t *parent; /* KITH_POST_ID_BYTES, or NULL */
    const char *topic, *title, *body;
    size_t body_len;
    uint64_t created_ms;
};

/* Posts sealed for one group by one author and stored a batch at a time. */
struct bench_writer {
    struct service *svc;
    const struct kith_invite *inv;
    const uint8_t *author_sk;
    size_t batch, n;
    struct service_incoming *in;
    struct kith_post *posts;
    uint8_t *sealed, *plain; /* arenas of BENCH_ARENA bytes, filled in step */
    size_t used;
    uint64_t sealed_total; /* bytes of every post added so far */
    size_t signed_len;     /* bytes the last post's signature covers */
    size_t stored_total;
};

/* svc, inv and author_sk are borrowed and must outlive the writer. Posts are
 * stored batch at a time (or sooner when the buffers are full). */
int bench_writer_init(struct bench_writer *w, struct service *svc, const struct kith_invite *inv,
                      const uint8_t *author_sk, size_t batch);

/* Sign and seal p and queue it; store the batch when it is full. id (may be
 * NULL) receives the post id, len (may be NULL) its sealed size. */
int bench_writer_add(struct bench_writer *w, const struct bench_post *p, uint8_t *id, size_t *len);

/* Add n copies of *p, created first_ms, first_ms + 1, ..., and store them
 * all (the last batch too). */
int bench_writer_fill(struct bench_writer *w, struct bench_post *p, size_t n, uint64_t first_ms);

/* Store what is queued, in one transaction. -KITH_EEXIST style refusals
 * count as errors here: a benchmark's posts are all new. */
int bench_writer_flush(struct bench_writer *w);
void bench_writer_free(struct bench_writer *w);

#endif
