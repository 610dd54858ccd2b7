/*
 * Tests for what the web page added to the service: passphrase jobs
 * (node/service_pw.c: create, unlock and passphrase change split so the
 * Argon2id work runs off the loop thread), editing a post
 * (service_post_edit) and changing the display name (service_profile_set).
 * Real store and vault in a mkdtemp directory, an injected clock.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <ftw.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kith/error.h"
#include "kith/post.h"
#include "service.h"
#include "store.h"
#include "vault.h"

#define T0 1700000000000ull

static char dir[64];
static struct store *st;
static struct vault *v;
static struct service *svc;
static uint64_t clock_ms;

static uint64_t test_clock(void *arg)
{
    return *(uint64_t *)arg;
}

static void setup(void)
{
    char key[128];
    struct service_config cfg = {0};

    cr_assert(sodium_init() >= 0);
    strcpy(dir, "/tmp/kith-svcpw-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(store_open(dir, &st), 0);
    snprintf(key, sizeof key, "%s/node.key", dir);
    cr_assert_eq(vault_open_keyfile(st, key, &v), 0);
    clock_ms = T0;
    cfg.content_dir = KITH_SOURCE_DIR "/content";
    cfg.now_ms = test_clock;
    cfg.now_arg = &clock_ms;
    cr_assert_eq(service_open(st, v, &cfg, &svc), 0);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void teardown(void)
{
    service_close(svc);
    vault_close(v);
    store_close(st);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(service_pw, .init = setup, .fini = teardown, .timeout = 120);

static void *run_thread(void *job)
{
    service_pw_run(job);
    return NULL;
}

/* Run the slow step on another thread, as the web page does. */
static int run_job(struct service_pw_job *job, struct service_session **out)
{
    pthread_t th;

    cr_assert_eq(pthread_create(&th, NULL, run_thread, job), 0);
    pthread_join(th, NULL);
    return service_pw_finish(svc, job, out);
}

static struct service_session *create(const char *name, const char *pass)
{
    struct service_pw_job *job = NULL;
    struct service_session *s = NULL;

    cr_assert_eq(service_pw_create_begin(svc, name, pass, strlen(pass), &job), 0);
    cr_assert_eq(run_job(job, &s), 0);
    cr_assert_not_null(s);
    return s;
}

static int unlock(const char *name, const char *pass, struct service_session **s)
{
    struct service_pw_job *job = NULL;
    int r = service_pw_unlock_begin(svc, name, pass, strlen(pass), &job);

    if (r < 0)
        return r;
    return run_job(job, s);
}

Test(service_pw, create_then_unlock)
{
    struct service_session *a = create(" Ana ", "long passphrase"), *b = NULL, *found = NULL;
    struct service_pw_job *job = NULL;

    cr_assert_str_eq(service_session_name(a), "Ana");
    cr_assert_eq(service_session_find(svc, service_session_token(a), &found), 0);
    cr_assert_eq(found, a);
    /* The same name in another case is taken, found before the slow step. */
    cr_assert_eq(service_pw_create_begin(svc, "ANA", "x", 1, &job), -KITH_EEXIST);
    cr_assert_null(job);
    cr_assert_eq(unlock("ana", "long passphrase", &b), 0);
    cr_assert_neq(a, b);
    cr_assert_eq(memcmp(service_session_public_key(a), service_session_public_key(b), 32), 0);
    /* The blocking API opens what the job sealed. */
    cr_assert_eq(service_account_unlock(svc, "Ana", "long passphrase", 15, &b), 0);
}

