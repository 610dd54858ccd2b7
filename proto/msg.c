/*
 * msg: the byte layouts of the sync session's messages (kith/msg.h,
 * proto/PROTOCOL.md "Session protocol (sync)"), and the splitting of long
 * messages into Noise-sized pieces. It owns no memory: decode returns views
 * into the input, encode and reassembly write into caller buffers.
 *
 * Every check lives in one function per type, shared by decode and encode:
 * encode builds nothing from a struct that decode would not have produced.
 */
#include <string.h>

#include <sodium.h>

#include "kith/msg.h"

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static int ascii_check(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return -KITH_EENCODING;
    return 0;
}

/* A sealed post's length, as a POSTS entry or a PUSH body. */
static int post_len_check(size_t len)
{
    if (len < KITH_WIRE_POST_MIN)
        return -KITH_ETRUNCATED;
    if (len > KITH_POST_SEALED_MAX)
        return -KITH_ETOOBIG;
    return 0;
}

/* Check count framed entries (len u32 | post) filling exactly len bytes. */
static int entries_check(const uint8_t *p, size_t len, size_t count)
{
    size_t off = 0;

    for (size_t i = 0; i < count; i++) {
        size_t n;
        int rc;

        if (len - off < 4)
            return -KITH_ETRUNCATED;
        n = get32(p + off);
        off += 4;
        if ((rc = post_len_check(n)) < 0)
            return rc;
        if (len - off < n)
            return -KITH_ETRUNCATED;
        off += n;
    }
    return off == len ? 0 : -KITH_ETRAILING;
}

/* Bytes a valid message takes, or a negative error for an invalid one. The
 * checks come in the order a decoder meets the fields. */
static int msg_check(const struct kith_msg *m, size_t *size)
{
    int rc;

    switch (m->type) {
    case KITH_MSG_HELLO:
        if (m->u.hello.version != KITH_WIRE_VERSION)
            return -KITH_EVERSION;
        if (m->u.hello.max_msg > KITH_WIRE_MSG_MAX)
            return -KITH_ETOOBIG;
        if (m->u.hello.max_msg < KITH_WIRE_MSG_MIN)
            return -KITH_EENCODING;
        if (m->u.hello.software_len > KITH_WIRE_SOFTWARE_MAX)
            return -KITH_ETOOBIG;
        if (m->u.hello.software == NULL && m->u.hello.software_len > 0)
            return -KITH_EINVAL;
        if ((rc = ascii_check(m->u.hello.software, m->u.hello.software_len)) < 0)
            return rc;
        *size = KITH_WIRE_HELLO_MIN + m->u.hello.software_len;
        return 0;
    case KITH_MSG_PING:
    case KITH_MSG_PONG:
        *size = KITH_WIRE_PING_BYTES;
        return 0;
    case KITH_MSG_BYE:
        *size = KITH_WIRE_BYE_BYTES;
        return 0;
    case KITH_MSG_ERROR:
        if (m->u.error.reason_len > KITH_WIRE_REASON_MAX)
            return -KITH_ETOOBIG;
        if (m->u.error.reason == NULL && m->u.error.reason_len > 0)
            return -KITH_EINVAL;
        if ((rc = ascii_check(m->u.error.reason, m->u.error.reason_len)) < 0)
            return rc;
        *size = KITH_WIRE_ERROR_MIN + m->u.error.reason_len;
        return 0;
    case KITH_MSG_PROOF:
        if (m->u.proof.count > KITH_WIRE_PROOF_MAX)
            return -KITH_ETOOBIG;
        if (m->u.proof.proofs == NULL && m->u.proof.count > 0)
            return -KITH_EINVAL;
        *size = KITH_WIRE_PROOF_HEAD + m->u.proof.count * KITH_WIRE_PROOF_BYTES;
        return 0;
    case KITH_MSG_RECON:
        if (m->u.recon.group >= KITH_WIRE_PROOF_MAX)
            return -KITH_ETOOBIG;
        if (m->u.recon.len > KITH_WIRE_MSG_MAX - KITH_WIRE_RECON_HEAD)
            return -KITH_ETOOBIG;
        if (m->u.recon.data == NULL && m->u.recon.len > 0)
            return -KITH_EINVAL;
        *size = KITH_WIRE_RECON_HEAD + m->u.recon.len;
        return 0;
    case KITH_MSG_WANT:
        if (m->u.want.group >= KITH_WIRE_PROOF_MAX)
            return -KITH_ETOOBIG;
        if (m->u.want.count > KITH_WIRE_WANT_MAX)
            return -KITH_ETOOBIG;
        if (m->u.want.count == 0)
            return -KITH_EENCODING;
        if (m->u.want.ids == NULL)
            return -KITH_EINVAL;
        *size = KITH_WIRE_WANT_HEAD + m->u.want.count * KITH_POST_ID_BYTES;
        return 0;
    case KITH_MSG_POSTS:
        if (m->u.posts.count > KITH_WIRE_POSTS_MAX)
            return -KITH_ETOOBIG;
        if (m->u.posts.count == 0)
            return -KITH_EENCODING;
        if (m->u.posts.entries_len > KITH_WIRE_MSG_MAX - KITH_WIRE_POSTS_HEAD)
            return -KITH_ETOOBIG;
        if (m->u.posts.entries == NULL)
            return m->u.posts.entries_len > 0 ? -KITH_EINVAL : -KITH_ETRUNCATED;
        if ((rc = entries_check(m->u.posts.entries, m->u.posts.entries_len, m->u.posts.count)) < 0)
            return rc;
        *size = KITH_WIRE_POSTS_HEAD + m->u.posts.entries_len;
        return 0;
    case KITH_MSG_PUSH:
        if ((rc = post_len_check(m->u.push.len)) < 0)
            return rc;
        if (m->u.push.post == NULL)
            return -KITH_EINVAL;
        *size = 1 + m->u.push.len;
        return 0;
    case KITH_MSG_FRAG:
    case KITH_MSG_FRAG_END:
        return -KITH_EENCODING;
    default:
        return -KITH_EVERSION;
    }
}

