/*
 * peer_xfer: moving posts in a sync session (see peer.h).
 *
 * Out: a queue of entries (POSTS by id, PUSH by id, PING, PONG) sent in
 * order while the transport has room; posts are read from the store only
 * when their turn comes, so the queue costs 32 bytes a post. Because the
 * queue is in order, a PONG leaves only after the posts asked for before
 * its PING: the initiator's closing PING is the barrier that tells both
 * sides a round's transfer is over.
 *
 * In: each POSTS or PUSH becomes a batch: checked on the loop thread (outer
 * part, a common group, not held already), copied, then opened and verified
 * on the threadpool in up to PEER_PARTS_MAX parts (each with a copy of the
 * session's group keys, wiped when the batch is verified), then stored in
 * arrival order, one transaction per batch. A batch with any post that does
 * not open or verify is not stored and ends the session.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith/error.h"
#include "log.h"
#include "peer_internal.h"

/* ---- the send queue ---- */

static struct peer_out *out_new(struct peer *p, enum peer_out_kind kind, uint8_t g)
{
    struct peer_out *e = calloc(1, sizeof(*e));

    if (e == NULL)
        return NULL;
    e->kind = kind;
    e->group = g;
    if (p->out_tail != NULL)
        p->out_tail->next = e;
    else
        p->out_head = e;
    p->out_tail = e;
    return e;
}

static int out_grow(struct peer_out *e, size_t more)
{
    if (e->n + more > e->cap) {
        size_t cap = e->cap != 0 ? e->cap : 64;
        uint8_t *v;

        while (cap < e->n + more)
            cap *= 2;
        v = realloc(e->ids, cap * KITH_POST_ID_BYTES);
        if (v == NULL)
            return -ENOMEM;
        e->ids = v;
        e->cap = cap;
    }
    return 0;
}

static int out_append(struct peer *p, enum peer_out_kind kind, uint8_t g, const uint8_t *ids,
                      size_t n, int serve)
{
    struct peer_out *e = p->out_tail;

    if (e == NULL || e->kind != kind || e->group != g || e->serve != serve) {
        e = out_new(p, kind, g);
        if (e == NULL)
            return -ENOMEM;
        e->serve = serve;
    }
    if (out_grow(e, n) < 0)
        return -ENOMEM;
    memcpy(e->ids + e->n * KITH_POST_ID_BYTES, ids, n * KITH_POST_ID_BYTES);
    e->n += n;
    p->out_posts += n;
    if (serve)
        p->serve_ids += n;
    return 0;
}

int peer_out_ids(struct peer *p, uint8_t g, const uint8_t *ids, size_t n, int serve)
{
    int r = out_append(p, OUT_POSTS, g, ids, n, serve);

    if (r == 0 && serve)
        peer_flow(p);
    return r;
}

int peer_out_push(struct peer *p, uint8_t g, const uint8_t id[KITH_POST_ID_BYTES])
{
    return out_append(p, OUT_PUSH, g, id, 1, 0);
}

int peer_out_small(struct peer *p, enum peer_out_kind kind, uint64_t nonce)
{
    struct peer_out *e = out_new(p, kind, 0);

    if (e == NULL)
        return -ENOMEM;
    e->nonce = nonce;
    return 0;
}

/* One id of e is done (sent or skipped). */
static void out_done_one(struct peer *p, struct peer_out *e)
{
    e->pos++;
    p->out_posts--;
    if (e->serve)
        p->serve_ids--;
}

static void out_pop(struct peer *p)
{
    struct peer_out *e = p->out_head;

    p->out_posts -= e->n - e->pos;
    if (e->serve)
        p->serve_ids -= e->n - e->pos;
    p->out_head = e->next;
    if (p->out_head == NULL)
        p->out_tail = NULL;
    free(e->ids);
    free(e);
}

void peer_out_free(struct peer *p)
{
    while (p->out_head != NULL)
        out_pop(p);
}

/* The post id of e at pos, if held and of e's group: 1 with *sealed, 0 to
 * skip it, or a store error. */
