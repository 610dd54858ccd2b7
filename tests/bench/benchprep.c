/*
 * benchprep: building a benchmark's data dir in-process (see benchprep.h).
 * Posts are opened again after sealing so that the batch handed to
 * service_accept_batch looks exactly like one that sync verified: text
 * fields pointing into plaintext the writer owns.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "benchprep.h"
#include "kith/error.h"

/* Sealed and plaintext bytes kept per batch before it is stored. */
#define BENCH_ARENA (8u * 1024 * 1024)

int bench_node_open(struct bench_node *n, const char *dir, const char *name, const char *pass)
{
    char key[PATH_MAX];
    int r;

    memset(n, 0, sizeof(*n));
    if ((size_t)snprintf(key, sizeof(key), "%s/node.key", dir) >= sizeof(key))
        return -ENAMETOOLONG;
    if ((r = store_open(dir, &n->st)) < 0)
        goto fail;
    if ((r = vault_open_keyfile(n->st, key, &n->v)) < 0)
        goto fail;
    if ((r = service_open(n->st, n->v, &(struct service_config){0}, &n->svc)) < 0)
        goto fail;
    if ((r = service_account_create(n->svc, name, pass, strlen(pass), &n->sess)) < 0)
        goto fail;
    return 0;
fail:
    bench_node_close(n);
    return r;
}

void bench_node_close(struct bench_node *n)
{
    if (n->svc != NULL)
        service_close(n->svc);
    if (n->v != NULL)
        vault_close(n->v);
    if (n->st != NULL)
        store_close(n->st);
    memset(n, 0, sizeof(*n));
}

int bench_group_create(struct bench_node *n, const char *name, struct kith_invite *inv, char *code,
                       size_t cap)
{
    json_t *j = NULL;
    const char *text;
    int r;

    if ((r = service_group_create(n->svc, n->sess, name, NULL, 0, &j)) < 0)
        return r;
    json_decref(j);
    j = NULL;
    if ((r = service_group_invite(n->svc, n->sess, name, &j)) < 0)
        return r;
    text = json_string_value(json_object_get(j, "code"));
    if (text == NULL || strlen(text) >= cap) {
        r = -KITH_EINVITE;
        goto fail;
    }
    snprintf(code, cap, "%s", text);
    if (kith_invite_decode(code, strlen(code), inv) != 0) {
        r = -KITH_EINVITE;
        goto fail;
    }
    r = 0;
fail:
    json_decref(j);
    return r;
}

int bench_group_join(struct bench_node *n, const char *code)
{
    json_t *j = NULL;
    int r = service_group_join(n->svc, n->sess, code, &j);

    json_decref(j);
    return r;
}

int bench_writer_init(struct bench_writer *w, struct service *svc, const struct kith_invite *inv,
                      const uint8_t *author_sk, size_t batch)
{
    memset(w, 0, sizeof(*w));
    w->svc = svc;
    w->inv = inv;
    w->author_sk = author_sk;
    w->batch = batch > 0 ? batch : 1;
    w->in = calloc(w->batch, sizeof(*w->in));
    w->posts = calloc(w->batch, sizeof(*w->posts));
    w->sealed = malloc(BENCH_ARENA);
    w->plain = malloc(BENCH_ARENA);
    if (w->in == NULL || w->posts == NULL || w->sealed == NULL || w->plain == NULL) {
        bench_writer_free(w);
        return -ENOMEM;
    }
    return 0;
}

int bench_writer_add(struct bench_writer *w, const struct bench_post *p, uint8_t *id, size_t *len)
{
    static uint8_t work[KITH_POST_SEALED_MAX];
    struct kith_post post;
    struct service_incoming *in;
    size_t sealed_len = 0;
    int r;

    if (w->n == w->batch || BENCH_ARENA - w->used < KITH_POST_SEALED_MAX) {
        if ((r = bench_writer_flush(w)) < 0)
            return r;
    }
    memset(&post, 0, sizeof(post));
    post.outer.version = KITH_POST_VERSION;
    memcpy(post.outer.group_id, w->inv->group_id, sizeof(post.outer.group_id));
    post.outer.epoch = w->inv->epoch;
    post.outer.created_ms = p->created_ms;
    randombytes_buf(post.outer.nonce, sizeof(post.outer.nonce));
    post.kind = p->kind;
    if (p->parent != NULL) {
        post.has_parent = 1;
        memcpy(post.parent, p->parent, sizeof(post.parent));
    }
    post.topic = p->topic;
    post.topic_len = p->topic != NULL ? strlen(p->topic) : 0;
    post.title = p->title;
    post.title_len = p->title != NULL ? strlen(p->title) : 0;
    post.body = p->body;
    post.body_len = p->body_len;

    in = &w->in[w->n];
    in->sealed = w->sealed + w->used;
    if ((r = kith_post_sign(&post, w->author_sk, work, sizeof(work))) < 0 ||
        (r = kith_post_seal(&post, w->inv->group_key, w->sealed + w->used, KITH_POST_SEALED_MAX,
                            &sealed_len)) < 0)
        return r;
    if ((r = kith_post_open(in->sealed, sealed_len, w->inv->group_key, w->plain + w->used,
                            KITH_POST_SEALED_MAX, &w->posts[w->n])) < 0)
        return r;
    in->len = sealed_len;
    in->post = &w->posts[w->n];
    kith_post_id(in->sealed, sealed_len, in->id);
    if (id != NULL)
        memcpy(id, in->id, KITH_POST_ID_BYTES);
    if (len != NULL)
        *len = sealed_len;
    w->signed_len = w->posts[w->n].signed_len;
    w->used += sealed_len;
    w->sealed_total += sealed_len;
    w->n++;
    return 0;
}

int bench_writer_flush(struct bench_writer *w)
{
    size_t stored = 0;
    int r;

    if (w->n == 0)
        return 0;
    r = service_accept_batch(w->svc, w->in, w->n, NULL, &stored);
    sodium_memzero(w->plain, w->used);
    if (r == 0 && stored != w->n) {
        for (size_t i = 0; i < w->n; i++) {
            if (w->in[i].result < 0) {
                r = w->in[i].result;
                break;
            }
        }
        if (r == 0)
            r = -KITH_ESTORE;
    }
    w->stored_total += stored;
    w->n = 0;
    w->used = 0;
    return r;
}

int bench_writer_fill(struct bench_writer *w, struct bench_post *p, size_t n, uint64_t first_ms)
{
    int r;

    for (size_t i = 0; i < n; i++) {
        p->created_ms = first_ms + i;
        if ((r = bench_writer_add(w, p, NULL, NULL)) < 0)
            return r;
    }
    return bench_writer_flush(w);
}

void bench_writer_free(struct bench_writer *w)
{
    if (w->plain != NULL)
        sodium_memzero(w->plain, BENCH_ARENA);
    free(w->in);
    free(w->posts);
    free(w->sealed);
    free(w->plain);
    memset(w, 0, sizeof(*w));
}