int kith_msg_encode(const struct kith_msg *m, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t size = 0;
    uint8_t *p = out;
    int rc;

    if ((rc = msg_check(m, &size)) < 0)
        return rc;
    if (cap < size || out == NULL)
        return -KITH_EBUFSIZE;
    *p++ = m->type;
    switch (m->type) {
    case KITH_MSG_HELLO:
        put16(p, m->u.hello.version);
        put32(p + 2, m->u.hello.features);
        put32(p + 6, m->u.hello.max_msg);
        p[10] = (uint8_t)m->u.hello.software_len;
        if (m->u.hello.software_len > 0)
            memcpy(p + 11, m->u.hello.software, m->u.hello.software_len);
        break;
    case KITH_MSG_PING:
    case KITH_MSG_PONG:
        put64(p, m->u.ping.nonce);
        break;
    case KITH_MSG_BYE:
        p[0] = m->u.bye.reason;
        break;
    case KITH_MSG_ERROR:
        put16(p, m->u.error.code);
        p[2] = (uint8_t)m->u.error.reason_len;
        if (m->u.error.reason_len > 0)
            memcpy(p + 3, m->u.error.reason, m->u.error.reason_len);
        break;
    case KITH_MSG_PROOF:
        p[0] = (uint8_t)m->u.proof.count;
        if (m->u.proof.count > 0)
            memcpy(p + 1, m->u.proof.proofs, m->u.proof.count * KITH_WIRE_PROOF_BYTES);
        break;
    case KITH_MSG_RECON:
        p[0] = m->u.recon.group;
        if (m->u.recon.len > 0)
            memcpy(p + 1, m->u.recon.data, m->u.recon.len);
        break;
    case KITH_MSG_WANT:
        p[0] = m->u.want.group;
        put16(p + 1, (uint16_t)m->u.want.count);
        memcpy(p + 3, m->u.want.ids, m->u.want.count * KITH_POST_ID_BYTES);
        break;
    case KITH_MSG_POSTS:
        put16(p, (uint16_t)m->u.posts.count);
        memcpy(p + 2, m->u.posts.entries, m->u.posts.entries_len);
        break;
    default: /* KITH_MSG_PUSH: msg_check let nothing else through */
        memcpy(p, m->u.push.post, m->u.push.len);
        break;
    }
    *out_len = size;
    return 0;
}

/* Fill *m from the body (after the type byte) of a message of that type;
 * lengths are checked here, values by msg_check. */
