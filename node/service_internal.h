/*
 * service_internal: what service.c (sessions, accounts), service_group.c
 * (groups) and service_post.c (posts, threads, export, accepting posts from
 * sync) share.
 * Not for other modules: they use service.h. Names shared here carry the
 * svc_ prefix.
 */
#ifndef KITH_SERVICE_INTERNAL_H
#define KITH_SERVICE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kith/post.h"
#include "record.h"
#include "service.h"
#include "vcache.h"

/* Lives in sodium_malloc'd memory (guarded, locked) because of sk. */
struct service_session {
    uint8_t token[32];
    char token_hex[SERVICE_TOKEN_HEX + 1];
    char name[RECORD_NAME_MAX + 1];
    uint8_t account_key[32]; /* store key of the account record */
    uint8_t pk[KITH_PUBKEY_BYTES];
    uint8_t sk[KITH_SECKEY_BYTES];
    uint64_t last_ms;
};

/* Display names and counts of one group, filled by one scan of its posts
 * and kept up to date as posts are stored through the service. */
struct svc_author {
    uint8_t key[KITH_PUBKEY_BYTES];
    uint64_t ms; /* created_ms of the profile post the name came from */
    char name[KITH_POST_TITLE_MAX + 1];
};

struct svc_gcache {
    uint8_t id[KITH_GROUP_ID_BYTES];
    int scanned;
    uint64_t n_posts; /* posts and replies held, deleted ones left out */
    struct svc_author *authors;
    size_t n_authors, cap;
};

/* Failed unlocks per account store key (a hash: no names kept). */
struct svc_limit {
    uint8_t key[32];
    uint32_t failures;
    uint64_t until_ms;
    uint64_t last_ms;
};

#define SVC_LIMITS_MAX 256

/* Views as service_thread_show and service_thread_list last built them
 * (their JSON), so a page read again and again while nothing changes costs
 * a copy, not a decryption of every post. An entry is good while
 * svc->changes is what it was, and only for an account in its group. key
 * names the request (a hash of what was asked); views with more than
 * SVC_VIEW_TEXT_MAX bytes of titles and bodies are not kept (so at most
 * 32 MiB in all). */
#define SVC_VIEW_SLOTS 16
#define SVC_VIEW_TEXT_MAX ((size_t)2 * 1024 * 1024)
struct svc_view {
    uint8_t key[32];
    uint8_t gid[KITH_GROUP_ID_BYTES];
    uint64_t changes;
    json_t *json; /* NULL: empty slot */
};

/* 2^18 verified post ids (4 MiB): a group of 100,000 posts fits. */
#define SERVICE_VERIFIED_LOG2 18

struct service {
    struct store *st;
    struct vault *v;
    char *content_dir, *data_dir, *socket_path;
    uint32_t idle_s;
    uint64_t (*now_ms)(void *arg);
    void *now_arg;
    uint64_t started_mono_ms;
    struct service_session *sessions[SERVICE_SESSIONS_MAX];
    size_t n_sessions;
    struct svc_limit limits[SVC_LIMITS_MAX];
    size_t n_limits;
    uint8_t dummy_seal[RECORD_SEALED_SK_BYTES]; /* unlock of an unknown name */
    struct svc_gcache *gcache;
    size_t n_gcache;
    struct vcache *verified; /* posts whose signature was checked (svc_post_load) */
    uint64_t changes;        /* posts stored so far: what a cached view was built from */
    struct svc_view views[SVC_VIEW_SLOTS];
    /* Sync (service_set_post_hook, service_set_sync): called after a post
     * is committed; origin is the peer session it came from, or NULL. */
    service_post_hook post_hook;
    void *post_hook_arg;
    const void *origin; /* of the posts being stored now */
    void *sync;
};

/* The service clock (ms since 1970). */
uint64_t svc_now(struct service *svc);

/* Sessions and unlock limits for the passphrase jobs (service_pw.c); as
 * service.c's own: a new session (NULL on no memory) is listed by
 * svc_session_add, which may evict the least recently used one. */
struct service_session *svc_session_new(struct service *svc, const char *name,
                                        const uint8_t account_key[32]);
