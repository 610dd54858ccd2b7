/*
 * Tests for node/vault.c: the node key from a key file or a passphrase, the
 * check blob that refuses a wrong one, node seals, index keys and passphrase
 * seals. Every test works in its own mkdtemp directory and removes it.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kith/error.h"
#include "store.h"
#include "vault.h"

static char tmpdir[64];
static char keypath[128];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    strcpy(tmpdir, "/tmp/kith-vault-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    snprintf(keypath, sizeof keypath, "%s/node.key", tmpdir);
}

static void teardown(void)
{
    nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Criterion macros are unknown to cppcheck. */
// cppcheck-suppress unknownMacro
TestSuite(vault, .init = setup, .fini = teardown, .timeout = 60);

static struct store *open_store(void)
{
    struct store *st = NULL;
    cr_assert_eq(store_open(tmpdir, &st), 0);
    return st;
}

static void write_file(const char *path, const uint8_t *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    cr_assert_eq(fchmod(fd, mode), 0); /* past the umask */
    close(fd);
}

static int meta_len(struct store *st, const char *name, size_t *len)
{
    struct store_txn *txn;
    const void *v;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    int rc = store_get(txn, STORE_DB_META, name, strlen(name), &v, len);
    store_txn_end(txn);
    return rc;
}

static const uint8_t AD[] = "group|0123";

/* ---- key file ---- */

