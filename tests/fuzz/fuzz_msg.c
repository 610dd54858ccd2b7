/*
 * libFuzzer target for proto/msg.c. The first input byte picks a mode:
 *   0: the rest is one message from a peer;
 *   1: the second byte picks a known type (so every type gets its share),
 *      the rest is that message's body;
 *   2: the rest is a stream of Noise plaintexts, each u16 length + bytes,
 *      fed to the reassembler; every message it gives back is decoded.
 * Whatever decodes must encode again to exactly the same bytes, and a
 * decoded POSTS must walk to its count. Splitting what decoded into pieces
 * and reassembling it must give it back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kith/msg.h"

static const uint8_t TYPES[] = {
    KITH_MSG_HELLO, KITH_MSG_PING, KITH_MSG_PONG,  KITH_MSG_BYE,  KITH_MSG_ERROR,    KITH_MSG_PROOF,
    KITH_MSG_RECON, KITH_MSG_WANT, KITH_MSG_POSTS, KITH_MSG_PUSH, KITH_MSG_FRAG_END, 0x06,
};

static uint8_t msg[KITH_WIRE_MSG_MAX];
static uint8_t out[KITH_WIRE_MSG_MAX];
static uint8_t reasm_buf[KITH_WIRE_MSG_MAX];
static uint8_t piece[KITH_WIRE_PIECE_MAX];

static void split_join(const uint8_t *data, size_t size)
{
    struct kith_msg_reasm r;
    size_t n = kith_msg_pieces(size), plen, got_len = 0;
    const uint8_t *got = NULL;

    kith_msg_reasm_init(&r, reasm_buf, sizeof(reasm_buf));
    for (size_t i = 0; i < n; i++) {
        if (kith_msg_piece(data, size, i, piece, sizeof(piece), &plen) != 0)
            abort();
        if (kith_msg_reasm_feed(&r, piece, plen, &got, &got_len) != (i + 1 == n))
            abort();
    }
    if (got_len != size || memcmp(got, data, size) != 0)
        abort();
}

static void one(const uint8_t *data, size_t size)
{
    struct kith_msg m;
    size_t len;

    if (kith_msg_decode(data, size, &m) != 0)
        return;
    if (kith_msg_encode(&m, out, sizeof(out), &len) != 0)
        abort();
    if (len != size || memcmp(out, data, size) != 0)
        abort();
    if (m.type == KITH_MSG_POSTS) {
        size_t off = 0, count = 0, plen;
        const uint8_t *post;
        int rc;

        while ((rc = kith_msg_posts_next(&m, &off, &post, &plen)) == 1)
            count++;
        if (rc != 0 || count != m.u.posts.count)
            abort();
    }
    split_join(data, size);
}

static void stream(const uint8_t *data, size_t size)
{
    struct kith_msg_reasm r;
    const uint8_t *got;
    size_t got_len;

    kith_msg_reasm_init(&r, reasm_buf, sizeof(reasm_buf));
    while (size >= 2) {
        size_t n = (size_t)data[0] << 8 | data[1];
        int rc;

        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        rc = kith_msg_reasm_feed(&r, data, n, &got, &got_len);
        if (rc < 0)
            return; /* the session would end here */
        if (rc == 1)
            one(got, got_len);
        data += n;
        size -= n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > sizeof(msg))
        return 0;
    switch (data[0] % 3) {
    case 0:
        one(data + 1, size - 1);
        break;
    case 1:
        if (size < 2)
            return 0;
        msg[0] = TYPES[data[1] % sizeof(TYPES)];
        memcpy(msg + 1, data + 2, size - 2);
        one(msg, size - 1);
        break;
    default:
        stream(data + 1, size - 1);
        break;
    }
    return 0;
}
