/*
 * kith-recon-driver: runs two kith-recon-harness processes (or any harness
 * speaking Negentropy's test protocol) against each other, as the
 * reference's test/fuzz.pl does, and checks the result exactly: the
 * initiator's have lines must be the ids only it holds and its need lines
 * the ids only the responder holds, each once.
 *
 *   kith-recon-driver [options] HARNESS1 [HARNESS2]
 *     -n N        items both sides share (default 10000)
 *     -a A        items only the initiator holds (default 5)
 *     -b B        items only the responder holds (default 5)
 *     -c          clustered: the differing items sit together in time
 *                 instead of spread over the whole range
 *     -s SEED     seed (default 1)
 *     -l LIMIT1   FRAMESIZELIMIT for the initiator (default none)
 *     -L LIMIT2   FRAMESIZELIMIT for the responder (default none)
 *
 * Prints "rounds R up U down D repeats P" (bytes each way; P ids reported
 * more than once, which only a responder frame limit may cause) and exits 0
 * when the result is right, 1 when it is not.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define ID_HEX 64

struct child {
    pid_t pid;
    FILE *in;  /* we write */
    FILE *out; /* we read */
};

struct item {
    unsigned long long ts;
    char id[ID_HEX + 1];
    int side; /* 1: initiator only, 2: responder only, 3: both */
    int seen;
};

static unsigned long long rng_state;

static unsigned long long rnd(void)
{
    /* splitmix64: deterministic across platforms, enough for test data. */
    unsigned long long z = (rng_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "kith-recon-driver: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static void spawn(struct child *c, const char *cmd, const char *limit)
{
    int to[2], from[2];

    if (pipe(to) < 0 || pipe(from) < 0)
        fail("pipe: %s", strerror(errno));
    c->pid = fork();
    if (c->pid < 0)
        fail("fork: %s", strerror(errno));
    if (c->pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[0]);
        close(to[1]);
        close(from[0]);
        close(from[1]);
        if (limit != NULL)
            setenv("FRAMESIZELIMIT", limit, 1);
        else
            unsetenv("FRAMESIZELIMIT");
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    c->in = fdopen(to[1], "w");
    c->out = fdopen(from[0], "r");
    if (c->in == NULL || c->out == NULL)
        fail("fdopen: %s", strerror(errno));
}

static char *read_line(struct child *c, char **buf, size_t *cap, const char *who)
{
    ssize_t n = getline(buf, cap, c->out);

    if (n < 0)
        fail("%s ended without an answer", who);
    while (n > 0 && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r'))
        (*buf)[--n] = '\0';
    return *buf;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(((const struct item *)a)->id, ((const struct item *)b)->id);
}

int main(int argc, char **argv)
{
    long n = 10000, only1 = 5, only2 = 5;
    int clustered = 0, opt;
    const char *limit1 = NULL, *limit2 = NULL;
    struct child c1, c2;
    struct item *items, key;
    char *line = NULL;
    size_t cap = 0;
    long total, rounds = 0, up = 0, down = 0, bad = 0, repeats = 0;

    rng_state = 1;
    while ((opt = getopt(argc, argv, "n:a:b:cs:l:L:")) != -1) {
        switch (opt) {
        case 'n':
            n = atol(optarg);
            break;
        case 'a':
            only1 = atol(optarg);
            break;
        case 'b':
            only2 = atol(optarg);
            break;
        case 'c':
            clustered = 1;
            break;
        case 's':
            rng_state = strtoull(optarg, NULL, 10);
            break;
        case 'l':
            limit1 = optarg;
            break;
        case 'L':
            limit2 = optarg;
            break;
        default:
            fail("%s", "usage: kith-recon-driver [-n N] [-a A] [-b B] [-c] [-s SEED] "
                       "[-l LIMIT1] [-L LIMIT2] HARNESS1 [HARNESS2]");
        }
    }
    if (optind >= argc || n < 0 || only1 < 0 || only2 < 0)
        fail("%s", "need a harness command");
    signal(SIGPIPE, SIG_IGN);
    spawn(&c1, argv[optind], limit1);
    spawn(&c2, optind + 1 < argc ? argv[optind + 1] : argv[optind], limit2);

    total = n + only1 + only2;
    items = calloc((size_t)total + 1, sizeof(*items));
    if (items == NULL)
        fail("%s", "out of memory");
    for (long i = 0; i < total; i++) {
        struct item *it = &items[i];
        int diff = i >= n;

        /* Timestamps collide often (range n/2), so bounds need id prefixes. */
        it->ts = 1677970534ull + rnd() % (unsigned long long)(total / 2 + 1);
        if (diff && clustered)
            it->ts = 1677970534ull + (unsigned long long)(total / 3) + (unsigned long long)(i - n);
        for (int k = 0; k < ID_HEX; k += 16)
            snprintf(it->id + k, 17, "%016llx", rnd());
        it->side = !diff ? 3 : (i < n + only1 ? 1 : 2);
        if (it->side & 1)
            fprintf(c1.in, "item,%llu,%s\n", it->ts, it->id);
        if (it->side & 2)
            fprintf(c2.in, "item,%llu,%s\n", it->ts, it->id);
    }
    fputs("seal\n", c1.in);
    fputs("seal\n", c2.in);
    fputs("initiate\n", c1.in);
    fflush(c1.in);
    fflush(c2.in);
    qsort(items, (size_t)total, sizeof(*items), cmp_id);

    for (;;) {
        char *l = read_line(&c1, &line, &cap, "initiator");

        if (strncmp(l, "have,", 5) == 0 || strncmp(l, "need,", 5) == 0) {
            struct item *it;
            int want = l[0] == 'h' ? 1 : 2;

            snprintf(key.id, sizeof(key.id), "%s", l + 5);
            it = bsearch(&key, items, (size_t)total, sizeof(*items), cmp_id);
            if (it == NULL || it->side != want) {
                fprintf(stderr, "kith-recon-driver: wrong %s\n", l);
                bad++;
            } else if (it->seen++) {
                /* Legitimate only after the responder stopped a message
                 * short at its frame limit (see PROTOCOL.md). */
                repeats++;
                if (limit2 == NULL)
                    bad++;
            }
            continue;
        }
        if (strcmp(l, "done") == 0)
            break;
        if (strncmp(l, "msg,", 4) != 0)
            fail("unexpected line from initiator: %s", l);
        up += (long)(strlen(l) - 4) / 2;
        fprintf(c2.in, "%s\n", l);
        fflush(c2.in);
        l = read_line(&c2, &line, &cap, "responder");
        if (strncmp(l, "msg,", 4) != 0)
            fail("unexpected line from responder: %s", l);
        down += (long)(strlen(l) - 4) / 2;
        fprintf(c1.in, "%s\n", l);
        fflush(c1.in);
        rounds++;
    }
    for (long i = 0; i < total; i++) {
        if (items[i].side != 3 && !items[i].seen) {
            fprintf(stderr, "kith-recon-driver: missed %s (side %d)\n", items[i].id, items[i].side);
            bad++;
        }
    }
    fclose(c1.in);
    fclose(c2.in);
    fclose(c1.out);
    fclose(c2.out);
    waitpid(c1.pid, NULL, 0);
    waitpid(c2.pid, NULL, 0);
    free(items);
    free(line);
    printf("n %ld a %ld b %ld%s rounds %ld up %ld down %ld repeats %ld%s\n", n, only1, only2,
           clustered ? " clustered" : "", rounds, up, down, repeats, bad ? " FAILED" : "");
    return bad ? 1 : 0;
}
