/*
 * kith-serial-relay: a test relay that plays a serial cable between two
 * kithd processes (issue 4). It makes two pseudo-terminal pairs, offers
 * their slaves as DIR/a and DIR/b (symlinks, so the paths stay the same when
 * it "replugs"), and forwards bytes between the two masters, both ways:
 *
 *   - throttled to the line rate of --baud (10 bits per byte: 8N1), so a
 *     writer is held back the way a real UART holds it back, and bytes not
 *     yet on the line are dropped when the writer flushes its output
 *     (tcflush TCOFLUSH, seen through the masters' packet mode);
 *   - with each byte flipped (one random bit) with probability --flip and
 *     dropped with probability --drop, from a PRNG seeded by --seed, so a
 *     run can be repeated;
 *   - "unplugged" on SIGUSR1 or after --unplug-after seconds: both ptys are
 *     closed and the symlinks removed (as when Bluetooth drops), and after
 *     --unplug-seconds new ptys appear behind the same paths.
 *
 * Usage: kith-serial-relay [--dir DIR] [--baud N] [--flip RATE] [--drop RATE]
 *            [--seed N] [--unplug-seconds N] [--unplug-after N]
 * Prints "a=PATH" and "b=PATH" on stdout once ready. SIGUSR2 prints the
 * counters on stderr; SIGINT/SIGTERM prints them, removes the links (and
 * DIR if the relay made it: --dir names one that need not exist) and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define QMAX 1024 /* bytes held per direction: small, so back-pressure reaches the writer */

struct end {
    int master, slave;
    char link[300];
};

struct dir {
    uint8_t in[QMAX]; /* read from the source, not yet on the "line" */
    size_t in_len;
    uint8_t out[QMAX]; /* through the line (errors applied), to write */
    size_t out_off, out_len;
    double tokens; /* bytes the line may carry now */
    uint64_t bytes, flipped, dropped;
};

static volatile sig_atomic_t got_usr1, got_usr2, got_term;
static struct end ends[2];
static struct dir dirs[2]; /* dirs[0]: a -> b, dirs[1]: b -> a */
static uint64_t rng;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        got_usr1 = 1;
    else if (sig == SIGUSR2)
        got_usr2 = 1;
    else
        got_term = 1;
}

/* xorshift64*: small, fast and reproducible from the seed. */
static double rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int plug(struct end *e)
{
    struct termios tio;
    char name[128], tmp[320];

    if (openpty(&e->master, &e->slave, name, NULL, NULL) < 0)
        return -1;
    /* Raw at once: until kithd opens it, the line discipline would echo. */
    tcgetattr(e->slave, &tio);
    cfmakeraw(&tio);
    tcsetattr(e->slave, TCSANOW, &tio);
    fcntl(e->master, F_SETFL, fcntl(e->master, F_GETFL) | O_NONBLOCK);
    /* Packet mode: a read says when the slave's output was flushed. */
    if (ioctl(e->master, TIOCPKT, &(int){1}) < 0)
        return -1;
    snprintf(tmp, sizeof(tmp), "%s.new", e->link);
    unlink(tmp);
    if (symlink(name, tmp) < 0 || rename(tmp, e->link) < 0)
        return -1;
    return 0;
}

/* Close both sides: kithd's open slave sees a hang-up. The relay's own
 * slave fd kept the master from reporting EIO while kithd was away. */
static void unplug(struct end *e)
{
    unlink(e->link);
    if (e->master >= 0)
        close(e->master);
    if (e->slave >= 0)
        close(e->slave);
    e->master = e->slave = -1;
}

static void stats(void)
{
    fprintf(stderr,
            "relay: a->b bytes=%llu flipped=%llu dropped=%llu; "
            "b->a bytes=%llu flipped=%llu dropped=%llu\n",
            (unsigned long long)dirs[0].bytes, (unsigned long long)dirs[0].flipped,
            (unsigned long long)dirs[0].dropped, (unsigned long long)dirs[1].bytes,
            (unsigned long long)dirs[1].flipped, (unsigned long long)dirs[1].dropped);
}

static void usage(void)
{
    fprintf(stderr, "usage: kith-serial-relay [--dir DIR] [--baud N] [--flip RATE] "
                    "[--drop RATE] [--seed N] [--unplug-seconds N] [--unplug-after N]\n");
    exit(2);
}

/* Move bytes the line has time for from in to out, applying errors. */
static void carry(struct dir *d, double flip, double drop)
{
    size_t n = d->in_len, room = QMAX - d->out_len, k = 0;

    if (d->out_off > 0) {
        memmove(d->out, d->out + d->out_off, d->out_len - d->out_off);
        d->out_len -= d->out_off;
        d->out_off = 0;
        room = QMAX - d->out_len;
    }
    if ((double)n > d->tokens)
        n = (size_t)d->tokens;
    if (n > room)
        n = room;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = d->in[i];

        d->bytes++;
        if (drop > 0 && rnd() < drop) {
            d->dropped++;
            continue; /* it took its time on the line all the same */
        }
        if (flip > 0 && rnd() < flip) {
            b ^= (uint8_t)(1u << (unsigned)(rnd() * 8));
            d->flipped++;
        }
        d->out[d->out_len + k++] = b;
    }
    d->out_len += k;
    memmove(d->in, d->in + n, d->in_len - n);
    d->in_len -= n;
    d->tokens -= (double)n;
}