Test(service_pw, create_race_and_bad_input)
{
    struct service_pw_job *j1 = NULL, *j2 = NULL;
    struct service_session *s = NULL;
    char big[SERVICE_PASS_MAX + 1];

    /* Two browsers create the same name at once: the second to finish loses. */
    cr_assert_eq(service_pw_create_begin(svc, "bo", "passphrase1", 11, &j1), 0);
    cr_assert_eq(service_pw_create_begin(svc, "bo", "passphrase2", 11, &j2), 0);
    cr_assert_eq(run_job(j1, &s), 0);
    cr_assert_eq(run_job(j2, &s), -KITH_EEXIST);
    cr_assert_null(s);
    cr_assert_eq(service_pw_create_begin(svc, "   ", "p", 1, &j1), -KITH_ENAME);
    memset(big, 'p', sizeof(big));
    cr_assert_eq(service_pw_create_begin(svc, "cy", big, sizeof(big), &j1), -KITH_ETOOBIG);
    cr_assert_eq(service_pw_unlock_begin(svc, "cy", big, sizeof(big), &j1), -KITH_ETOOBIG);
    /* A job begun and dropped leaves nothing behind. */
    cr_assert_eq(service_pw_create_begin(svc, "dee", "passphrase", 10, &j1), 0);
    service_pw_free(j1);
    service_pw_free(NULL);
    cr_assert_eq(unlock("dee", "passphrase", &s), -KITH_EPASSPHRASE);
}

Test(service_pw, wrong_and_unknown_count_towards_the_limit)
{
    struct service_session *s = NULL;

    create("eve", "right passphrase");
    cr_assert_eq(unlock("nobody", "whatever", &s), -KITH_EPASSPHRASE);
    for (int i = 0; i < SERVICE_UNLOCK_FREE_TRIES; i++)
        cr_assert_eq(unlock("eve", "wrong", &s), -KITH_EPASSPHRASE);
    cr_assert_null(s);
    /* Now even the right passphrase waits... */
    cr_assert_eq(unlock("eve", "right passphrase", &s), -KITH_ERATELIMIT);
    clock_ms += 1001;
    /* ...until the delay is over; a success clears the count. */
    cr_assert_eq(unlock("eve", "right passphrase", &s), 0);
    cr_assert_eq(unlock("eve", "wrong", &s), -KITH_EPASSPHRASE);
    cr_assert_eq(unlock("eve", "right passphrase", &s), 0);
}

Test(service_pw, change_passphrase)
{
    struct service_session *a = create("fay", "old passphrase"), *s = NULL;
    struct service_pw_job *job = NULL, *j2 = NULL;

    cr_assert_eq(service_pw_change_begin(svc, a, "wrong", 5, "new passphrase", 14, &job), 0);
    cr_assert_eq(run_job(job, NULL), -KITH_EPASSPHRASE);
    cr_assert_eq(unlock("fay", "old passphrase", &s), 0);

    cr_assert_eq(service_pw_change_begin(svc, a, "old passphrase", 14, "new passphrase", 14, &job),
                 0);
    /* A second change begun from the old seal loses to the first. */
    cr_assert_eq(service_pw_change_begin(svc, a, "old passphrase", 14, "third one", 9, &j2), 0);
    cr_assert_eq(run_job(job, NULL), 0);
    cr_assert_eq(run_job(j2, NULL), -KITH_ELOCKED);
    cr_assert_eq(unlock("fay", "old passphrase", &s), -KITH_EPASSPHRASE);
    cr_assert_eq(unlock("fay", "new passphrase", &s), 0);
    cr_assert_eq(memcmp(service_session_public_key(s), service_session_public_key(a), 32), 0);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    cr_assert_not_null(s, "no string %s", key);
    return s;
}