static int body_parse(uint8_t type, const uint8_t *p, size_t len, struct kith_msg *m)
{
    switch (type) {
    case KITH_MSG_HELLO:
        if (len < 2)
            return -KITH_ETRUNCATED;
        m->u.hello.version = get16(p);
        if (m->u.hello.version != KITH_WIRE_VERSION)
            return -KITH_EVERSION; /* later versions may lay out the rest otherwise */
        if (len < KITH_WIRE_HELLO_MIN - 1)
            return -KITH_ETRUNCATED;
        m->u.hello.features = get32(p + 2);
        m->u.hello.max_msg = get32(p + 6);
        m->u.hello.software_len = p[10];
        m->u.hello.software = (const char *)p + 11;
        if (m->u.hello.software_len > KITH_WIRE_SOFTWARE_MAX)
            return -KITH_ETOOBIG;
        if (len - 11 < m->u.hello.software_len)
            return -KITH_ETRUNCATED;
        return len - 11 > m->u.hello.software_len ? -KITH_ETRAILING : 0;
    case KITH_MSG_PING:
    case KITH_MSG_PONG:
        if (len < 8)
            return -KITH_ETRUNCATED;
        m->u.ping.nonce = get64(p);
        return len > 8 ? -KITH_ETRAILING : 0;
    case KITH_MSG_BYE:
        if (len < 1)
            return -KITH_ETRUNCATED;
        m->u.bye.reason = p[0];
        return len > 1 ? -KITH_ETRAILING : 0;
    case KITH_MSG_ERROR:
        if (len < 3)
            return -KITH_ETRUNCATED;
        m->u.error.code = get16(p);
        m->u.error.reason_len = p[2];
        m->u.error.reason = (const char *)p + 3;
        if (m->u.error.reason_len > KITH_WIRE_REASON_MAX)
            return -KITH_ETOOBIG;
        if (len - 3 < m->u.error.reason_len)
            return -KITH_ETRUNCATED;
        return len - 3 > m->u.error.reason_len ? -KITH_ETRAILING : 0;
    case KITH_MSG_PROOF:
        if (len < 1)
            return -KITH_ETRUNCATED;
        m->u.proof.count = p[0];
        m->u.proof.proofs = p + 1;
        if (m->u.proof.count > KITH_WIRE_PROOF_MAX)
            return -KITH_ETOOBIG;
        if (len - 1 < m->u.proof.count * KITH_WIRE_PROOF_BYTES)
            return -KITH_ETRUNCATED;
        return len - 1 > m->u.proof.count * KITH_WIRE_PROOF_BYTES ? -KITH_ETRAILING : 0;
    case KITH_MSG_RECON:
        if (len < 1)
            return -KITH_ETRUNCATED;
        m->u.recon.group = p[0];
        m->u.recon.data = p + 1;
        m->u.recon.len = len - 1;
        return 0;
    case KITH_MSG_WANT:
        if (len < KITH_WIRE_WANT_HEAD - 1)
            return -KITH_ETRUNCATED;
        m->u.want.group = p[0];
        m->u.want.count = get16(p + 1);
        m->u.want.ids = p + 3;
        if (m->u.want.count > KITH_WIRE_WANT_MAX)
            return -KITH_ETOOBIG;
        if (len - 3 < m->u.want.count * KITH_POST_ID_BYTES)
            return -KITH_ETRUNCATED;
        return len - 3 > m->u.want.count * KITH_POST_ID_BYTES ? -KITH_ETRAILING : 0;
    case KITH_MSG_POSTS:
        if (len < KITH_WIRE_POSTS_HEAD - 1)
            return -KITH_ETRUNCATED;
        m->u.posts.count = get16(p);
        m->u.posts.entries = p + 2;
        m->u.posts.entries_len = len - 2;
        return 0;
    case KITH_MSG_PUSH:
        m->u.push.post = p;
        m->u.push.len = len;
        return 0;
    case KITH_MSG_FRAG:
    case KITH_MSG_FRAG_END:
        return -KITH_EENCODING;
    default:
        return -KITH_EVERSION;
    }
}

int kith_msg_decode(const uint8_t *in, size_t len, struct kith_msg *m)
{
    size_t size;
    int rc;

    memset(m, 0, sizeof(*m));
    if (len == 0)
        return -KITH_ETRUNCATED;
    if (len > KITH_WIRE_MSG_MAX)
        return -KITH_ETOOBIG;
    m->type = in[0];
    if ((rc = body_parse(in[0], in + 1, len - 1, m)) < 0)
        return rc;
    return msg_check(m, &size);
}

int kith_msg_posts_next(const struct kith_msg *m, size_t *off, const uint8_t **post, size_t *len)
{
    size_t rest, n;
    int rc;

    if (m->type != KITH_MSG_POSTS || *off > m->u.posts.entries_len)
        return -KITH_EINVAL;
    rest = m->u.posts.entries_len - *off;
    if (rest == 0)
        return 0;
    if (rest < 4)
        return -KITH_ETRUNCATED;
    n = get32(m->u.posts.entries + *off);
    if ((rc = post_len_check(n)) < 0)
        return rc;
    if (rest - 4 < n)
        return -KITH_ETRUNCATED;
    *post = m->u.posts.entries + *off + 4;
    *len = n;
    *off += 4 + n;
    return 1;
}

