/*
 * service: what a member can do on this node, whatever the front end (the
 * control socket now, the web page later). It owns the unlocked member
 * sessions, the hybrid logical clock per group, and every rule about posts:
 * who may delete what, how threads are assembled, what an export holds.
 *
 * The service is single-threaded: call it from the loop thread only.
 *
 * Results: operations that answer with data build a jansson object in the
 * shape node/CONTROL.md gives for the command's "result", and hand it over
 * as a new reference in *out (the caller json_decref()s it). On error *out
 * is NULL and nothing was changed in the store. Errors are negative Kith
 * codes (kith/error.h) or -errno; every function lists its own.
 *
 * Sessions: account_create / account_unlock return a session, owned by the
 * service. A session pointer is valid until the session ends: account_lock,
 * idle expiry (checked by service_tick and service_session_find), eviction
 * when SERVICE_SESSIONS_MAX are open and another one starts, or
 * service_close. Front ends therefore keep the token, not the pointer, and
 * call service_session_find at the start of every request.
 *
 * Nothing here logs a key, a passphrase or a post body.
 */
#ifndef KITH_SERVICE_H
#define KITH_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"
#include "vault.h"

#define SERVICE_IDLE_DEFAULT_S 900
#define SERVICE_SESSIONS_MAX 64
#define SERVICE_TOKEN_HEX 64        /* session tokens: 32 random bytes as lower-case hex */
#define SERVICE_UNLOCK_FREE_TRIES 5 /* failed unlocks per name before the delay starts */
#define SERVICE_UNLOCK_DELAY_MAX_S 900
#define SERVICE_THREAD_LIMIT_DEFAULT 50
#define SERVICE_THREAD_LIMIT_MAX 1000
#define SERVICE_ID_PREFIX_MIN 4 /* hex characters of a post id prefix */

struct service;
struct service_session;

struct service_config {
    const char *content_dir; /* content/ tree (default topics); NULL = built-in list */
    uint32_t session_idle_s; /* an unlocked session ends after this long unused;
                                0 = SERVICE_IDLE_DEFAULT_S */
    /* Clock in ms since 1970; NULL = the system clock. Tests inject one. */
    uint64_t (*now_ms)(void *arg);
    void *now_arg;
    const char *data_dir;    /* shown by status; may be NULL */
    const char *socket_path; /* shown by status; may be NULL */
};

/*
 * Start the service over an open store and vault (both stay the caller's and
 * must outlive the service). Returns 0 or -ENOMEM. *out is the caller's:
 * service_close().
 */
int service_open(struct store *st, struct vault *v, const struct service_config *cfg,
                 struct service **out);

/* End every session (wiping member keys) and free. NULL is fine. */
void service_close(struct service *svc);

/* Expire idle sessions; call about once a minute. */
void service_tick(struct service *svc);

/* ---- Sessions and accounts ---- */

/*
 * Create an account: a new Ed25519 key pair, the secret key sealed under the
 * passphrase (Argon2id: slow on purpose), the record sealed under the node
 * key. The new account is unlocked: *out is its session.
 * name: trimmed of surrounding spaces, 1-64 bytes of UTF-8 without control
 * characters. pass: pass_len bytes (may hold any bytes; may be empty).
 * Returns 0, -KITH_ENAME, -KITH_EEXIST (name taken, compared ignoring ASCII
 * case), -KITH_ENOSPC, -ENOMEM or a store error.
 */
int service_account_create(struct service *svc, const char *name, const char *pass, size_t pass_len,
                           struct service_session **out);

/*
 * Unlock an account: *out is a new session holding the member's secret key
 * (in locked memory, wiped when the session ends). A wrong passphrase and an
 * unknown name give the same answer and take the same time. After
 * SERVICE_UNLOCK_FREE_TRIES failures for one name, further tries are refused
 * for 1 s, 2 s, 4 s, ... (at most SERVICE_UNLOCK_DELAY_MAX_S) by the
 * service clock; a success resets the count.
 * Returns 0, -KITH_EPASSPHRASE, -KITH_ERATELIMIT, -KITH_ENAME, -ENOMEM or a
 * store error.
 */
int service_account_unlock(struct service *svc, const char *name, const char *pass, size_t pass_len,
                           struct service_session **out);

/* End a session and wipe its key. sess must be a live session of svc. */
void service_account_lock(struct service *svc, const struct service_session *sess);

/*
 * Find the live session whose token is the hex string token (any case).
 * Expired sessions are ended on the way. Marks the session used now.
 * Returns 0 or -KITH_ELOCKED (no such session, or it expired).
 */
