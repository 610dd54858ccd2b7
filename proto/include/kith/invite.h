/*
 * invite: the text code that brings a member into a group (first version:
 * reusable; a later issue makes codes single-use and QR-friendly).
 *
 *   "kith1-" base32(version u8 (=1) | group_id[32] | epoch u32 BE |
 *                   group_key[32] | name_len u8 | name | checksum[4])
 *
 * base32 is RFC 4648's alphabet in lower case without padding; decode also
 * accepts upper case and ignores spaces, tabs, line breaks and '-' after the
 * prefix, so a code read aloud or retyped still works. checksum = first 4 bytes of BLAKE2b-256
 * of everything before it (catches typos, not forgery: the code is a secret).
 */
#ifndef KITH_INVITE_H
#define KITH_INVITE_H

#include <stddef.h>
#include <stdint.h>

#include "kith/post.h"

#define KITH_INVITE_VERSION 1
#define KITH_GROUP_NAME_MAX 64 /* bytes of UTF-8 */
/* Longest code text including the NUL. */
#define KITH_INVITE_TEXT_MAX 256

struct kith_invite {
    uint8_t group_id[KITH_GROUP_ID_BYTES];
    uint32_t epoch;
    uint8_t group_key[KITH_GROUP_KEY_BYTES];
    char name[KITH_GROUP_NAME_MAX + 1]; /* NUL-terminated */
};

/* Write the code for inv into text (capacity cap, KITH_INVITE_TEXT_MAX is
 * enough), NUL-terminated. Returns 0, -KITH_ENAME (empty, too long, not UTF-8
 * or control characters: the rule of kith_post_check_text for one line),
 * -KITH_EBUFSIZE or -KITH_EINVAL (NULL argument). */
int kith_invite_encode(const struct kith_invite *inv, char *text, size_t cap);

/* Parse a code of len bytes (need not be NUL-terminated). Leading and
 * trailing whitespace is ignored. Returns 0, -KITH_EINVITE (wrong prefix, bad
 * character, bad checksum, wrong length, non-canonical last character),
 * -KITH_EVERSION, -KITH_ENAME or -KITH_EINVAL (NULL argument). On error *inv
 * is wiped (it may have held key bytes). */
int kith_invite_decode(const char *text, size_t len, struct kith_invite *inv)
    __attribute__((warn_unused_result));

#endif
