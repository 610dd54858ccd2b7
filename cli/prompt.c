/*
 * prompt: terminal questions (see prompt.h). Owns the terminal state while a
 * passphrase is being typed: echo is off only for that time, and a Ctrl-C
 * in the middle puts the terminal back before kith exits.
 */
#include "prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

static volatile sig_atomic_t tty_fd = -1;
static struct termios saved;

static void restore_and_die(int sig)
{
    if (tty_fd >= 0) {
        tcsetattr(tty_fd, TCSAFLUSH, &saved);
        (void)!write(tty_fd, "\n", 1);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Read one line from fd into buf without its newline. */
static int read_line_fd(int fd, char *buf, size_t cap)
{
    size_t n = 0;

    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0) {
            if (n == 0)
                return -ECANCELED; /* Ctrl-D on an empty line */
            break;
        }
        if (c == '\n')
            break;
        if (n + 1 >= cap) {
            /* Drain the rest of the line so it does not reach the shell. */
            while (read(fd, &c, 1) == 1 && c != '\n')
                ;
            sodium_memzero(buf, cap);
            return -EMSGSIZE;
        }
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return 0;
}

static int ask_noecho(int fd, const char *question, char *buf, size_t cap)
{
    struct termios t;
    struct sigaction sa, old_int, old_term, old_hup;
    int r;

    if (tcgetattr(fd, &saved) < 0)
        return -errno;
    t = saved;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    t.c_lflag |= ICANON;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = restore_and_die;
    sigemptyset(&sa.sa_mask);
    tty_fd = fd;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    (void)!write(fd, question, strlen(question));
    if (tcsetattr(fd, TCSAFLUSH, &t) < 0) {
        r = -errno;
    } else {
        r = read_line_fd(fd, buf, cap);
        tcsetattr(fd, TCSAFLUSH, &saved);
    }
    (void)!write(fd, "\n", 1); /* the newline the person typed was not echoed */
    tty_fd = -1;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    return r;
}

int prompt_passphrase(const char *question, int confirm, char *buf, size_t cap)
{
    const char *env = getenv("KITH_PASSPHRASE");
    char again[PROMPT_PASS_MAX];
    int fd, r;

    if (env) {
        if (strlen(env) + 1 > cap)
            return -EMSGSIZE;
        if (!*env)
            return -EINVAL;
        memcpy(buf, env, strlen(env) + 1);
        return 0;
    }
    fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -ENOTTY;
    if (!isatty(fd)) {
        close(fd);
        return -ENOTTY;
    }
    r = ask_noecho(fd, question, buf, cap);
    if (r == 0 && buf[0] == '\0')
        r = -EINVAL;
    if (r == 0 && confirm) {
        static const char q2[] = "Type it again to check: ";
        r = ask_noecho(fd, q2, again, sizeof(again) < cap ? sizeof(again) : cap);
        if (r == 0 && strcmp(buf, again) != 0)
            r = -ECANCELED;
        sodium_memzero(again, sizeof(again));
    }
    close(fd);
    if (r < 0)
        sodium_memzero(buf, cap);
    return r;
}

int prompt_yes_no(const char *question, int *yes)
{
    char line[64] = "";
    int r;

    /* On stderr, like rm -i: stdout may be carrying --json output. */
    fflush(stdout);
    fputs(question, stderr);
    fputs(" [y/N] ", stderr);
    fflush(stderr);
    *yes = 0;
    r = read_line_fd(STDIN_FILENO, line, sizeof(line));
    if (r == -ECANCELED || r == -EMSGSIZE) {
        fputc('\n', stderr);
        return 0;
    }
    if (r < 0)
        return r;
    char *p = line;
    while (*p == ' ')
        p++;
    *yes = strcasecmp(p, "y") == 0 || strcasecmp(p, "yes") == 0 || strncasecmp(p, "y ", 2) == 0;
    return 0;
}
