/*
 * vcache: the ids of sealed posts whose author signature this process has
 * already checked, so that showing a page of posts costs a decryption per
 * post and not an Ed25519 verification each time (issue 5's page speed).
 *
 * A post id is the BLAKE2b-256 hash of the whole sealed post, so the same
 * id means the same bytes and the same signature; the caller hashes the
 * bytes it read before asking (svc_post_load). Forgetting is harmless:
 * a post that is not found is simply verified again. It is a fixed-size,
 * 4-way set-associative table (16 bytes of each id kept: a false match would
 * need a second preimage of 128 bits), safe to use from several threads.
 *
 * It owns its table; vcache_free releases it.
 */
#ifndef KITH_VCACHE_H
#define KITH_VCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "kith/post.h"

struct vcache;

/* A cache of about 2^slots_log2 ids (4 <= slots_log2 <= 24). Returns 0 or
 * -ENOMEM / -KITH_EINVAL. */
int vcache_new(unsigned slots_log2, struct vcache **out);
void vcache_free(struct vcache *c);

/* 1 if id was added (and not yet pushed out), else 0. */
int vcache_has(struct vcache *c, const uint8_t id[KITH_POST_ID_BYTES]);

/* Remember id; may push out an older one of the same set. */
void vcache_add(struct vcache *c, const uint8_t id[KITH_POST_ID_BYTES]);

#endif