void svc_session_add(struct service *svc, struct service_session *s);
int svc_limit_check(struct service *svc, const uint8_t key[32], uint64_t now);
void svc_limit_fail(struct service *svc, const uint8_t key[32], uint64_t now);
void svc_limit_clear(struct service *svc, const uint8_t key[32]);
/* 0 when no account has key, -KITH_EEXIST, or a store error. */
int svc_account_exists(struct service *svc, const uint8_t key[32]);

/* Load the session's account record. Returns 0, -KITH_ELOCKED (the account
 * is gone), -ENOMEM or a store error. */
int svc_account(struct service *svc, struct service_session *sess, struct store_txn *txn,
                struct record_account *a);

/* Open a read transaction and load the session's account into a. On error
 * nothing is left open. */
int svc_begin_account(struct service *svc, struct service_session *sess, struct store_txn **txn,
                      struct record_account *a);

/*
 * Resolve a group argument among the account's groups: exact name ignoring
 * ASCII case, else a unique hex prefix of the id. Returns 0 (g loaded:
 * record_group_wipe it), -KITH_ENOTFOUND, -KITH_ENOTMEMBER (a full id of a
 * group this node holds for other accounts), -KITH_EAMBIGUOUS, or a store
 * error.
 */
int svc_group_resolve(struct service *svc, struct store_txn *txn, const struct record_account *a,
                      const char *arg, struct record_group *g);

/* The group object of CONTROL.md (scans the group once per service life for
 * its count). NULL on -ENOMEM or a store error. */
json_t *svc_group_json(struct service *svc, struct store_txn *txn, const struct record_group *g);

/*
 * Finish, sign and seal a post by sess in group g. The caller sets p's kind,
 * has_parent/parent and text fields (which must stay valid while p is used);
 * this fills p->outer (created_ms from the group's hybrid logical clock, a
 * random nonce), p->author and p->sig. *sealed is malloc'd (free()), *id its
 * id. Returns 0, the errors of kith_post_sign / kith_post_seal, -ENOMEM or a
 * store error.
 */
int svc_post_build(struct service *svc, struct service_session *sess, const struct record_group *g,
                   struct kith_post *p, uint8_t **sealed, size_t *sealed_len,
                   uint8_t id[KITH_POST_ID_BYTES]);

/* Extra writes made in the same transaction as a post (records of group
 * create/join). Must have no side effects outside txn. */
typedef int (*svc_extra_fn)(struct store_txn *txn, void *arg);

/*
 * Check the rules for an opened, verified post p (sealed bytes, id) of group
 * g, then store it (with extra's writes) and apply tombstones, in one
 * transaction, and update the group cache after commit. Returns what
 * service_accept_post returns (from -KITH_EEXIST on).
 */
int svc_store_post(struct service *svc, const struct record_group *g, const uint8_t *sealed,
                   size_t len, const uint8_t id[KITH_POST_ID_BYTES], const struct kith_post *p,
                   svc_extra_fn extra, void *extra_arg);

/* Drop the cache of group gid (after the group's posts changed in a way the
 * cache cannot follow). Frees everything in svc_close_caches. */
void svc_gcache_drop(struct service *svc, const uint8_t gid[KITH_GROUP_ID_BYTES]);
void svc_close_caches(struct service *svc);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void svc_hex(const uint8_t *in, size_t n, char *out);

/* A new JSON string from s, or NULL (also for invalid UTF-8). */
json_t *svc_jstr(const char *s, size_t len);

/* ---- posts of a group or thread, as ids (service_post.c) ---- */

#define SVC_THREAD_DEPTH_MAX 64 /* parent links followed to find a thread's root */
#define SVC_KIND_TOMBSTONE 0    /* svc_entry.kind: deleted, body gone */
#define SVC_KIND_UNREADABLE 255 /* svc_entry.kind: does not open or verify: ignored */

struct svc_entry {
    uint8_t id[KITH_POST_ID_BYTES];
    uint64_t ms;
    uint8_t kind; /* after svc_group_scan: a post kind or SVC_KIND_* */
    uint8_t author[KITH_PUBKEY_BYTES];
    size_t topic_len;
    char topic[KITH_POST_TOPIC_MAX];
};

struct svc_idlist {
    struct svc_entry *v;
    size_t n, cap;
};