Test(service_pw, edit_posts)
{
    struct service_session *a = create("gil", "passphrase"), *b = create("hal", "passphrase");
    json_t *g = NULL, *p = NULL, *r = NULL, *out = NULL, *t = NULL, *inv = NULL;
    char gid[65], pid[65], rid[65];

    cr_assert_eq(service_group_create(svc, a, "Walkers", NULL, 0, &g), 0);
    strcpy(gid, jstr(g, "group_id"));
    cr_assert_eq(service_group_invite(svc, a, gid, &inv), 0);
    cr_assert_eq(service_group_join(svc, b, jstr(inv, "code"), &out), 0);
    json_decref(out);
    cr_assert_eq(service_post_create(svc, a, gid, "Assessments", "First", "body one", 8, &p), 0);
    strcpy(pid, jstr(p, "id"));
    cr_assert_eq(service_post_reply(svc, a, pid, "a reply", 7, &r), 0);
    strcpy(rid, jstr(r, "id"));

    cr_assert_eq(service_post_edit(svc, a, pid, "Better", "body two\r\nline", 14, &out), 0);
    cr_assert_str_eq(jstr(out, "id"), pid);
    cr_assert(json_is_true(json_object_get(out, "edited")));
    json_decref(out);
    clock_ms += 1000;
    cr_assert_eq(service_post_edit(svc, a, pid, "Best", "body three", 10, &out), 0);
    json_decref(out);
    cr_assert_eq(service_post_edit(svc, a, rid, "", "reply edited", 12, &out), 0);
    json_decref(out);

    cr_assert_eq(service_thread_show(svc, b, pid, &t), 0);
    cr_assert_str_eq(jstr(json_object_get(t, "post"), "title"), "Best");
    cr_assert_str_eq(jstr(json_object_get(t, "post"), "body"), "body three");
    cr_assert(json_is_true(json_object_get(json_object_get(t, "post"), "edited")));
    /* Edits are not replies. */
    cr_assert_eq(json_array_size(json_object_get(t, "replies")), 1);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(t, "replies"), 0), "body"),
                     "reply edited");
    json_decref(t);

    cr_assert_eq(service_post_edit(svc, b, pid, "", "not mine", 8, &out), -KITH_ENOTYOURS);
    cr_assert_eq(service_post_edit(svc, a, rid, "title", "x", 1, &out), -KITH_EREQUEST);
    cr_assert_eq(service_post_edit(svc, a, pid, "", "", 0, &out), -KITH_EREQUEST);
    cr_assert_eq(service_post_edit(svc, a, "zz", "", "x", 1, &out), -KITH_EREQUEST);
    cr_assert_null(out);
    cr_assert_eq(service_post_delete(svc, a, rid, &out), 0);
    json_decref(out);
    cr_assert_eq(service_post_edit(svc, a, rid, "", "x", 1, &out), -KITH_EDELETED);
    json_decref(g);
    json_decref(p);
    json_decref(r);
    json_decref(inv);
}

Test(service_pw, display_name)
{
    struct service_session *a = create("ivy", "passphrase");
    json_t *g = NULL, *out = NULL, *p = NULL, *t = NULL;
    char gid[65];

    char shown[KITH_POST_TITLE_MAX + 1];

    cr_assert_eq(service_display_name(svc, a, shown, sizeof(shown)), 0);
    cr_assert_str_eq(shown, "ivy"); /* no group yet: the sign-in name */
    cr_assert_eq(service_group_create(svc, a, "One", NULL, 0, &g), 0);
    cr_assert_eq(service_display_name(svc, a, shown, sizeof(shown)), 0);
    cr_assert_str_eq(shown, "ivy"); /* the first profile post */
    json_decref(g);
    cr_assert_eq(service_group_create(svc, a, "Two", NULL, 0, &g), 0);
    strcpy(gid, jstr(g, "group_id"));
    json_decref(g);
    cr_assert_eq(service_post_create(svc, a, gid, NULL, NULL, "hi", 2, &p), 0);
    clock_ms += 1000;
    cr_assert_eq(service_profile_set(svc, a, "  Ivy R  ", &out), 0);
    cr_assert_str_eq(jstr(out, "display_name"), "Ivy R");
    cr_assert_eq(json_integer_value(json_object_get(out, "groups")), 2);
    json_decref(out);
    cr_assert_eq(service_display_name(svc, a, shown, sizeof(shown)), 0);
    cr_assert_str_eq(shown, "Ivy R");
    cr_assert_eq(service_thread_show(svc, a, jstr(p, "id"), &t), 0);
    cr_assert_str_eq(jstr(json_object_get(t, "post"), "author"), "Ivy R");
    json_decref(t);
    cr_assert_eq(service_profile_set(svc, a, "", &out), -KITH_ENAME);
    cr_assert_null(out);
    json_decref(p);
}