Test(vault, keyfile_created_0600_and_reopened)
{
    struct stat sb;
    struct vault *v = NULL;
    uint8_t sealed[64 + VAULT_SEAL_OVERHEAD], plain[64], idx1[32], idx2[32];
    size_t slen, plen, len;

    struct store *st = open_store();
    cr_assert_eq(vault_open_keyfile(st, keypath, &v), 0);
    cr_assert_not_null(v);
    cr_assert_eq(stat(keypath, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);
    cr_assert_eq(sb.st_size, VAULT_KEY_BYTES);
    cr_assert_eq(meta_len(st, "node.check", &len), 0);
    cr_assert_eq(len, 22 + VAULT_SEAL_OVERHEAD);
    cr_assert_eq(meta_len(st, "node.salt", &len), -KITH_ENOTFOUND);
    cr_assert_eq(vault_seal(v, (const uint8_t *)"a group key, 32 bytes long......", 32, AD,
                            sizeof AD, sealed, sizeof sealed, &slen),
                 0);
    cr_assert_eq(slen, 32 + VAULT_SEAL_OVERHEAD);
    vault_index_key(v, "account", "alice", 5, idx1);
    vault_close(v);
    store_close(st);

    st = open_store();
    v = NULL;
    cr_assert_eq(vault_open_keyfile(st, keypath, &v), 0);
    cr_assert_eq(vault_unseal(v, sealed, slen, AD, sizeof AD, plain, sizeof plain, &plen), 0);
    cr_assert_eq(plen, 32);
    cr_assert_eq(memcmp(plain, "a group key, 32 bytes long......", 32), 0);
    vault_index_key(v, "account", "alice", 5, idx2);
    cr_assert_eq(memcmp(idx1, idx2, 32), 0);
    vault_close(v);
    store_close(st);
}

Test(vault, keyfile_readable_by_others_is_refused)
{
    uint8_t key[32];
    struct vault *v = (struct vault *)1;
    randombytes_buf(key, sizeof key);
    struct store *st = open_store();
    write_file(keypath, key, sizeof key, 0640);
    cr_assert_eq(vault_open_keyfile(st, keypath, &v), -KITH_EKEYFILE);
    cr_assert_null(v);
    cr_assert_eq(chmod(keypath, 0604), 0);
    cr_assert_eq(vault_open_keyfile(st, keypath, &v), -KITH_EKEYFILE);
    size_t len;
    cr_assert_eq(meta_len(st, "node.check", &len), -KITH_ENOTFOUND); /* nothing written */
    /* Fixed by the operator: the hand-made key is adopted. */
    cr_assert_eq(chmod(keypath, 0600), 0);
    cr_assert_eq(vault_open_keyfile(st, keypath, &v), 0);
    cr_assert_eq(meta_len(st, "node.check", &len), 0);
    vault_close(v);
    store_close(st);
}

Test(vault, wrong_or_missing_keyfile_is_refused)
{
    uint8_t other[32], sealed[5 + VAULT_SEAL_OVERHEAD], plain[5];
    size_t slen, plen;
    struct vault *v = NULL;
    struct store *st = open_store();
    cr_assert_eq(vault_open_keyfile(st, keypath, &v), 0);
    cr_assert_eq(
        vault_seal(v, (const uint8_t *)"hello", 5, AD, sizeof AD, sealed, sizeof sealed, &slen), 0);
    vault_close(v);
    char saved[160];
    snprintf(saved, sizeof saved, "%s.saved", keypath);
    cr_assert_eq(rename(keypath, saved), 0);

    /* Missing while the store has a key: not silently replaced. */
    cr_assert_eq(vault_open_keyfile(st, keypath, &v), -KITH_ENOKEY);
    cr_assert_eq(access(keypath, F_OK), -1);
    /* Another key. */
    randombytes_buf(other, sizeof other);
    write_file(keypath, other, sizeof other, 0600);
    cr_assert_eq(vault_open_keyfile(st, keypath, &v), -KITH_ENOKEY);
    /* Wrong size. */
    write_file(keypath, other, 31, 0600);
    cr_assert_eq(vault_open_keyfile(st, keypath, &v), -KITH_ENOKEY);
    /* A directory is no key file. */
    cr_assert_eq(unlink(keypath), 0);
    cr_assert_eq(mkdir(keypath, 0700), 0);
    cr_assert_eq(vault_open_keyfile(st, keypath, &v), -KITH_ENOKEY);
    cr_assert_eq(rmdir(keypath), 0);
    /* A passphrase cannot open a key-file store. */
    cr_assert_eq(vault_open_passphrase(st, "pass", 4, &v), -KITH_ENOKEY);

    /* The right key still opens it: the refusals wrote nothing. */
    cr_assert_eq(rename(saved, keypath), 0);
    cr_assert_eq(vault_open_keyfile(st, keypath, &v), 0);
    cr_assert_eq(vault_unseal(v, sealed, slen, AD, sizeof AD, plain, sizeof plain, &plen), 0);
    cr_assert_eq(memcmp(plain, "hello", 5), 0);
    vault_close(v);
    store_close(st);
}

/* ---- passphrase ---- */

Test(vault, passphrase_create_reopen_and_wrong)
{
    static const char pass[] = "correct horse battery staple";
    uint8_t sealed[3 + VAULT_SEAL_OVERHEAD], plain[3], idx1[32], idx2[32];
    size_t slen, plen, len;
    struct vault *v = NULL;
    struct store *st = open_store();
    cr_assert_eq(vault_open_passphrase(st, pass, 0, &v), -KITH_EINVAL);
    cr_assert_eq(vault_open_passphrase(st, pass, strlen(pass), &v), 0);
    cr_assert_eq(meta_len(st, "node.salt", &len), 0);
    cr_assert_eq(len, 16);
    cr_assert_eq(meta_len(st, "node.kdf", &len), 0);
    cr_assert_eq(len, 8);
    cr_assert_eq(vault_seal(v, (const uint8_t *)"abc", 3, NULL, 0, sealed, sizeof sealed, &slen),
                 0);
    vault_index_key(v, "account", "bob", 3, idx1);
    vault_close(v);
    store_close(st);

    st = open_store();
    v = (struct vault *)1;
    cr_assert_eq(vault_open_passphrase(st, "correct horse battery stapl", 27, &v),
                 -KITH_EPASSPHRASE);
    cr_assert_null(v);
    cr_assert_eq(vault_open_passphrase(st, "Correct horse battery staple", strlen(pass), &v),
                 -KITH_EPASSPHRASE);
    cr_assert_eq(vault_open_keyfile(st, keypath, &v), -KITH_ENOKEY);
    cr_assert_eq(access(keypath, F_OK), -1); /* no key file made for a passphrase store */
    cr_assert_eq(vault_open_passphrase(st, pass, strlen(pass), &v), 0);
    cr_assert_eq(vault_unseal(v, sealed, slen, NULL, 0, plain, sizeof plain, &plen), 0);
    cr_assert_eq(plen, 3);
    cr_assert_eq(memcmp(plain, "abc", 3), 0);
    vault_index_key(v, "account", "bob", 3, idx2);
    cr_assert_eq(memcmp(idx1, idx2, 32), 0);
    vault_close(v);
    store_close(st);
}

/* ---- node seals ---- */

static struct vault *keyfile_vault(struct store **st)
{
    struct vault *v = NULL;
    *st = open_store();
    cr_assert_eq(vault_open_keyfile(*st, keypath, &v), 0);
    return v;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

Test(vault, seal_round_trip_and_errors)
{
    struct store *st;
    struct vault *v = keyfile_vault(&st);
    uint8_t msg[100], a[100 + VAULT_SEAL_OVERHEAD], b[100 + VAULT_SEAL_OVERHEAD], out[100];
    size_t alen, blen, olen = 99;
    randombytes_buf(msg, sizeof msg);

    cr_assert_eq(vault_seal(v, msg, sizeof msg, AD, sizeof AD, a, sizeof a - 1, &alen),
                 -KITH_EBUFSIZE);
    cr_assert_eq(vault_seal(v, msg, sizeof msg, AD, sizeof AD, a, sizeof a, &alen), 0);
    cr_assert_eq(vault_seal(v, msg, sizeof msg, AD, sizeof AD, b, sizeof b, &blen), 0);
    cr_assert_eq(alen, sizeof a);
    cr_assert_neq(memcmp(a, b, 24), 0); /* fresh nonce each time */
    cr_assert_eq(vault_unseal(v, a, alen, AD, sizeof AD, out, sizeof out, &olen), 0);
    cr_assert_eq(olen, sizeof msg);
    cr_assert_eq(memcmp(out, msg, sizeof msg), 0);
    cr_assert_eq(vault_unseal(v, b, blen, AD, sizeof AD, out, sizeof out, &olen), 0);
    cr_assert_eq(memcmp(out, msg, sizeof msg), 0);

    /* Wrong AD: the blob was moved to another record. */
    static const uint8_t other_ad[] = "group|0124";
    cr_assert_eq(vault_unseal(v, a, alen, other_ad, sizeof other_ad, out, sizeof out, &olen),
                 -KITH_EDECRYPT);
    cr_assert_eq(olen, 0);
    cr_assert(all_zero(out, sizeof out));
    cr_assert_eq(vault_unseal(v, a, alen, NULL, 0, out, sizeof out, &olen), -KITH_EDECRYPT);
    cr_assert_eq(vault_unseal(v, a, alen, AD, sizeof AD, out, sizeof out - 1, &olen),
                 -KITH_EBUFSIZE);
    cr_assert_eq(vault_unseal(v, a, VAULT_SEAL_OVERHEAD - 1, AD, sizeof AD, out, sizeof out, &olen),
                 -KITH_ETRUNCATED);
    cr_assert_eq(vault_unseal(v, a, alen - 1, AD, sizeof AD, out, sizeof out, &olen),
                 -KITH_EDECRYPT);

    /* Empty plaintext works too. */
    cr_assert_eq(vault_seal(v, NULL, 0, AD, sizeof AD, a, sizeof a, &alen), 0);
    cr_assert_eq(alen, VAULT_SEAL_OVERHEAD);
    cr_assert_eq(vault_unseal(v, a, alen, AD, sizeof AD, out, 0, &olen), 0);
    cr_assert_eq(olen, 0);
    vault_close(v);
    store_close(st);
}

Test(vault, every_flipped_bit_is_refused)
{
    struct store *st;
    struct vault *v = keyfile_vault(&st);
    uint8_t msg[20], s[20 + VAULT_SEAL_OVERHEAD], out[20];
    size_t slen, olen;
    randombytes_buf(msg, sizeof msg);
    cr_assert_eq(vault_seal(v, msg, sizeof msg, AD, sizeof AD, s, sizeof s, &slen), 0);
    for (size_t bit = 0; bit < slen * 8; bit++) {
        s[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        cr_assert_eq(vault_unseal(v, s, slen, AD, sizeof AD, out, sizeof out, &olen),
                     -KITH_EDECRYPT, "bit %zu", bit);
        s[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    cr_assert_eq(vault_unseal(v, s, slen, AD, sizeof AD, out, sizeof out, &olen), 0);
    vault_close(v);
    store_close(st);
}

Test(vault, index_key_stable_and_separated)
{
    struct store *st;
    struct vault *v = keyfile_vault(&st);
    uint8_t a[32], b[32], c[32], d[32], e[32];
    vault_index_key(v, "account", "alice", 5, a);
    vault_index_key(v, "account", "alice", 5, b);
    cr_assert_eq(memcmp(a, b, 32), 0);
    vault_index_key(v, "group", "alice", 5, c);
    cr_assert_neq(memcmp(a, c, 32), 0);
    vault_index_key(v, "account", "alicf", 5, c);
    cr_assert_neq(memcmp(a, c, 32), 0);
    /* The label's end is fixed: ("ab","c") is not ("a","bc"). */
    vault_index_key(v, "ab", "c", 1, d);
    vault_index_key(v, "a", "bc", 2, e);
    cr_assert_neq(memcmp(d, e, 32), 0);
    /* Not a plain hash: another node key gives another index. */
    crypto_generichash(d, 32, (const uint8_t *)"alice", 5, NULL, 0);
    cr_assert_neq(memcmp(a, d, 32), 0);
    vault_close(v);
    store_close(st);

    char dir2[64];
    strcpy(dir2, "/tmp/kith-vault-XXXXXX");
    cr_assert_not_null(mkdtemp(dir2));
    char key2[128];
    snprintf(key2, sizeof key2, "%s/node.key", dir2);
    cr_assert_eq(store_open(dir2, &st), 0);
    cr_assert_eq(vault_open_keyfile(st, key2, &v), 0);
    vault_index_key(v, "account", "alice", 5, e);
    cr_assert_neq(memcmp(a, e, 32), 0);
    vault_close(v);
    store_close(st);
    nftw(dir2, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- passphrase seals ---- */

Test(vault, pw_seal_round_trip_and_refusals)
{
    static const char pass[] = "my own passphrase";
    uint8_t secret[64], s[64 + VAULT_PW_SEAL_OVERHEAD], out[64];
    size_t slen, olen;
    randombytes_buf(secret, sizeof secret);
    cr_assert_eq(vault_pw_seal(pass, strlen(pass), secret, sizeof secret, s, sizeof s - 1, &slen),
                 -KITH_EBUFSIZE);
    cr_assert_eq(vault_pw_seal(pass, strlen(pass), secret, sizeof secret, s, sizeof s, &slen), 0);
    cr_assert_eq(slen, sizeof s);
    cr_assert_eq(s[0], 1);
    cr_assert_eq(s[1] << 24 | s[2] << 16 | s[3] << 8 | s[4], crypto_pwhash_OPSLIMIT_INTERACTIVE);
    cr_assert_eq((size_t)(s[5] << 24 | s[6] << 16 | s[7] << 8 | s[8]) * 1024,
                 crypto_pwhash_MEMLIMIT_INTERACTIVE);

    cr_assert_eq(vault_pw_unseal(pass, strlen(pass), s, slen, out, sizeof out, &olen), 0);
    cr_assert_eq(olen, sizeof secret);
    cr_assert_eq(memcmp(out, secret, sizeof secret), 0);

    cr_assert_eq(
        vault_pw_unseal("my own passphrasf", strlen(pass), s, slen, out, sizeof out, &olen),
        -KITH_EPASSPHRASE);
    cr_assert_eq(olen, 0);
    cr_assert(all_zero(out, sizeof out));
    cr_assert_eq(vault_pw_unseal(pass, strlen(pass), s, slen, out, sizeof out - 1, &olen),
                 -KITH_EBUFSIZE);
    cr_assert_eq(
        vault_pw_unseal(pass, strlen(pass), s, VAULT_PW_SEAL_OVERHEAD - 1, out, sizeof out, &olen),
        -KITH_ETRUNCATED);
    s[0] = 2;
    cr_assert_eq(vault_pw_unseal(pass, strlen(pass), s, slen, out, sizeof out, &olen),
                 -KITH_EVERSION);
    s[0] = 1;

    /* One flipped bit in each field (each try runs Argon2id, so not every
     * bit): limits, salt, nonce, ciphertext, tag. */
    static const size_t bits[] = {4 * 8 + 0,  8 * 8 + 1,  10 * 8 + 3,
                                  30 * 8 + 7, 60 * 8 + 2, (sizeof s - 1) * 8 + 5};
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        size_t bit = bits[i];
        s[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        cr_assert_eq(vault_pw_unseal(pass, strlen(pass), s, slen, out, sizeof out, &olen),
                     -KITH_EPASSPHRASE, "bit %zu", bit);
        s[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* A header asking for absurd limits is refused before Argon2 runs. */
    s[5] = 0x7f;
    cr_assert_eq(vault_pw_unseal(pass, strlen(pass), s, slen, out, sizeof out, &olen),
                 -KITH_EPASSPHRASE);
}
