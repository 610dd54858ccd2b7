/*
 * export: a member's own posts as a Markdown document they can keep, print
 * or read aloud. Pure formatting: the service collects the posts (opened and
 * verified) and this module only writes text. Owns nothing.
 */
#ifndef KITH_EXPORT_H
#define KITH_EXPORT_H

#include <stdint.h>

#include <jansson.h>

/* "2026-11-25T09:18:37Z" and its NUL. */
#define EXPORT_TIME_MAX 32

/* ms since 1970 as ISO 8601 UTC to the second, into out. */
void export_iso8601(uint64_t ms, char out[EXPORT_TIME_MAX]);

/*
 * Write posts (a JSON array of CONTROL.md post objects, in the order to
 * print; a reply may carry "in_reply_to": a short description of what it
 * answers) as Markdown: a title line naming account, then per post a
 * heading "group · topic · date" (topic left out when empty), the title in
 * bold when there is one, "In reply to ..." for replies, then the body.
 * *out is malloc'd and NUL-terminated (free()). Returns 0, -KITH_EINVAL (not
 * an array, or an element that is not a post object) or -ENOMEM.
 */
int export_markdown(const char *account, const json_t *posts, char **out);

#endif