int service_session_find(struct service *svc, const char *token, struct service_session **out);

/* The session's token, SERVICE_TOKEN_HEX lower-case hex characters and a
 * NUL; its account name; its public key (32 bytes). All live as long as the
 * session. */
const char *service_session_token(const struct service_session *sess);
const char *service_session_name(const struct service_session *sess);
const uint8_t *service_session_public_key(const struct service_session *sess);

/* ---- Passphrase work off the loop thread ----
 *
 * Argon2id takes tenths of a second and much memory on purpose; a front end
 * that serves many people (the web page) must not run it on the loop
 * thread. A passphrase job splits account create, unlock and passphrase
 * change into three steps:
 *   *_begin   (loop thread): checks the name, the rate limit and the account
 *             record, and copies what the slow step needs into the job;
 *   service_pw_run (any thread, e.g. uv_queue_work): the Argon2id derive and
 *             open/seal; it touches nothing but the job;
 *   service_pw_finish (loop thread): stores, starts the session, counts the
 *             failure or success, and frees the job.
 * The job lives in guarded memory and is wiped when freed (it holds the
 * passphrases and the member's secret key). The service must outlive every
 * job begun on it. A passphrase is at most SERVICE_PASS_MAX bytes.
 */
#define SERVICE_PASS_MAX 1024

struct service_pw_job;

/*
 * Begin an unlock (as service_account_unlock). Returns 0 (*out is the
 * job), -KITH_ENAME, -KITH_ERATELIMIT, -KITH_ETOOBIG (passphrase over
 * SERVICE_PASS_MAX), -ENOMEM or a store error. An unknown name still gives
 * a job (that fails as a wrong passphrase would, after the same work).
 */
int service_pw_unlock_begin(struct service *svc, const char *name, const char *pass,
                            size_t pass_len, struct service_pw_job **out);

/* Begin an account create (as service_account_create). Returns 0,
 * -KITH_ENAME, -KITH_EEXIST, -KITH_ETOOBIG, -ENOMEM or a store error. */
int service_pw_create_begin(struct service *svc, const char *name, const char *pass,
                            size_t pass_len, struct service_pw_job **out);

/*
 * Begin changing the passphrase of sess's account: old_pass must open the
 * member key, which is then sealed under new_pass. Returns 0, -KITH_ELOCKED,
 * -KITH_ETOOBIG, -ENOMEM or a store error.
 */
int service_pw_change_begin(struct service *svc, struct service_session *sess, const char *old_pass,
                            size_t old_len, const char *new_pass, size_t new_len,
                            struct service_pw_job **out);

/* The slow step. Any thread; one call per job. */
void service_pw_run(struct service_pw_job *job);

/*
 * Finish job (after service_pw_run) and free it. Unlock and create: *out
 * is the new session; change: *out is NULL (may be NULL). Returns 0,
 * -KITH_EPASSPHRASE (unlock: wrong passphrase or unknown name, counted
 * towards the limit; change: the old passphrase is wrong), -KITH_EEXIST
 * (create: the name was taken meanwhile), -KITH_ELOCKED (change: the
 * account changed meanwhile), -KITH_ENOSPC, -ENOMEM or a store error.
 */
int service_pw_finish(struct service *svc, struct service_pw_job *job,
                      struct service_session **out);

/* Free a job without finishing it (wiped). NULL is fine. */
void service_pw_free(struct service_pw_job *job);

/* ---- Groups (every call marks the session used) ---- */

/*
 * Create a group: random id and key, epoch 0, this account as its first
 * member, and a profile post in it carrying the account's name. topics:
 * n_topics strings (each 1-KITH_POST_TOPIC_MAX bytes, at most 32:
 * RECORD_TOPICS_MAX in record.h), or NULL for the default list (content_dir).
 * *out: a CONTROL.md group object.
 * Returns 0, -KITH_ENAME (name or a topic), -KITH_ETOOBIG (a topic or the
 * number of topics), -KITH_EEXIST (the account already has a group of that
 * name), -KITH_ENOSPC, -ENOMEM or a store error.
 */
int service_group_create(struct service *svc, struct service_session *sess, const char *name,
                         const char *const *topics, size_t n_topics, json_t **out);

/* The account's groups: *out = {"groups": [group]}, in the account's order.
 * Returns 0, -ENOMEM or a store error. */
int service_group_list(struct service *svc, struct service_session *sess, json_t **out);