int kith_msg_posts_begin(struct kith_msg_posts_builder *b, uint8_t *out, size_t cap)
{
    if (out == NULL || cap < KITH_WIRE_POSTS_HEAD)
        return -KITH_EBUFSIZE;
    b->out = out;
    b->cap = cap > KITH_WIRE_MSG_MAX ? KITH_WIRE_MSG_MAX : cap;
    b->len = KITH_WIRE_POSTS_HEAD;
    b->count = 0;
    out[0] = KITH_MSG_POSTS;
    return 0;
}

int kith_msg_posts_add(struct kith_msg_posts_builder *b, const uint8_t *post, size_t len)
{
    int rc;

    if ((rc = post_len_check(len)) < 0)
        return rc;
    if (post == NULL)
        return -KITH_EINVAL;
    if (b->count >= KITH_WIRE_POSTS_MAX || b->cap - b->len < 4 + len)
        return -KITH_EBUFSIZE;
    put32(b->out + b->len, (uint32_t)len);
    memcpy(b->out + b->len + 4, post, len);
    b->len += 4 + len;
    b->count++;
    return 0;
}

int kith_msg_posts_end(struct kith_msg_posts_builder *b, size_t *out_len)
{
    if (b->count == 0)
        return -KITH_EENCODING;
    put16(b->out + 1, (uint16_t)b->count);
    *out_len = b->len;
    return 0;
}

/* ---- Pieces ---- */

#define CHUNK (KITH_WIRE_PIECE_MAX - 1)

size_t kith_msg_pieces(size_t len)
{
    if (len == 0 || len > KITH_WIRE_MSG_MAX)
        return 0;
    if (len <= KITH_WIRE_PIECE_MAX)
        return 1;
    return (len + CHUNK - 1) / CHUNK;
}

int kith_msg_piece(const uint8_t *msg, size_t len, size_t i, uint8_t *out, size_t cap,
                   size_t *out_len)
{
    size_t n = kith_msg_pieces(len), chunk;

    if (i >= n || msg == NULL)
        return -KITH_EINVAL;
    if (n == 1) {
        if (cap < len)
            return -KITH_EBUFSIZE;
        memcpy(out, msg, len);
        *out_len = len;
        return 0;
    }
    chunk = i + 1 < n ? CHUNK : len - i * CHUNK;
    if (cap < 1 + chunk)
        return -KITH_EBUFSIZE;
    out[0] = i + 1 < n ? KITH_MSG_FRAG : KITH_MSG_FRAG_END;
    memcpy(out + 1, msg + i * CHUNK, chunk);
    *out_len = 1 + chunk;
    return 0;
}

void kith_msg_reasm_init(struct kith_msg_reasm *r, uint8_t *buf, size_t cap)
{
    r->buf = buf;
    r->cap = cap > KITH_WIRE_MSG_MAX ? KITH_WIRE_MSG_MAX : cap;
    r->len = 0;
    r->complete = 0;
}

void kith_msg_reasm_reset(struct kith_msg_reasm *r)
{
    r->len = 0;
    r->complete = 0;
}

int kith_msg_reasm_feed(struct kith_msg_reasm *r, const uint8_t *plain, size_t len,
                        const uint8_t **msg, size_t *msg_len)
{
    if (r->complete)
        kith_msg_reasm_reset(r);
    if (len == 0)
        return -KITH_ETRUNCATED;
    if (len > KITH_WIRE_PIECE_MAX)
        return -KITH_ETOOBIG;
    if (plain[0] == KITH_MSG_FRAG) {
        /* Full-size pieces only: one spelling per message, and no peer can
         * make us do per-piece work for a byte at a time. */
        if (len != KITH_WIRE_PIECE_MAX)
            return -KITH_EENCODING;
        if (r->cap - r->len < CHUNK)
            return -KITH_ETOOBIG;
        memcpy(r->buf + r->len, plain + 1, CHUNK);
        r->len += CHUNK;
        return 0;
    }
    if (plain[0] == KITH_MSG_FRAG_END) {
        if (r->len == 0)
            return -KITH_EENCODING;
        if (len < 2)
            return -KITH_ETRUNCATED;
        if (r->cap - r->len < len - 1)
            return -KITH_ETOOBIG;
        memcpy(r->buf + r->len, plain + 1, len - 1);
        r->len += len - 1;
        if (r->len <= KITH_WIRE_PIECE_MAX)
            return -KITH_EENCODING; /* it would have fitted in one piece */
        r->complete = 1;
        *msg = r->buf;
        *msg_len = r->len;
        return 1;
    }
    if (r->len > 0)
        return -KITH_EENCODING;
    if (len > r->cap)
        return -KITH_ETOOBIG;
    *msg = plain;
    *msg_len = len;
    return 1;
}