int main(int argc, char **argv)
{
    char dirbuf[] = "/tmp/kith-relay-XXXXXX";
    const char *dirpath = NULL;
    double baud = 115200, flip = 0, drop = 0, unplug_s = 3, unplug_after = -1;
    double bps, last, plugged_at = 0;
    int made_dir = 0, plugged = 0;

    rng = 0x9e3779b97f4a7c15ull;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL)
            usage();
        if (strcmp(a, "--dir") == 0)
            dirpath = v;
        else if (strcmp(a, "--baud") == 0)
            baud = atof(v);
        else if (strcmp(a, "--flip") == 0)
            flip = atof(v);
        else if (strcmp(a, "--drop") == 0)
            drop = atof(v);
        else if (strcmp(a, "--seed") == 0)
            rng = strtoull(v, NULL, 0) * 0x9e3779b97f4a7c15ull + 1;
        else if (strcmp(a, "--unplug-seconds") == 0)
            unplug_s = atof(v);
        else if (strcmp(a, "--unplug-after") == 0)
            unplug_after = atof(v);
        else
            usage();
        i++;
    }
    if (baud < 0 || flip < 0 || flip > 1 || drop < 0 || drop > 1)
        usage();
    if (dirpath == NULL) {
        if (mkdtemp(dirbuf) == NULL) {
            perror("mkdtemp");
            return 1;
        }
        dirpath = dirbuf;
        made_dir = 1;
    } else if (mkdir(dirpath, 0700) == 0) {
        made_dir = 1; /* a --dir that was not there: made, and removed at the end */
    } else if (errno != EEXIST) {
        fprintf(stderr, "kith-serial-relay: cannot create %s: %s\n", dirpath, strerror(errno));
        return 1;
    }
    bps = baud / 10.0;
    for (int i = 0; i < 2; i++) {
        snprintf(ends[i].link, sizeof(ends[i].link), "%s/%c", dirpath, 'a' + i);
        if (plug(&ends[i]) < 0) {
            perror("openpty");
            return 1;
        }
    }
    plugged = 1;
    signal(SIGUSR1, on_signal);
    signal(SIGUSR2, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    printf("a=%s\nb=%s\n", ends[0].link, ends[1].link);
    fflush(stdout);
    last = now_s();
    double start = last;

    while (!got_term) {
        struct pollfd pfd[2];
        double t = now_s();

        if (got_usr2) {
            got_usr2 = 0;
            stats();
        }
        if (plugged && (got_usr1 || (unplug_after >= 0 && t - start >= unplug_after))) {
            got_usr1 = 0;
            unplug_after = -1;
            unplug(&ends[0]);
            unplug(&ends[1]);
            for (int i = 0; i < 2; i++)
                dirs[i].in_len = dirs[i].out_len = dirs[i].out_off = 0;
            plugged = 0;
            plugged_at = t + unplug_s;
            fprintf(stderr, "relay: unplugged for %.1f s\n", unplug_s);
        }
        if (!plugged) {
            if (t >= plugged_at) {
                if (plug(&ends[0]) < 0 || plug(&ends[1]) < 0) {
                    perror("openpty");
                    return 1;
                }
                plugged = 1;
                last = t;
                fprintf(stderr, "relay: plugged in again\n");
            } else {
                usleep(10000);
            }
            continue;
        }
        for (int i = 0; i < 2; i++) {
            struct dir *d = &dirs[i];

            d->tokens += bps > 0 ? (t - last) * bps : (double)QMAX;
            /* A line cannot save up time: at most 5 ms of bytes at once. */
            if (bps > 0 && d->tokens > bps * 0.005 + 1)
                d->tokens = bps * 0.005 + 1;
            carry(d, flip, drop);
            if (d->out_len > d->out_off) {
                ssize_t n = write(ends[1 - i].master, d->out + d->out_off, d->out_len - d->out_off);

                if (n > 0)
                    d->out_off += (size_t)n;
            }
        }
        last = t;
        for (int i = 0; i < 2; i++) {
            pfd[i].fd = ends[i].master;
            pfd[i].events = POLLPRI; /* packet mode: the writer flushed */
            if (dirs[i].in_len < QMAX)
                pfd[i].events |= POLLIN;
            if (dirs[1 - i].out_len > dirs[1 - i].out_off)
                pfd[i].events |= POLLOUT;
        }
        /* Wake often enough to keep the line busy (2 ms is 23 bytes at
         * 115200), rarely when there is nothing to carry. */
        int busy = dirs[0].in_len + dirs[1].in_len > 0;
        if (poll(pfd, 2, busy ? 2 : 100) < 0 && errno != EINTR) {
            perror("poll");
            return 1;
        }
        for (int i = 0; i < 2; i++) {
            if (pfd[i].revents & (POLLIN | POLLPRI)) {
                uint8_t pkt[QMAX + 1];
                ssize_t n = read(ends[i].master, pkt, QMAX - dirs[i].in_len + 1);

                if (n > 0 && pkt[0] != TIOCPKT_DATA) {
                    /* kithd flushed its output (tcflush TCOFLUSH): what it
                     * wrote that the line has not carried yet is gone, as
                     * on a UART. The pty would otherwise still hand over
                     * the 4 KB its line discipline holds. */
                    if (pkt[0] & TIOCPKT_FLUSHWRITE) {
                        dirs[i].in_len = 0;
                        tcflush(ends[i].master, TCIFLUSH);
                    }
                } else if (n > 1) {
                    memcpy(dirs[i].in + dirs[i].in_len, pkt + 1, (size_t)n - 1);
                    dirs[i].in_len += (size_t)n - 1;
                }
            }
        }
    }
    stats();
    unplug(&ends[0]);
    unplug(&ends[1]);
    if (made_dir)
        rmdir(dirpath);
    return 0;
}