static int out_post(struct peer *p, struct store_txn *txn, const struct peer_out *e,
                    const uint8_t **sealed, size_t *len)
{
    struct kith_post_outer outer;
    int r = store_post_get(txn, e->ids + e->pos * KITH_POST_ID_BYTES, sealed, len);

    if (r == -KITH_ENOTFOUND || r == -KITH_EDELETED)
        return 0;
    if (r < 0)
        return r;
    /* Only posts of the group the peer proved: a WANT cannot fish posts of
     * another group out of this node. */
    if (kith_post_decode_outer(*sealed, *len, &outer) < 0 ||
        memcmp(outer.group_id, p->groups[e->group].id, KITH_GROUP_ID_BYTES) != 0)
        return 0;
    return 1;
}

static void moved(struct peer *p, size_t posts, size_t bytes)
{
    p->moved_posts += posts;
    p->moved_bytes += bytes;
}

static int send_posts(struct peer *p, struct peer_out *e)
{
    struct kith_msg_posts_builder b;
    struct store_txn *txn = NULL;
    size_t len, bytes = 0;
    int r = kith_msg_posts_begin(&b, p->msg_buf, p->send_max);

    if (r == 0)
        r = store_read_begin(p->env->st, &txn);
    if (r < 0)
        return r;
    while (e->pos < e->n) {
        const uint8_t *sealed = NULL;
        size_t slen = 0;

        r = out_post(p, txn, e, &sealed, &slen);
        if (r < 0)
            break;
        /* Past the soft size (a serial line's; 4: the length), but never
         * empty: a post bigger than it goes alone. */
        if (r == 1 && b.count > 0 && b.len + 4 + slen > p->batch_soft) {
            r = 0;
            break;
        }
        if (r == 1) {
            r = kith_msg_posts_add(&b, sealed, slen);
            if (r == -KITH_EBUFSIZE) {
                r = 0;
                break; /* this batch is full */
            }
            if (r < 0) {
                r = 0; /* a stored post the wire cannot carry: skip it */
            } else {
                bytes += slen;
            }
        }
        out_done_one(p, e);
    }
    store_txn_end(txn);
    if (r < 0 || b.count == 0)
        return r;
    p->st.posts_out += b.count;
    moved(p, b.count, bytes);
    r = kith_msg_posts_end(&b, &len);
    return r < 0 ? r : peer_send_msg(p, p->msg_buf, len);
}

static int send_push(struct peer *p, struct peer_out *e)
{
    struct store_txn *txn;
    const uint8_t *sealed;
    size_t len = 0;
    int r = store_read_begin(p->env->st, &txn);

    if (r < 0)
        return r;
    r = out_post(p, txn, e, &sealed, &len);
    if (r == 1) {
        p->msg_buf[0] = KITH_MSG_PUSH;
        memcpy(p->msg_buf + 1, sealed, len);
    }
    store_txn_end(txn);
    out_done_one(p, e);
    if (r != 1)
        return r;
    p->st.posts_out++;
    moved(p, 1, len);
    return peer_send_msg(p, p->msg_buf, 1 + len);
}

static int send_small(struct peer *p, const struct peer_out *e)
{
    struct kith_msg m;

    memset(&m, 0, sizeof(m));
    m.type = e->kind == OUT_PING ? KITH_MSG_PING : KITH_MSG_PONG;
    m.u.ping.nonce = e->nonce;
    return peer_send(p, &m);
}

void peer_pump(struct peer *p)
{
    int r = 0;

    if (p->pumping || p->t == NULL)
        return;
    if (p->state != PEER_SYNCING && p->state != PEER_LIVE)
        return;
    p->pumping = 1;
    while (r == 0 && p->out_head != NULL && p->t != NULL && p->state != PEER_CLOSING &&
           transport_queued(p->t) < p->send_low) {
        struct peer_out *e = p->out_head;

        switch (e->kind) {
        case OUT_POSTS:
            r = send_posts(p, e);
            break;
        case OUT_PUSH:
            r = send_push(p, e);
            break;
        default:
            r = send_small(p, e);
            e->pos = e->n;
            break;
        }
        if (r == 0 && e->pos >= e->n)
            out_pop(p);
    }
    p->pumping = 0;
    if (r < 0) {
        peer_fail(p, r, PEER_FAULT_LINK);
        return;
    }
    peer_flow(p);
    peer_check_round(p);
}

void peer_flow(struct peer *p)
{
    int pause = p->in_batches >= PEER_BATCHES_MAX || p->serve_ids >= PEER_SERVE_MAX;

    if (p->t != NULL && p->state != PEER_CLOSING && pause != p->paused) {
        transport_pause(p->t, pause);
        p->paused = pause;
    }
}

