/*
 * body: where the text of a post or reply comes from: the words on the
 * command line, stdin ("-"), or an editor opened on a temp file the way
 * `git commit` does. Empty text is refused by the caller.
 */
#ifndef KITH_CLI_BODY_H
#define KITH_CLI_BODY_H

#include <stddef.h>

/* Most bytes kith reads from stdin or the editor: more than a post may hold
 * (64 KiB), so the node gives the exact "too long" answer, but bounded. */
#define BODY_READ_MAX ((size_t)1024 * 1024)

/*
 * The text from npos positional words (joined with single spaces; "-" alone
 * reads stdin; none opens the editor with header as the comment block).
 * *out is malloc'd and NUL-terminated, the caller's (free()). Trailing
 * spaces and blank lines are trimmed. Returns 0; -EFBIG (over
 * BODY_READ_MAX); -ECHILD (the editor failed; *out NULL); -ENOTTY (no
 * words, $EDITOR unset and no terminal to run an editor on); -ENOMEM;
 * -errno.
 */
int body_get(int npos, char *const *pos, const char *header, char **out);

/*
 * Drop the lines that start with '#' (the editor's comment block) from text,
 * in place. Markdown headings start with '#' too, so the header tells people
 * to write "\#" or put a space first; like git, kith only drops lines whose
 * first byte is '#'.
 */
void body_strip_comments(char *text);

/* Trim trailing whitespace and leading blank lines, in place. */
void body_trim(char *text);

/* 1 when text is empty or only whitespace. */
int body_is_blank(const char *text);

#endif
