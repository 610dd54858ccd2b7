/*
 * prompt: asking the person at the terminal. Passphrases are read from
 * /dev/tty with echo off (so they work even when stdin carries a post body),
 * or taken from $KITH_PASSPHRASE for scripts. Yes/no questions for risky
 * steps such as deleting a post.
 */
#ifndef KITH_CLI_PROMPT_H
#define KITH_CLI_PROMPT_H

#include <stddef.h>

/* Longest passphrase kith reads, in bytes. */
#define PROMPT_PASS_MAX 1024

/*
 * Get a passphrase into buf (capacity cap, NUL-terminated): $KITH_PASSPHRASE
 * when set, else ask `question` on the terminal with echo off. When confirm
 * is set (a new account), ask a second time and require the same answer.
 * Returns 0; -ENOTTY (no terminal and no $KITH_PASSPHRASE); -EINVAL (empty);
 * -EMSGSIZE (longer than cap - 1); -ECANCELED (the two answers differ, or
 * the person pressed Ctrl-D); -errno on a read error. On error buf is wiped.
 * The caller wipes buf with sodium_memzero when done.
 */
int prompt_passphrase(const char *question, int confirm, char *buf, size_t cap);

/*
 * Ask a yes/no question on the terminal (stdin must be a terminal; the
 * caller checks). Only "y" or "yes" (any case) is yes. Returns 0 with *yes
 * set, or -errno.
 */
int prompt_yes_no(const char *question, int *yes);

#endif