/* ---- received posts ---- */

struct in_item {
    size_t off, len; /* in data; the plaintext goes at the same offset in plain */
    uint8_t g;       /* own group index */
    uint8_t id[KITH_POST_ID_BYTES];
    int err;
    struct kith_post post;
};

struct peer_batch {
    struct peer_batch *next;
    struct peer *p;
    size_t n, size;
    struct in_item *items;
    uint8_t *data, *plain;
    uint8_t (*keys)[KITH_GROUP_KEY_BYTES];
    size_t n_keys;
    uv_work_t work[PEER_PARTS_MAX];
    size_t parts, parts_done;
    int dropped;
};

static void batch_free(struct peer_batch *b)
{
    if (b->keys != NULL)
        sodium_memzero(b->keys, b->n_keys * sizeof(*b->keys));
    if (b->plain != NULL)
        sodium_memzero(b->plain, b->size);
    free(b->keys);
    free(b->plain);
    free(b->data);
    free(b->items);
    free(b);
}

/* Threadpool: open and verify this part's posts. Pure: touches only the
 * batch's own items and buffers. */
static void work_cb(uv_work_t *w)
{
    struct peer_batch *b = w->data;
    size_t k = (size_t)(w - b->work);
    size_t from = k * b->n / b->parts, to = (k + 1) * b->n / b->parts;

    for (size_t i = from; i < to; i++) {
        struct in_item *it = &b->items[i];
        int r = kith_post_open(b->data + it->off, it->len, b->keys[it->g], b->plain + it->off,
                               it->len, &it->post);

        if (r == 0)
            r = kith_post_verify(&it->post);
        it->err = r;
    }
}

static int commit(struct peer *p, struct peer_batch *b)
{
    struct service_incoming *v;
    size_t stored = 0;
    int r;

    for (size_t i = 0; i < b->n; i++) {
        if (b->items[i].err < 0) {
            log_warn("peer.bad_post", "peer=%02x%02x%02x%02x id=%02x%02x%02x%02x error=%s",
                     p->remote[0], p->remote[1], p->remote[2], p->remote[3], b->items[i].id[0],
                     b->items[i].id[1], b->items[i].id[2], b->items[i].id[3],
                     kith_errname(b->items[i].err));
            return b->items[i].err;
        }
    }
    v = calloc(b->n != 0 ? b->n : 1, sizeof(*v));
    if (v == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < b->n; i++) {
        v[i].sealed = b->data + b->items[i].off;
        v[i].len = b->items[i].len;
        memcpy(v[i].id, b->items[i].id, KITH_POST_ID_BYTES);
        v[i].post = &b->items[i].post;
    }
    r = service_accept_batch(p->env->svc, v, b->n, p, &stored);
    free(v);
    if (r < 0)
        return r;
    p->st.posts_in += stored;
    if (stored > 0)
        log_debug("peer.stored", "peer=%02x%02x%02x%02x posts=%zu of=%zu", p->remote[0],
                  p->remote[1], p->remote[2], p->remote[3], stored, b->n);
    return 0;
}

static void after_work(uv_work_t *w, int status)
{
    struct peer_batch *b = w->data;
    struct peer *p = b->p;

    (void)status; /* work is never cancelled */
    p->work_pending--;
    if (++b->parts_done < b->parts)
        return;
    sodium_memzero(b->keys, b->n_keys * sizeof(*b->keys));
    if (b->dropped) {
        batch_free(b);
        peer_maybe_free(p);
        return;
    }
    /* Store in arrival order: the head first, and whatever is verified
     * behind it. */
    while (p->in_head != NULL && p->in_head->parts_done == p->in_head->parts &&
           p->state != PEER_CLOSING) {
        struct peer_batch *h = p->in_head;
        int r;

        p->in_head = h->next;
        if (p->in_head == NULL)
            p->in_tail = NULL;
        p->in_batches--;
        r = commit(p, h);
        batch_free(h);
        if (r < 0) {
            peer_fail(p, r,
                      r == -ENOMEM || r == -KITH_ENOSPC || r == -KITH_ESTORE || r == -EBUSY
                          ? PEER_FAULT_LINK
                          : PEER_FAULT_SEVERE);
            break;
        }
    }
    peer_flow(p);
    peer_check_round(p);
}

