/*
 * kith_web_bench_prep: builds the data dir that tests/bench/web_bench.sh
 * serves (issue 5, "Benchmark"): an account, a group holding N posts, and
 * in it one conversation of a first post and R replies, the page the
 * benchmark asks for. A helper of the benchmark, not a test.
 *
 *   kith_web_bench_prep DIR [--posts N] [--replies R] [--pass PASSPHRASE]
 *
 * DIR must not hold a store yet. The account is "ana" (passphrase "bench
 * passphrase" unless --pass). The posts are by two other members with
 * display names (profile posts), spread over the group's topics, each with
 * a title and a 500-byte Markdown body, a minute apart and ending an hour
 * ago. Prints "group: GID" and "thread: PID" (full hex ids) on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "benchprep.h"
#include "kith/error.h"
#include "log.h"

#define BODY_BYTES 500

static const char *const topics[] = {"Finding out about personal budgets",
                                     "Assessments",
                                     "Direct payments",
                                     "Employing a personal assistant",
                                     "Managing the money",
                                     "Reviews and appeals",
                                     "Everyday life",
                                     "Something else"};
#define N_TOPICS (sizeof(topics) / sizeof(topics[0]))

static void die(const char *what, int err)
{
    fprintf(stderr, "kith_web_bench_prep: %s: %s\n", what, kith_strerror(err));
    exit(1);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    sodium_bin2hex(out, n * 2 + 1, b, n);
}

/* A display name for the member whose key is sk, as a profile post. */
static void add_profile(struct bench_writer *w, const uint8_t *sk, const char *name,
                        uint64_t created_ms)
{
    const uint8_t *keep = w->author_sk;
    struct bench_post p = {
        .kind = KITH_POST_KIND_PROFILE, .title = name, .body = "", .created_ms = created_ms};
    int r;

    w->author_sk = sk;
    if ((r = bench_writer_add(w, &p, NULL, NULL)) < 0)
        die("a profile post", r);
    w->author_sk = keep;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *pass = "bench passphrase";
    size_t posts = 100000, replies = 25;
    struct bench_node n;
    struct bench_writer w;
    struct kith_invite inv;
    uint8_t pk[KITH_PUBKEY_BYTES], sk_a[KITH_SECKEY_BYTES], sk_b[KITH_SECKEY_BYTES];
    uint8_t root[KITH_POST_ID_BYTES];
    char code[KITH_INVITE_TEXT_MAX], title[64], body[BODY_BYTES + 1];
    char gid_hex[KITH_GROUP_ID_BYTES * 2 + 1], pid_hex[KITH_POST_ID_BYTES * 2 + 1];
    uint64_t t;
    int r;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--posts") == 0 && i + 1 < argc)
            posts = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--replies") == 0 && i + 1 < argc)
            replies = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--pass") == 0 && i + 1 < argc)
            pass = argv[++i];
        else if (argv[i][0] != '-' && dir == NULL)
            dir = argv[i];
        else {
            fprintf(stderr, "usage: kith_web_bench_prep DIR [--posts N] [--replies R] "
                            "[--pass PASSPHRASE]\n");
            return 2;
        }
    }
    if (dir == NULL || posts < replies + 1) {
        fprintf(stderr, "kith_web_bench_prep: give a data dir, and --posts above --replies\n");
        return 2;
    }
    if (sodium_init() < 0)
        die("libsodium", -KITH_EINVAL);
    log_set_level(LOG_WARN);

    /* Markdown, as members write it: a heading-free paragraph, a list. */
    snprintf(body, sizeof(body), "%s",
             "We asked the council for **direct payments** after the review. What helped:\n\n"
             "- keep a diary of what support you need each day;\n"
             "- ask for the assessment notes in writing;\n"
             "- bring someone with you to the meeting.\n\n");
    for (size_t i = strlen(body); i < BODY_BYTES; i++)
        body[i] = "It took three months, but it was worth it. "[i % 43];
    body[BODY_BYTES] = '\0';

    if ((r = bench_node_open(&n, dir, "ana", pass)) < 0)
        die(dir, r);
    if ((r = bench_group_create(&n, "Walkers", &inv, code, sizeof(code))) < 0)
        die("creating the group", r);
    crypto_sign_keypair(pk, sk_a);
    crypto_sign_keypair(pk, sk_b);
    if ((r = bench_writer_init(&w, n.svc, &inv, sk_a, 1000)) < 0)
        die("preparing", r);

    t = ((uint64_t)time(NULL) - 3600) * 1000 - (uint64_t)posts * 60000;
    add_profile(&w, sk_a, "Sam", t - 60000);
    add_profile(&w, sk_b, "Priya", t - 60000);
    for (size_t i = 0; i < posts - replies - 1; i++) {
        struct bench_post p = {.kind = KITH_POST_KIND_POST,
                               .topic = topics[i % N_TOPICS],
                               .title = title,
                               .body = body,
                               .body_len = BODY_BYTES,
                               .created_ms = t};

        snprintf(title, sizeof(title), "Notes from meetup %zu", i + 1);
        w.author_sk = i % 2 ? sk_b : sk_a;
        if ((r = bench_writer_add(&w, &p, NULL, NULL)) < 0)
            die("storing posts", r);
        t += 60000;
    }
    {
        struct bench_post p = {.kind = KITH_POST_KIND_POST,
                               .topic = "Direct payments",
                               .title = "Paying a personal assistant from direct payments",
                               .body = body,
                               .body_len = BODY_BYTES,
                               .created_ms = t};

        w.author_sk = sk_a;
        if ((r = bench_writer_add(&w, &p, root, NULL)) < 0)
            die("storing the thread", r);
        t += 60000;
    }
    for (size_t i = 0; i < replies; i++) {
        struct bench_post p = {.kind = KITH_POST_KIND_REPLY,
                               .parent = root,
                               .body = body,
                               .body_len = BODY_BYTES,
                               .created_ms = t};

        w.author_sk = i % 2 ? sk_a : sk_b;
        if ((r = bench_writer_add(&w, &p, NULL, NULL)) < 0)
            die("storing replies", r);
        t += 60000;
    }
    if ((r = bench_writer_flush(&w)) < 0)
        die("storing posts", r);
    bench_writer_free(&w);
    bench_node_close(&n);

    hex(inv.group_id, sizeof(inv.group_id), gid_hex);
    hex(root, sizeof(root), pid_hex);
    printf("group: %s\nthread: %s\n", gid_hex, pid_hex);
    sodium_memzero(sk_a, sizeof(sk_a));
    sodium_memzero(sk_b, sizeof(sk_b));
    sodium_memzero(&inv, sizeof(inv));
    sodium_memzero(code, sizeof(code));
    return 0;
}