/* Append the ids of a group's posts (newest first) or of a thread's entries
 * (oldest first) to l (zeroed to start). Returns 0, -ENOMEM or a store
 * error. svc_idlist_free() in any case. */
int svc_idlist_group(struct store_txn *txn, const uint8_t gid[32], struct svc_idlist *l);
int svc_idlist_thread(struct store_txn *txn, const uint8_t root[32], struct svc_idlist *l);
void svc_idlist_free(struct svc_idlist *l);

/* A buffer of KITH_POST_INNER_MAX for opened posts (NULL on no memory);
 * wiped when freed. */
uint8_t *svc_plain_new(void);
void svc_plain_free(uint8_t *plain);

/* Get, open and verify post id of group g into plain / *p. A post whose
 * signature this process checked before (svc->verified, by the hash of its
 * bytes) is not checked again. Returns 0,
 * -KITH_ENOTFOUND, -KITH_EDELETED, -KITH_EDECRYPT (also: another group's),
 * or the errors of kith_post_open / kith_post_verify. */
int svc_post_load(struct service *svc, struct store_txn *txn, const struct record_group *g,
                  const uint8_t id[KITH_POST_ID_BYTES], uint8_t *plain, struct kith_post *p);

/* The group id in a held post's clear outer part. Returns 0,
 * -KITH_ENOTFOUND, -KITH_EDELETED or a decode error. */
int svc_post_group(struct store_txn *txn, const uint8_t id[KITH_POST_ID_BYTES],
                   uint8_t gid[KITH_GROUP_ID_BYTES]);

/* The root of the thread a reply to parent belongs in: follows parent links
 * through replies to a post. A deleted post on the way (its parent link went
 * with its body) is looked up in the thread index: a deleted reply gives its
 * root, a deleted root is the root. A post not held (yet) is the root. Returns 0 or -KITH_EPARENT
 * (parent is held but is not a readable post or reply of g). plain is scratch. */
int svc_find_root(struct service *svc, struct store_txn *txn, const struct record_group *g,
                  const uint8_t parent[KITH_POST_ID_BYTES], uint8_t *plain,
                  uint8_t root[KITH_POST_ID_BYTES]);

/* Open every post of g once: refreshes the group's cache (names, count) and,
 * when out is not NULL, leaves the group's entries there with kind, author
 * and topic filled. Returns 0, -ENOMEM or a store error. */
int svc_group_scan(struct service *svc, struct store_txn *txn, const struct record_group *g,
                   struct svc_idlist *out);

/* The display name of key in g: from its newest profile post, else the
 * first 8 hex characters of the key. */
void svc_author_name(struct service *svc, struct store_txn *txn, const struct record_group *g,
                     const uint8_t key[KITH_PUBKEY_BYTES], char out[KITH_POST_TITLE_MAX + 1]);

/* ---- post objects (service_read.c) ---- */

/* A JSON string of n bytes as lower-case hex; NULL on no memory. */
json_t *svc_hex_json(const uint8_t *b, size_t n);

/* The CONTROL.md post object of an opened, verified post of g. NULL on no
 * memory. */
json_t *svc_post_json(struct service *svc, struct store_txn *txn, const struct record_group *g,
                      const uint8_t id[KITH_POST_ID_BYTES], const struct kith_post *p);

/* The object of a deleted post: id, group, kind (as given: known from where
 * it sits), created_ms, author when its delete tells; topic and parent null,
 * no title or body, "deleted": true. NULL on no memory. */
json_t *svc_tomb_json(struct service *svc, struct store_txn *txn, const struct record_group *g,
                      const uint8_t id[KITH_POST_ID_BYTES], uint64_t ms, const char *kind);

/* Resolve a post id argument: 4-64 hex characters, a unique prefix.
 * Returns 0, -KITH_EREQUEST (not such an argument), -KITH_ENOTFOUND or
 * -KITH_EAMBIGUOUS. */
int svc_find_id(struct store_txn *txn, const char *arg, uint8_t id[KITH_POST_ID_BYTES]);

/* ASCII case-insensitive equality of a (alen bytes) and NUL-terminated b. */
int svc_text_eq(const char *a, size_t alen, const char *b);

#endif
