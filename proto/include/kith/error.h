/*
 * Kith error codes. Every Kith function returns 0 on success or a negative
 * code: -errno for system errors, or one of the -KITH_E* codes below, which
 * live in a reserved range far from any errno value (as LMDB's MDB_* codes
 * do). kith_strerror() turns either kind into one short plain-English line.
 *
 * Add new codes at the end of their block; never renumber (codes cross the
 * control socket as numbers).
 */
#ifndef KITH_ERROR_H
#define KITH_ERROR_H

#define KITH_ERRBASE 31000

enum kith_error {
    /* 31000-31049: formats and crypto (proto/) */
    KITH_EINVAL = KITH_ERRBASE, /* an argument is out of range */
    KITH_ETRUNCATED,            /* input ends before the format says it should */
    KITH_ETOOBIG,               /* a field or the whole input is over its limit */
    KITH_EVERSION,              /* unknown format version */
    KITH_EKIND,                 /* unknown post kind */
    KITH_EDECRYPT,              /* ciphertext does not open with this key */
    KITH_ESIGNATURE,            /* signature does not verify */
    KITH_ETRAILING,             /* bytes left over after a complete item */
    KITH_EENCODING,             /* a field is not canonical (bad UTF-8, bad flag, padding) */
    KITH_EBUFSIZE,              /* the caller's output buffer is too small */
    KITH_EPARENT,               /* kind and parent disagree (reply without parent...) */
    KITH_EMSGTYPE,              /* unknown message type */
    KITH_EPROTOCOL,             /* a message out of order, or one the session did not expect */
    KITH_ENONCE,                /* a cipher's nonce counter is used up */
    KITH_EBADKEY,               /* a peer's public key is invalid (low order) */

    /* 31050-31099: storage and node state (node/) */
    KITH_ENOTFOUND = KITH_ERRBASE + 50, /* no such post, group or account */
    KITH_EEXIST,                        /* already exists */
    KITH_EDELETED,                      /* the post was deleted by its author */
    KITH_ESTORE,                        /* the store failed in a way errno cannot say */
    KITH_ESCHEMA,                       /* the store was written by a newer Kith */
    KITH_ENOSPC,                        /* the disk is full; nothing was changed */
    KITH_EPASSPHRASE,                   /* wrong passphrase */
    KITH_ENOKEY,                        /* the node key is missing or unreadable */
    KITH_EKEYFILE,                      /* the node key file is readable by others */

    /* 31100-31149: service and control socket */
    KITH_ENOTYOURS = KITH_ERRBASE + 100, /* the post belongs to someone else */
    KITH_ELOCKED,                        /* no account is unlocked for this request */
    KITH_ENOTMEMBER,                     /* the account is not in that group */
    KITH_EAMBIGUOUS,                     /* an id prefix matches more than one post */
    KITH_EREQUEST,                       /* the request is malformed */
    KITH_EUNKNOWNCMD,                    /* the request names an unknown command */
    KITH_EINVITE,                        /* the invite code is malformed or damaged */
    KITH_ENAME,                          /* a name is empty, too long or has control characters */
    KITH_ERATELIMIT,                     /* too many attempts; try again later */

    KITH_ERRMAX
};

/* A short plain-English line for err (negative, as returned). Never NULL; the
 * string is static. Unknown codes give "unknown error". */
const char *kith_strerror(int err);

/* The symbolic name ("KITH_EDECRYPT", "ENOENT") for err, for JSON and logs.
 * Never NULL; the string is static. */
const char *kith_errname(int err);

#endif
