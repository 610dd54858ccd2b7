/*
 * error: the text for every Kith error code (see kith/error.h).
 */
#include <string.h>

#include "kith/error.h"

struct err_text {
    const char *name;
    const char *text;
};

static const struct err_text kith_errors[] = {
    [KITH_EINVAL - KITH_ERRBASE] = {"KITH_EINVAL", "invalid argument"},
    [KITH_ETRUNCATED - KITH_ERRBASE] = {"KITH_ETRUNCATED", "data is cut short"},
    [KITH_ETOOBIG - KITH_ERRBASE] = {"KITH_ETOOBIG", "too big"},
    [KITH_EVERSION - KITH_ERRBASE] = {"KITH_EVERSION", "unknown format version"},
    [KITH_EKIND - KITH_ERRBASE] = {"KITH_EKIND", "unknown kind of post"},
    [KITH_EDECRYPT - KITH_ERRBASE] = {"KITH_EDECRYPT", "cannot decrypt: wrong key or damaged data"},
    [KITH_ESIGNATURE - KITH_ERRBASE] = {"KITH_ESIGNATURE", "signature does not match"},
    [KITH_ETRAILING - KITH_ERRBASE] = {"KITH_ETRAILING", "unexpected bytes after the end"},
    [KITH_EENCODING - KITH_ERRBASE] = {"KITH_EENCODING", "badly encoded data"},
    [KITH_EBUFSIZE - KITH_ERRBASE] = {"KITH_EBUFSIZE", "output buffer too small"},
    [KITH_EPARENT - KITH_ERRBASE] = {"KITH_EPARENT", "kind of post and parent do not agree"},
    [KITH_ENOTFOUND - KITH_ERRBASE] = {"KITH_ENOTFOUND", "not found"},
    [KITH_EEXIST - KITH_ERRBASE] = {"KITH_EEXIST", "already exists"},
    [KITH_EDELETED - KITH_ERRBASE] = {"KITH_EDELETED", "deleted by its author"},
    [KITH_ESTORE - KITH_ERRBASE] = {"KITH_ESTORE", "the store failed"},
    [KITH_ESCHEMA - KITH_ERRBASE] = {"KITH_ESCHEMA", "the store was made by a newer Kith"},
    [KITH_ENOSPC - KITH_ERRBASE] = {"KITH_ENOSPC", "the disk is full; nothing was saved"},
    [KITH_EPASSPHRASE - KITH_ERRBASE] = {"KITH_EPASSPHRASE", "wrong passphrase"},
    [KITH_ENOKEY - KITH_ERRBASE] = {"KITH_ENOKEY", "the node key is missing or unreadable"},
    [KITH_EKEYFILE - KITH_ERRBASE] = {"KITH_EKEYFILE",
                                      "the node key file can be read by other users (chmod 600 it)"},
    [KITH_ENOTYOURS - KITH_ERRBASE] = {"KITH_ENOTYOURS", "that post is not yours"},
    [KITH_ELOCKED - KITH_ERRBASE] = {"KITH_ELOCKED", "no account is unlocked (run: kith unlock NAME)"},
    [KITH_ENOTMEMBER - KITH_ERRBASE] = {"KITH_ENOTMEMBER", "you are not in that group"},
    [KITH_EAMBIGUOUS - KITH_ERRBASE] = {"KITH_EAMBIGUOUS",
                                        "that id is too short: more than one post starts with it"},
    [KITH_EREQUEST - KITH_ERRBASE] = {"KITH_EREQUEST", "malformed request"},
    [KITH_EUNKNOWNCMD - KITH_ERRBASE] = {"KITH_EUNKNOWNCMD", "unknown command"},
    [KITH_EINVITE - KITH_ERRBASE] = {"KITH_EINVITE", "the invite code is not valid"},
    [KITH_ENAME - KITH_ERRBASE] = {"KITH_ENAME", "that name is empty, too long or has odd characters"},
    [KITH_ERATELIMIT - KITH_ERRBASE] = {"KITH_ERATELIMIT", "too many tries; wait a minute and try again"},
};

static const struct err_text *kith_lookup(int err)
{
    int i = -err - KITH_ERRBASE;

    if (i < 0 || i >= (int)(sizeof(kith_errors) / sizeof(kith_errors[0])))
        return NULL;
    if (kith_errors[i].name == NULL)
        return NULL;
    return &kith_errors[i];
}

const char *kith_strerror(int err)
{
    const struct err_text *e = kith_lookup(err);

    if (e != NULL)
        return e->text;
    if (err < 0 && -err < KITH_ERRBASE)
        return strerror(-err);
    return "unknown error";
}

const char *kith_errname(int err)
{
    const struct err_text *e = kith_lookup(err);

    if (e != NULL)
        return e->name;
    if (err < 0 && -err < KITH_ERRBASE) {
        /* strerrorname_np is glibc 2.32+; fall back to the number. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
        const char *n = strerrorname_np(-err);
        if (n != NULL)
            return n;
#endif
        return "ERRNO";
    }
    return "KITH_EUNKNOWN";
}