void peer_in_drop(struct peer *p)
{
    struct peer_batch *b = p->in_head;

    while (b != NULL) {
        struct peer_batch *next = b->next;

        if (b->parts_done == b->parts)
            batch_free(b);
        else
            b->dropped = 1; /* after_work frees it */
        b = next;
    }
    p->in_head = p->in_tail = NULL;
    p->in_batches = 0;
}

/* Check one received post and add it to b (or skip it if held). */
static int in_add(struct peer *p, struct store_txn *txn, struct peer_batch *b,
                  const uint8_t *sealed, size_t len)
{
    struct kith_post_outer outer;
    struct in_item *it = &b->items[b->n];
    const uint8_t *held;
    size_t hlen;
    int g, r = kith_post_decode_outer(sealed, len, &outer);

    if (r < 0)
        return r;
    g = peer_group_index(p, outer.group_id);
    if (g < 0)
        return -KITH_EPROTOCOL; /* not a group both sides proved */
    kith_post_id(sealed, len, it->id);
    r = store_post_get(txn, it->id, &held, &hlen);
    if (r == 0 || r == -KITH_EDELETED)
        return 0; /* held (or held as deleted): nothing to do */
    if (r != -KITH_ENOTFOUND)
        return r;
    it->off = b->size;
    it->len = len;
    it->g = (uint8_t)g;
    memcpy(b->data + b->size, sealed, len);
    b->size += len;
    b->n++;
    return 0;
}

static int in_queue(struct peer *p, struct peer_batch *b)
{
    size_t queued = 0;

    b->p = p;
    b->parts = (b->n + 63) / 64;
    if (b->parts > PEER_PARTS_MAX)
        b->parts = PEER_PARTS_MAX;
    for (size_t k = 0; k < b->parts; k++) {
        b->work[k].data = b;
        if (uv_queue_work(p->env->loop, &b->work[k], work_cb, after_work) == 0) {
            queued++;
            continue;
        }
        if (k == 0)
            return -ENOMEM;
        /* No threadpool slot: verify the rest here rather than drop it. */
        for (size_t j = k; j < b->parts; j++) {
            b->work[j].data = b;
            work_cb(&b->work[j]);
        }
        break;
    }
    b->parts_done = b->parts - queued;
    p->work_pending += queued;
    if (p->in_tail != NULL)
        p->in_tail->next = b;
    else
        p->in_head = b;
    p->in_tail = b;
    p->in_batches++;
    return 0;
}

int peer_in_posts(struct peer *p, const struct kith_msg *m)
{
    struct peer_batch *b = calloc(1, sizeof(*b));
    struct store_txn *txn = NULL;
    size_t count = m->type == KITH_MSG_PUSH ? 1 : m->u.posts.count;
    size_t total = m->type == KITH_MSG_PUSH ? m->u.push.len : m->u.posts.entries_len;
    int r = -ENOMEM;

    if (b == NULL)
        return -ENOMEM;
    b->items = calloc(count, sizeof(*b->items));
    b->data = malloc(total);
    if (b->items == NULL || b->data == NULL)
        goto fail;
    r = store_read_begin(p->env->st, &txn);
    if (r < 0)
        goto fail;
    if (m->type == KITH_MSG_PUSH) {
        r = in_add(p, txn, b, m->u.push.post, m->u.push.len);
    } else {
        size_t off = 0, len;
        const uint8_t *post;

        while ((r = kith_msg_posts_next(m, &off, &post, &len)) == 1) {
            r = in_add(p, txn, b, post, len);
            if (r < 0)
                break;
        }
    }
    store_txn_end(txn);
    if (r < 0)
        goto fail;
    p->round_got += count;
    moved(p, count, total);
    if (b->n == 0) {
        batch_free(b);
        return 0;
    }
    b->plain = malloc(b->size);
    b->n_keys = p->n_groups;
    b->keys = malloc(b->n_keys * sizeof(*b->keys));
    if (b->plain == NULL || b->keys == NULL) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < p->n_groups; i++)
        memcpy(b->keys[i], p->groups[i].key, KITH_GROUP_KEY_BYTES);
    r = in_queue(p, b);
    if (r < 0)
        goto fail;
    peer_flow(p);
    return 0;
fail:
    batch_free(b);
    return r;
}
