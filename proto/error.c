/*
 * error: the text for every Kith error code (see kith/error.h).
 */
#include <errno.h>
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
    [KITH_EMSGTYPE - KITH_ERRBASE] = {"KITH_EMSGTYPE", "unknown kind of message"},
    [KITH_EPROTOCOL - KITH_ERRBASE] = {"KITH_EPROTOCOL", "the other node broke the sync protocol"},
    [KITH_ENONCE - KITH_ERRBASE] = {"KITH_ENONCE", "the session used up its keys; reconnect"},
    [KITH_EBADKEY - KITH_ERRBASE] = {"KITH_EBADKEY", "the other node sent an invalid key"},
    [KITH_ENOTFOUND - KITH_ERRBASE] = {"KITH_ENOTFOUND", "not found"},
    [KITH_EEXIST - KITH_ERRBASE] = {"KITH_EEXIST", "already exists"},
    [KITH_EDELETED - KITH_ERRBASE] = {"KITH_EDELETED", "deleted by its author"},
    [KITH_ESTORE - KITH_ERRBASE] = {"KITH_ESTORE", "the store failed"},
    [KITH_ESCHEMA - KITH_ERRBASE] = {"KITH_ESCHEMA", "the store was made by a newer Kith"},
    [KITH_ENOSPC - KITH_ERRBASE] = {"KITH_ENOSPC", "the disk is full; nothing was saved"},
    [KITH_EPASSPHRASE - KITH_ERRBASE] = {"KITH_EPASSPHRASE", "wrong passphrase"},
    [KITH_ENOKEY - KITH_ERRBASE] = {"KITH_ENOKEY", "the node key is missing or unreadable"},
    [KITH_EKEYFILE -
        KITH_ERRBASE] = {"KITH_EKEYFILE",
                         "the node key file can be read by other users (chmod 600 it)"},
    [KITH_ENOTYOURS - KITH_ERRBASE] = {"KITH_ENOTYOURS", "that post is not yours"},
    [KITH_ELOCKED -
        KITH_ERRBASE] = {"KITH_ELOCKED", "no account is unlocked (run: kith unlock NAME)"},
    [KITH_ENOTMEMBER - KITH_ERRBASE] = {"KITH_ENOTMEMBER", "you are not in that group"},
    [KITH_EAMBIGUOUS - KITH_ERRBASE] = {"KITH_EAMBIGUOUS",
                                        "that id is too short: more than one post starts with it"},
    [KITH_EREQUEST - KITH_ERRBASE] = {"KITH_EREQUEST", "malformed request"},
    [KITH_EUNKNOWNCMD - KITH_ERRBASE] = {"KITH_EUNKNOWNCMD", "unknown command"},
    [KITH_EINVITE - KITH_ERRBASE] = {"KITH_EINVITE", "the invite code is not valid"},
    [KITH_ENAME -
        KITH_ERRBASE] = {"KITH_ENAME", "that name is empty, too long or has odd characters"},
    [KITH_ERATELIMIT -
        KITH_ERRBASE] = {"KITH_ERATELIMIT", "too many tries; wait a minute and try again"},
};

/* Names of the errno values Kith meets in practice. strerrorname_np() would
 * cover them all but is GNU-only (hidden under the project's POSIX feature
 * macros, absent from musl and older glibc). */
/* clang-format off */
#define ERRNO_NAME(e) {e, #e}
/* clang-format on */
static const struct {
    int code;
    const char *name;
} errno_names[] = {
    ERRNO_NAME(EPERM),        ERRNO_NAME(ENOENT),        ERRNO_NAME(EINTR),
    ERRNO_NAME(EIO),          ERRNO_NAME(ENXIO),         ERRNO_NAME(E2BIG),
    ERRNO_NAME(EBADF),        ERRNO_NAME(EAGAIN),        ERRNO_NAME(ENOMEM),
    ERRNO_NAME(EACCES),       ERRNO_NAME(EBUSY),         ERRNO_NAME(EEXIST),
    ERRNO_NAME(ENODEV),       ERRNO_NAME(ENOTDIR),       ERRNO_NAME(EISDIR),
    ERRNO_NAME(EINVAL),       ERRNO_NAME(ENFILE),        ERRNO_NAME(EMFILE),
    ERRNO_NAME(EFBIG),        ERRNO_NAME(ENOSPC),        ERRNO_NAME(ESPIPE),
    ERRNO_NAME(EROFS),        ERRNO_NAME(EPIPE),         ERRNO_NAME(ERANGE),
    ERRNO_NAME(ENAMETOOLONG), ERRNO_NAME(ENOSYS),        ERRNO_NAME(ENOTEMPTY),
    ERRNO_NAME(EPROTO),       ERRNO_NAME(EMSGSIZE),      ERRNO_NAME(ENOTSUP),
    ERRNO_NAME(EADDRINUSE),   ERRNO_NAME(EADDRNOTAVAIL), ERRNO_NAME(ENETUNREACH),
    ERRNO_NAME(ECONNABORTED), ERRNO_NAME(ECONNRESET),    ERRNO_NAME(ENOTCONN),
    ERRNO_NAME(ETIMEDOUT),    ERRNO_NAME(ECONNREFUSED),  ERRNO_NAME(EHOSTUNREACH),
    ERRNO_NAME(ECANCELED),    ERRNO_NAME(EDQUOT),        ERRNO_NAME(ENOTTY),
    ERRNO_NAME(EBADMSG),      ERRNO_NAME(EHOSTDOWN),     ERRNO_NAME(ENOBUFS),
    ERRNO_NAME(ENOTSOCK),
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
        for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++) {
            if (errno_names[i].code == -err)
                return errno_names[i].name;
        }
        return "ERRNO";
    }
    return "KITH_EUNKNOWN";
}