/*
 * An invite code for group (a name or id prefix, see CONTROL.md):
 * *out = {"code", "group_id", "name"}. The code carries the group key.
 * Returns 0, -KITH_ENOTFOUND, -KITH_ENOTMEMBER, -KITH_EAMBIGUOUS, -ENOMEM or
 * a store error.
 */
int service_group_invite(struct service *svc, struct service_session *sess, const char *group,
                         json_t **out);

/*
 * Join the group an invite code names: the group is added to this node if
 * new, to the account, and a profile post is written. *out: group object.
 * Returns 0, -KITH_EINVITE (bad code, or this node holds that group id with
 * another key), -KITH_EVERSION, -KITH_ENAME, -KITH_EEXIST (already a
 * member), -KITH_ENOSPC, -ENOMEM or a store error.
 */
int service_group_join(struct service *svc, struct service_session *sess, const char *code,
                       json_t **out);

/* ---- Posts ---- */

/*
 * Write a new thread in group. topic and title may be NULL (empty); a topic
 * that matches one of the group's topics ignoring ASCII case takes the
 * group's spelling. body: body_len bytes of UTF-8, 1..KITH_POST_BODY_MAX.
 * *out: the post object.
 * Returns 0, -KITH_EREQUEST (empty body), -KITH_ETOOBIG, -KITH_EENCODING
 * (text not UTF-8 or holding NUL), the group errors of
 * service_group_invite, -KITH_ENOSPC, -ENOMEM or a store error.
 */
int service_post_create(struct service *svc, struct service_session *sess, const char *group,
                        const char *topic, const char *title, const char *body, size_t body_len,
                        json_t **out);

/*
 * Reply to the post parent (an id prefix of at least SERVICE_ID_PREFIX_MIN
 * hex characters). The reply hangs under the parent's thread root.
 * Returns as service_post_create, plus -KITH_ENOTFOUND, -KITH_EAMBIGUOUS,
 * -KITH_EDELETED (the parent was deleted) and -KITH_EREQUEST (not a hex id
 * of 4+ characters).
 */
int service_post_reply(struct service *svc, struct service_session *sess, const char *parent,
                       const char *body, size_t body_len, json_t **out);

/*
 * Delete one's own post or reply: writes a DELETE post and drops the body of
 * the target in the same transaction. *out = {"id", "deleted": true}.
 * Returns 0, -KITH_ENOTYOURS, -KITH_EDELETED (already), -KITH_ENOTFOUND,
 * -KITH_EAMBIGUOUS, -KITH_EREQUEST (bad id, or not a post or reply),
 * -KITH_ENOSPC, -ENOMEM or a store error.
 */
int service_post_delete(struct service *svc, struct service_session *sess, const char *id,
                        json_t **out);

/*
 * The threads of group, newest activity first: *out = {"threads": [post +
 * "replies": int, "last_ms": int]}. topic (NULL = all) keeps threads whose
 * topic equals it ignoring ASCII case. limit 0 = SERVICE_THREAD_LIMIT_DEFAULT,
 * capped at SERVICE_THREAD_LIMIT_MAX. A deleted root still shows (as
 * deleted) while it has replies.
 * Returns 0, the group errors of service_group_invite, -ENOMEM or a store
 * error.
 */
int service_thread_list(struct service *svc, struct service_session *sess, const char *group,
                        const char *topic, size_t limit, json_t **out);

/*
 * A thread: *out = {"post": post, "replies": [post]} with replies oldest
 * first. id may name the root or any reply in the thread.
 * Returns 0, -KITH_ENOTFOUND (also for posts in groups the account is not
 * in), -KITH_EAMBIGUOUS, -KITH_EDELETED (a deleted post with nothing under
 * it), -KITH_EREQUEST, -ENOMEM or a store error.
 */
int service_thread_show(struct service *svc, struct service_session *sess, const char *id,
                        json_t **out);

/*
 * Edit one's own post or reply: writes an EDIT post whose title and body
 * replace the target's wherever it is shown (the newest edit wins; the
 * post object then has "edited": true). title must be empty for a reply.
 * *out = {"id", "edited": true}.
 * Returns 0, -KITH_ENOTYOURS, -KITH_EDELETED, -KITH_ENOTFOUND,
 * -KITH_EAMBIGUOUS, -KITH_EREQUEST (bad id, empty body, a title on a reply,
 * or not a post or reply), -KITH_ETOOBIG, -KITH_EENCODING, -KITH_ENOSPC,
 * -ENOMEM or a store error.
 */
int service_post_edit(struct service *svc, struct service_session *sess, const char *id,
                      const char *title, const char *body, size_t body_len, json_t **out);

