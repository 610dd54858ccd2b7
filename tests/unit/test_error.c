/*
 * Tests for proto/error.c: every Kith code has a name and a line of text,
 * errno values are named, and unknown codes are answered safely.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "kith/error.h"

static const struct {
    int code;
    const char *name;
} codes[] = {
    {KITH_EINVAL, "KITH_EINVAL"},         {KITH_ETRUNCATED, "KITH_ETRUNCATED"},
    {KITH_ETOOBIG, "KITH_ETOOBIG"},       {KITH_EVERSION, "KITH_EVERSION"},
    {KITH_EKIND, "KITH_EKIND"},           {KITH_EDECRYPT, "KITH_EDECRYPT"},
    {KITH_ESIGNATURE, "KITH_ESIGNATURE"}, {KITH_ETRAILING, "KITH_ETRAILING"},
    {KITH_EENCODING, "KITH_EENCODING"},   {KITH_EBUFSIZE, "KITH_EBUFSIZE"},
    {KITH_EPARENT, "KITH_EPARENT"},       {KITH_EMSGTYPE, "KITH_EMSGTYPE"},
    {KITH_EPROTOCOL, "KITH_EPROTOCOL"},   {KITH_ENONCE, "KITH_ENONCE"},
    {KITH_EBADKEY, "KITH_EBADKEY"},       {KITH_ENOTFOUND, "KITH_ENOTFOUND"},
    {KITH_EEXIST, "KITH_EEXIST"},         {KITH_EDELETED, "KITH_EDELETED"},
    {KITH_ESTORE, "KITH_ESTORE"},         {KITH_ESCHEMA, "KITH_ESCHEMA"},
    {KITH_ENOSPC, "KITH_ENOSPC"},         {KITH_EPASSPHRASE, "KITH_EPASSPHRASE"},
    {KITH_ENOKEY, "KITH_ENOKEY"},         {KITH_EKEYFILE, "KITH_EKEYFILE"},
    {KITH_ENOTYOURS, "KITH_ENOTYOURS"},   {KITH_ELOCKED, "KITH_ELOCKED"},
    {KITH_ENOTMEMBER, "KITH_ENOTMEMBER"}, {KITH_EAMBIGUOUS, "KITH_EAMBIGUOUS"},
    {KITH_EREQUEST, "KITH_EREQUEST"},     {KITH_EUNKNOWNCMD, "KITH_EUNKNOWNCMD"},
    {KITH_EINVITE, "KITH_EINVITE"},       {KITH_ENAME, "KITH_ENAME"},
    {KITH_ERATELIMIT, "KITH_ERATELIMIT"},
};

#define N_CODES (sizeof(codes) / sizeof(codes[0]))

Test(error, every_code_has_name_and_text)
{
    for (size_t i = 0; i < N_CODES; i++) {
        const char *text = kith_strerror(-codes[i].code);

        cr_assert_str_eq(kith_errname(-codes[i].code), codes[i].name);
        cr_assert_not_null(text);
        cr_assert_gt(strlen(text), 3);
        cr_assert_str_neq(text, "unknown error", "%s has no text", codes[i].name);
        /* Texts are distinct, so a message tells which error happened. */
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(text, kith_strerror(-codes[j].code));
    }
}

Test(error, every_enum_value_is_listed)
{
    /* Every value in each block of the enum appears in the table above. */
    size_t found = 0;

    for (int c = KITH_ERRBASE; c < KITH_ERRMAX; c++) {
        if (strcmp(kith_errname(-c), "KITH_EUNKNOWN") != 0)
            found++;
    }
    cr_assert_eq(found, N_CODES);
}

Test(error, errno_values)
{
    cr_assert_str_eq(kith_errname(-ENOENT), "ENOENT");
    cr_assert_str_eq(kith_strerror(-ENOENT), strerror(ENOENT));
    cr_assert_str_eq(kith_errname(-EACCES), "EACCES");
    cr_assert_str_eq(kith_errname(-ENOSPC), "ENOSPC");
    cr_assert_str_eq(kith_errname(-ECONNREFUSED), "ECONNREFUSED");
    /* What the serial transport reports (node/serial.c). */
    cr_assert_str_eq(kith_errname(-ENOTTY), "ENOTTY");
    cr_assert_str_eq(kith_errname(-EBADMSG), "EBADMSG");
    cr_assert_str_eq(kith_errname(-EHOSTDOWN), "EHOSTDOWN");
    cr_assert_str_eq(kith_errname(-ENOBUFS), "ENOBUFS");
    /* An errno without a listed name still gets a name. */
    cr_assert_str_eq(kith_errname(-EXDEV), "ERRNO");
    cr_assert_str_eq(kith_strerror(-EXDEV), strerror(EXDEV));
}

Test(error, unknown_codes)
{
    cr_assert_str_eq(kith_strerror(-(KITH_ERRBASE + 49)), "unknown error");
    cr_assert_str_eq(kith_errname(-(KITH_ERRBASE + 49)), "KITH_EUNKNOWN");
    cr_assert_str_eq(kith_strerror(-(KITH_ERRBASE + 5000)), "unknown error");
    cr_assert_str_eq(kith_errname(-(KITH_ERRBASE + 5000)), "KITH_EUNKNOWN");
    cr_assert_str_eq(kith_strerror(0), "unknown error");
    cr_assert_str_eq(kith_strerror(KITH_EINVAL), "unknown error");
    cr_assert_str_eq(kith_errname(12), "KITH_EUNKNOWN");
}