/*
 * Change the display name of sess's account: a new profile post in each of
 * its groups (the account's sign-in name stays). *out = {"display_name",
 * "groups": int}. Returns 0, -KITH_ENAME (name rule as for accounts),
 * -KITH_ELOCKED, -KITH_ENOSPC, -ENOMEM or a store error (groups done
 * before the error keep the new name).
 */
int service_profile_set(struct service *svc, struct service_session *sess, const char *name,
                        json_t **out);

/*
 * The display name of sess's account as its groups show it: the name in
 * its newest profile post in its first group, else its sign-in name. out
 * gets at most KITH_POST_TITLE_MAX bytes and a NUL. Returns 0,
 * -KITH_ELOCKED, -ENOMEM or a store error.
 */
int service_display_name(struct service *svc, struct service_session *sess, char *out, size_t cap);

enum service_export_format { SERVICE_EXPORT_JSON, SERVICE_EXPORT_MD };

/*
 * Everything this account wrote (posts and replies, deleted ones left out),
 * oldest first, across its groups: json: {"format": "json", "posts":
 * [post]}; md: {"format": "md", "text": markdown}.
 * Returns 0, -ENOMEM or a store error.
 */
int service_export(struct service *svc, struct service_session *sess,
                   enum service_export_format format, json_t **out);

/* ---- Node ---- */

/* The status object of CONTROL.md. Returns 0, -ENOMEM or a store error. */
int service_status(struct service *svc, json_t **out);

/*
 * Take a sealed post that came from elsewhere (sync): open it with the key
 * of its group, verify the signature, check the rules (a delete or edit is
 * by the author of its target, in the same group, and targets a post or
 * reply; a reply's parent is in the same group), then store it and apply
 * tombstones, in one transaction. A delete whose target has not arrived yet
 * is kept, and the target is tombstoned the moment it arrives.
 * Returns 0 (stored), -KITH_EEXIST (already held), -KITH_EDELETED (held as
 * deleted: the id is known, the body is not kept; not a failure for sync),
 * -KITH_ENOTMEMBER (this node does not hold the group), the errors of
 * kith_post_open and kith_post_verify, -KITH_ENOTYOURS, -KITH_EPARENT,
 * -KITH_ENOSPC, -ENOMEM or a store error. On error nothing is stored.
 */
int service_accept_post(struct service *svc, const uint8_t *sealed, size_t len);

/* One post of a batch for service_accept_batch. */
struct service_incoming {
    const uint8_t *sealed; /* borrowed for the call */
    size_t len;
    uint8_t id[KITH_POST_ID_BYTES]; /* kith_post_id of sealed */
    const struct kith_post *post;   /* opened with its group's key and verified */
    int result; /* out: 0 stored, -KITH_EEXIST, -KITH_EDELETED, or the rule it broke */
};

/*
 * Store a batch of posts from sync in ONE write transaction. The caller (the
 * peer session) opened and verified every post already, off the loop thread
 * (kith_post_open with the key of the group named in its outer part, then
 * kith_post_verify): the service trusts that and checks only the rules, as
 * service_accept_post does, post by post in batch order (so a delete before
 * its target in the batch still wins). A post that breaks a rule or is held
 * already gets its code in result and is skipped; the others are stored.
 * origin is passed to the post hook for each stored post (so sync does not
 * send a post back where it came from). *stored (may be NULL) counts the
 * posts stored.
 * Returns 0, or -ENOMEM or a store error (-KITH_ENOSPC...): then nothing is
 * stored and results are unspecified.
 */
int service_accept_batch(struct service *svc, struct service_incoming *v, size_t n,
                         const void *origin, size_t *stored);

/*
 * Called on the loop thread after a post is committed to the store: written
 * here (origin NULL) or accepted from sync (origin as given to
 * service_accept_batch; service_accept_post passes NULL). gid is its group,
 * sealed its bytes (len), valid only during the call. Posts held as deleted
 * (a delete came first) are not reported.
 */
typedef void (*service_post_hook)(void *arg, const uint8_t gid[KITH_GROUP_ID_BYTES],
                                  const uint8_t id[KITH_POST_ID_BYTES], uint64_t created_ms,
                                  const uint8_t *sealed, size_t len, const void *origin);

/* Set (fn) or clear (NULL) the post hook. */
void service_set_post_hook(struct service *svc, service_post_hook fn, void *arg);

/* The sync manager the control protocol reports on (node/sync.h), kept here
 * so rpc_handle needs nothing else. NULL when the node does not sync. */
void service_set_sync(struct service *svc, void *sync);
void *service_sync(struct service *svc);

#endif
