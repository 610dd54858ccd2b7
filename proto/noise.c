/*
 * noise: the Noise Protocol Framework, revision 34, for the suite
 * 25519_ChaChaPoly_BLAKE2b (see kith/noise.h). This module owns the
 * CipherState, SymmetricState and HandshakeState of the spec (sections 5.1 to
 * 5.3), the table of handshake patterns (sections 7 and 9), and the
 * HMAC/HKDF construction over BLAKE2b (section 4.3). Names follow the spec so
 * the two can be read side by side. It allocates nothing and keeps no global
 * state; secrets on the stack are wiped before each function returns.
 */
#include <string.h>

#include <sodium.h>

#include "kith/noise.h"

#define HASHLEN KITH_NOISE_HASHLEN
#define BLOCKLEN KITH_NOISE_BLOCKLEN
#define DHLEN KITH_NOISE_DHLEN
#define TAGLEN KITH_NOISE_TAGLEN

/* ---- CipherState: ChaChaPoly ---- */

/* 96-bit nonce: 32 zero bits, then n as 64-bit little-endian (section 12.3). */
static void chachapoly_nonce(uint64_t n, uint8_t out[crypto_aead_chacha20poly1305_ietf_NPUBBYTES])
{
    memset(out, 0, 4);
    for (int i = 0; i < 8; i++)
        out[4 + i] = (uint8_t)(n >> (8 * i));
}

void kith_noise_cipher_init(struct kith_noise_cipher *cs, const uint8_t key[KITH_NOISE_KEYLEN])
{
    if (key != NULL) {
        memcpy(cs->k, key, KITH_NOISE_KEYLEN);
        cs->has_key = 1;
    } else {
        sodium_memzero(cs->k, sizeof(cs->k));
        cs->has_key = 0;
    }
    cs->n = 0;
}

void kith_noise_cipher_set_nonce(struct kith_noise_cipher *cs, uint64_t n)
{
    cs->n = n;
}

void kith_noise_cipher_wipe(struct kith_noise_cipher *cs)
{
    sodium_memzero(cs, sizeof(*cs));
}

int kith_noise_cipher_encrypt(struct kith_noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                              const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                              size_t *out_len)
{
    uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
    size_t tag = cs->has_key ? TAGLEN : 0;

    if (in_len > KITH_NOISE_MSG_MAX - tag)
        return -KITH_ETOOBIG;
    if (out_cap < in_len + tag)
        return -KITH_EBUFSIZE;
    if (!cs->has_key) {
        if (in_len > 0 && out != in)
            memmove(out, in, in_len);
        *out_len = in_len;
        return 0;
    }
    /* 2^64 - 1 is reserved for rekey; reaching it means the session is over. */
    if (cs->n == UINT64_MAX)
        return -KITH_EINVAL;
    chachapoly_nonce(cs->n, nonce);
    crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in, in_len, ad, ad_len, NULL, nonce,
                                              cs->k);
    cs->n++;
    *out_len = in_len + TAGLEN;
    return 0;
}

int kith_noise_cipher_decrypt(struct kith_noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                              const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                              size_t *out_len)
{
    uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

    if (in_len > KITH_NOISE_MSG_MAX)
        return -KITH_ETOOBIG;
    if (!cs->has_key) {
        if (out_cap < in_len)
            return -KITH_EBUFSIZE;
        if (in_len > 0 && out != in)
            memmove(out, in, in_len);
        *out_len = in_len;
        return 0;
    }
    if (in_len < TAGLEN)
        return -KITH_ETRUNCATED;
    if (out_cap < in_len - TAGLEN)
        return -KITH_EBUFSIZE;
    if (cs->n == UINT64_MAX)
        return -KITH_EINVAL;
    chachapoly_nonce(cs->n, nonce);
    /* libsodium checks the tag before it writes any plaintext. */
    if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, in, in_len, ad, ad_len, nonce,
                                                  cs->k) != 0)
        return -KITH_EDECRYPT;
    cs->n++;
    *out_len = in_len - TAGLEN;
    return 0;
}

/* ---- HMAC and HKDF over BLAKE2b-512 (section 4.3) ---- */

/* HMAC(key, a || b): RFC 2104 with the spec's BLOCKLEN of 128 bytes. */
static void hmac2(const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len,
                  const uint8_t *b, size_t b_len, uint8_t out[HASHLEN])
{
    uint8_t k[BLOCKLEN] = {0};
    uint8_t pad[BLOCKLEN];
    uint8_t inner[HASHLEN];
    crypto_generichash_state st;

    if (key_len > BLOCKLEN)
        crypto_generichash(k, HASHLEN, key, key_len, NULL, 0);
    else if (key_len > 0)
        memcpy(k, key, key_len);

    for (size_t i = 0; i < BLOCKLEN; i++)
        pad[i] = k[i] ^ 0x36;
    crypto_generichash_init(&st, NULL, 0, HASHLEN);
    crypto_generichash_update(&st, pad, BLOCKLEN);
    if (a_len > 0)
        crypto_generichash_update(&st, a, a_len);
    if (b_len > 0)
        crypto_generichash_update(&st, b, b_len);
    crypto_generichash_final(&st, inner, HASHLEN);

    for (size_t i = 0; i < BLOCKLEN; i++)
        pad[i] = k[i] ^ 0x5c;
    crypto_generichash_init(&st, NULL, 0, HASHLEN);
    crypto_generichash_update(&st, pad, BLOCKLEN);
    crypto_generichash_update(&st, inner, HASHLEN);
    crypto_generichash_final(&st, out, HASHLEN);

    sodium_memzero(k, sizeof(k));
    sodium_memzero(pad, sizeof(pad));
    sodium_memzero(inner, sizeof(inner));
    sodium_memzero(&st, sizeof(st));
}

void kith_noise_hmac(const uint8_t *key, size_t key_len, const uint8_t *data, size_t data_len,
                     uint8_t out[KITH_NOISE_HASHLEN])
{
    hmac2(key, key_len, data, data_len, NULL, 0, out);
}

void kith_noise_hkdf(const uint8_t ck[KITH_NOISE_HASHLEN], const uint8_t *ikm, size_t ikm_len,
                     uint8_t out1[KITH_NOISE_HASHLEN], uint8_t out2[KITH_NOISE_HASHLEN],
                     uint8_t out3[KITH_NOISE_HASHLEN])
{
    static const uint8_t one = 1, two = 2, three = 3;
    uint8_t temp[HASHLEN];

    hmac2(ck, HASHLEN, ikm, ikm_len, NULL, 0, temp);
    hmac2(temp, HASHLEN, &one, 1, NULL, 0, out1);
    hmac2(temp, HASHLEN, out1, HASHLEN, &two, 1, out2);
    if (out3 != NULL)
        hmac2(temp, HASHLEN, out2, HASHLEN, &three, 1, out3);
    sodium_memzero(temp, sizeof(temp));
}

/* ---- SymmetricState ---- */

static void initialize_symmetric(struct kith_noise_symmetric *ss, const char *name)
{
    size_t len = strlen(name);

    if (len <= HASHLEN) {
        memset(ss->h, 0, HASHLEN);
        memcpy(ss->h, name, len);
    } else {
        crypto_generichash(ss->h, HASHLEN, (const uint8_t *)name, len, NULL, 0);
    }
    memcpy(ss->ck, ss->h, HASHLEN);
    kith_noise_cipher_init(&ss->cs, NULL);
}

static void mix_hash(struct kith_noise_symmetric *ss, const uint8_t *data, size_t len)
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, HASHLEN);
    crypto_generichash_update(&st, ss->h, HASHLEN);
    if (len > 0)
        crypto_generichash_update(&st, data, len);
    crypto_generichash_final(&st, ss->h, HASHLEN);
}

/* The cipher key is the first 32 bytes of an HKDF output (HASHLEN is 64). */
static void mix_key(struct kith_noise_symmetric *ss, const uint8_t *ikm, size_t len)
{
    uint8_t ck[HASHLEN], k[HASHLEN];

    kith_noise_hkdf(ss->ck, ikm, len, ck, k, NULL);
    memcpy(ss->ck, ck, HASHLEN);
    kith_noise_cipher_init(&ss->cs, k);
    sodium_memzero(ck, sizeof(ck));
    sodium_memzero(k, sizeof(k));
}

static void mix_key_and_hash(struct kith_noise_symmetric *ss, const uint8_t *ikm, size_t len)
{
    uint8_t ck[HASHLEN], th[HASHLEN], k[HASHLEN];

    kith_noise_hkdf(ss->ck, ikm, len, ck, th, k);
    memcpy(ss->ck, ck, HASHLEN);
    mix_hash(ss, th, HASHLEN);
    kith_noise_cipher_init(&ss->cs, k);
    sodium_memzero(ck, sizeof(ck));
    sodium_memzero(th, sizeof(th));
    sodium_memzero(k, sizeof(k));
}

static int encrypt_and_hash(struct kith_noise_symmetric *ss, const uint8_t *in, size_t len,
                            uint8_t *out, size_t cap, size_t *out_len)
{
    int rc = kith_noise_cipher_encrypt(&ss->cs, ss->h, HASHLEN, in, len, out, cap, out_len);

    if (rc == 0)
        mix_hash(ss, out, *out_len);
    return rc;
}

/* in and out must not overlap: the ciphertext is hashed after decryption. */
static int decrypt_and_hash(struct kith_noise_symmetric *ss, const uint8_t *in, size_t len,
                            uint8_t *out, size_t cap, size_t *out_len)
{
    int rc = kith_noise_cipher_decrypt(&ss->cs, ss->h, HASHLEN, in, len, out, cap, out_len);

    if (rc == 0)
        mix_hash(ss, in, len);
    return rc;
}

/* ---- Handshake patterns ---- */

enum token { T_END = 0, T_E, T_S, T_EE, T_ES, T_SE, T_SS, T_PSK };

#define PRE_I_S 1 /* "-> s" pre-message */
#define PRE_R_S 2 /* "<- s" pre-message */

/* Message patterns from the spec, messages split by '|', tokens by ' '.
 * Message i is sent by the initiator when i is even (or the pattern is
 * one-way). */
struct pattern {
    const char *name;
    unsigned pre;
    const char *msgs;
};

static const struct pattern PATTERNS[] = {
    /* one-way (7.4) */
    {"N", PRE_R_S, "e es"},
    {"K", PRE_I_S | PRE_R_S, "e es ss"},
    {"X", PRE_R_S, "e es s ss"},
    /* interactive, fundamental (7.5) */
    {"NN", 0, "e|e ee"},
    {"NK", PRE_R_S, "e es|e ee"},
    {"NX", 0, "e|e ee s es"},
    {"XN", 0, "e|e ee|s se"},
    {"XK", PRE_R_S, "e es|e ee|s se"},
    {"XX", 0, "e|e ee s es|s se"},
    {"KN", PRE_I_S, "e|e ee se"},
    {"KK", PRE_I_S | PRE_R_S, "e es ss|e ee se"},
    {"KX", PRE_I_S, "e|e ee se s es"},
    {"IN", 0, "e s|e ee se"},
    {"IK", PRE_R_S, "e es s ss|e ee se"},
    {"IX", 0, "e s|e ee se s es"},
    /* interactive, deferred (7.6) */
    {"NK1", PRE_R_S, "e|e ee es"},
    {"NX1", 0, "e|e ee s|es"},
    {"X1N", 0, "e|e ee|s|se"},
    {"X1K", PRE_R_S, "e es|e ee|s|se"},
    {"XK1", PRE_R_S, "e|e ee es|s se"},
    {"X1K1", PRE_R_S, "e|e ee es|s|se"},
    {"X1X", 0, "e|e ee s es|s|se"},
    {"XX1", 0, "e|e ee s|es s se"},
    {"X1X1", 0, "e|e ee s|es s|se"},
    {"K1N", PRE_I_S, "e|e ee|se"},
    {"K1K", PRE_I_S | PRE_R_S, "e es|e ee|se"},
    {"KK1", PRE_I_S | PRE_R_S, "e|e ee se es"},
    {"K1K1", PRE_I_S | PRE_R_S, "e|e ee es|se"},
    {"K1X", PRE_I_S, "e|e ee s es|se"},
    {"KX1", PRE_I_S, "e|e ee se s|es"},
    {"K1X1", PRE_I_S, "e|e ee s|se es"},
    {"I1N", 0, "e s|e ee|se"},
    {"I1K", PRE_R_S, "e es s|e ee|se"},
    {"IK1", PRE_R_S, "e s|e ee se es"},
    {"I1K1", PRE_R_S, "e s|e ee es|se"},
    {"I1X", 0, "e s|e ee s es|se"},
    {"IX1", 0, "e s|e ee se s|es"},
    {"I1X1", 0, "e s|e ee s|se es"},
};

#define SUITE "_25519_ChaChaPoly_BLAKE2b"

/* What a protocol name says: the pattern and its psk modifiers. */
struct parsed {
    const struct pattern *pat;
    uint8_t tokens[KITH_NOISE_MAX_MESSAGES][KITH_NOISE_MAX_TOKENS];
    size_t n_messages, n_psks;
};

static size_t token_count(const uint8_t *t)
{
    size_t n = 0;

    while (n < KITH_NOISE_MAX_TOKENS && t[n] != T_END)
        n++;
    return n;
}

static int parse_messages(const char *s, struct parsed *p)
{
    static const struct {
        const char *word;
        enum token tok;
    } words[] = {{"ee", T_EE}, {"es", T_ES}, {"se", T_SE}, {"ss", T_SS}, {"e", T_E}, {"s", T_S}};
    size_t m = 0, t = 0;

    memset(p->tokens, T_END, sizeof(p->tokens));
    while (*s != '\0') {
        size_t len = strcspn(s, " |");
        size_t w = 0;

        while (w < sizeof(words) / sizeof(words[0]) &&
               !(strlen(words[w].word) == len && memcmp(words[w].word, s, len) == 0))
            w++;
        if (w == sizeof(words) / sizeof(words[0]) || t + 1 >= KITH_NOISE_MAX_TOKENS)
            return -KITH_EINVAL;
        p->tokens[m][t++] = (uint8_t)words[w].tok;
        s += len;
        if (*s == '|') {
            if (++m >= KITH_NOISE_MAX_MESSAGES)
                return -KITH_EINVAL;
            t = 0;
        }
        if (*s != '\0')
            s++;
    }
    p->n_messages = m + 1;
    return 0;
}

/* Apply one "pskN" modifier (section 9): psk0 goes first in the first
 * message, pskN last in message N. */
static int add_psk(struct parsed *p, unsigned n)
{
    uint8_t *t;
    size_t count;

    if (n > p->n_messages)
        return -KITH_EINVAL;
    t = p->tokens[n == 0 ? 0 : n - 1];
    count = token_count(t);
    if (count + 1 >= KITH_NOISE_MAX_TOKENS)
        return -KITH_EINVAL;
    if (n == 0) {
        memmove(t + 1, t, count);
        t[0] = T_PSK;
    } else {
        t[count] = T_PSK;
    }
    p->n_psks++;
    return 0;
}

static int parse_name(const char *name, struct parsed *p)
{
    size_t len, mid_len, base_len, suite_len = strlen(SUITE);
    const char *mid, *psk;

    memset(p, 0, sizeof(*p));
    if (name == NULL)
        return -KITH_EINVAL;
    len = strlen(name);
    if (len < 6 + suite_len + 1 || memcmp(name, "Noise_", 6) != 0 ||
        strcmp(name + len - suite_len, SUITE) != 0)
        return -KITH_EINVAL;
    mid = name + 6;
    mid_len = len - 6 - suite_len;
    psk = NULL;
    for (size_t i = 0; i + 3 <= mid_len && psk == NULL; i++)
        if (memcmp(mid + i, "psk", 3) == 0)
            psk = mid + i;
    base_len = psk != NULL ? (size_t)(psk - mid) : mid_len;

    for (size_t i = 0; i < sizeof(PATTERNS) / sizeof(PATTERNS[0]); i++)
        if (strlen(PATTERNS[i].name) == base_len && memcmp(PATTERNS[i].name, mid, base_len) == 0)
            p->pat = &PATTERNS[i];
    if (p->pat == NULL || parse_messages(p->pat->msgs, p) != 0)
        return -KITH_EINVAL;

    /* Modifiers: "psk<digit>" joined by '+'. */
    for (size_t i = base_len; i < mid_len;) {
        if (i + 4 > mid_len || memcmp(mid + i, "psk", 3) != 0 || mid[i + 3] < '0' ||
            mid[i + 3] > '9')
            return -KITH_EINVAL;
        if (add_psk(p, (unsigned)(mid[i + 3] - '0')) != 0)
            return -KITH_EINVAL;
        i += 4;
        if (i < mid_len && (mid[i] != '+' || ++i == mid_len))
            return -KITH_EINVAL;
    }
    return 0;
}

int kith_noise_protocol_supported(const char *protocol_name)
{
    struct parsed p;

    return parse_name(protocol_name, &p);
}

/* ---- HandshakeState ---- */

/* Does the sender of message m, as the initiator or not, use its s? */
static int uses_static(const struct parsed *p, int initiator)
{
    int one_way = p->pat->name[1] == '\0';

    for (size_t m = 0; m < p->n_messages; m++) {
        int mine = one_way ? initiator : ((m % 2 == 0) == (initiator != 0));

        for (const uint8_t *t = p->tokens[m]; *t != T_END; t++) {
            if (*t == T_SS || (mine && *t == T_S))
                return 1;
            if ((*t == T_SE && initiator) || (*t == T_ES && !initiator))
                return 1;
        }
    }
    return (p->pat->pre & (initiator ? PRE_I_S : PRE_R_S)) != 0;
}

static int sends_ephemeral(const struct parsed *p, int initiator)
{
    int one_way = p->pat->name[1] == '\0';

    for (size_t m = 0; m < p->n_messages; m++) {
        int mine = one_way ? initiator : ((m % 2 == 0) == (initiator != 0));

        if (mine && memchr(p->tokens[m], T_E, KITH_NOISE_MAX_TOKENS) != NULL)
            return 1;
    }
    return 0;
}

static int setup(struct kith_noise_handshake *hs, const struct kith_noise_config *cfg)
{
    struct parsed p;
    unsigned remote_pre;

    if (cfg == NULL || parse_name(cfg->protocol_name, &p) != 0)
        return -KITH_EINVAL;
    hs->initiator = cfg->initiator != 0;
    hs->one_way = p.pat->name[1] == '\0';
    hs->psk_mode = p.n_psks > 0;
    memcpy(hs->tokens, p.tokens, sizeof(hs->tokens));
    hs->n_messages = (uint8_t)p.n_messages;
    remote_pre = hs->initiator ? PRE_R_S : PRE_I_S;

    if (cfg->n_psks != p.n_psks || (cfg->n_psks > 0 && cfg->psks == NULL) ||
        (cfg->prologue == NULL && cfg->prologue_len > 0))
        return -KITH_EINVAL;
    if (uses_static(&p, hs->initiator)) {
        if (cfg->s == NULL)
            return -KITH_EINVAL;
        memcpy(hs->s, cfg->s, DHLEN);
        if (crypto_scalarmult_base(hs->s_pub, hs->s) != 0)
            return -KITH_EINVAL;
        hs->has_s = 1;
    }
    if (sends_ephemeral(&p, hs->initiator)) {
        if (cfg->e == NULL)
            return -KITH_EINVAL;
        memcpy(hs->e, cfg->e, DHLEN);
        if (crypto_scalarmult_base(hs->e_pub, hs->e) != 0)
            return -KITH_EINVAL;
        hs->has_e = 1;
    }
    if (p.pat->pre & remote_pre) {
        if (cfg->rs == NULL)
            return -KITH_EINVAL;
        memcpy(hs->rs, cfg->rs, DHLEN);
        hs->has_rs = 1;
    }
    if (p.n_psks > 0)
        memcpy(hs->psks, cfg->psks, p.n_psks * KITH_NOISE_PSKLEN);
    hs->n_psks = (uint8_t)p.n_psks;

    initialize_symmetric(&hs->ss, cfg->protocol_name);
    mix_hash(&hs->ss, cfg->prologue, cfg->prologue_len);
    /* Pre-messages: the initiator's first, then the responder's. */
    if (p.pat->pre & PRE_I_S)
        mix_hash(&hs->ss, hs->initiator ? hs->s_pub : hs->rs, DHLEN);
    if (p.pat->pre & PRE_R_S)
        mix_hash(&hs->ss, hs->initiator ? hs->rs : hs->s_pub, DHLEN);
    hs->phase = 0; /* active: kith_noise_handshake_action works it out */
    return 0;
}

int kith_noise_handshake_init(struct kith_noise_handshake *hs, const struct kith_noise_config *cfg)
{
    int rc;

    sodium_memzero(hs, sizeof(*hs));
    rc = setup(hs, cfg);
    if (rc != 0)
        kith_noise_handshake_wipe(hs);
    return rc;
}

int kith_noise_handshake_init_kith(struct kith_noise_handshake *hs, int initiator,
                                   const uint8_t s[KITH_NOISE_DHLEN],
                                   const uint8_t e[KITH_NOISE_DHLEN])
{
    const struct kith_noise_config cfg = {
        .protocol_name = KITH_NOISE_PROTOCOL,
        .initiator = initiator,
        .prologue = (const uint8_t *)KITH_NOISE_PROLOGUE,
        .prologue_len = KITH_NOISE_PROLOGUE_BYTES,
        .s = s,
        .e = e,
    };

    return kith_noise_handshake_init(hs, &cfg);
}

int kith_noise_handshake_action(const struct kith_noise_handshake *hs)
{
    int theirs;

    if (hs->phase != 0)
        return hs->phase;
    if (hs->next_message >= hs->n_messages)
        return KITH_NOISE_SPLIT;
    theirs = hs->one_way ? 1 : hs->next_message % 2 == 0;
    return theirs == (int)hs->initiator ? KITH_NOISE_WRITE : KITH_NOISE_READ;
}

int kith_noise_handshake_one_way(const struct kith_noise_handshake *hs)
{
    return hs->one_way;
}

/* Bytes of keys and tags in the next message (the payload not counted):
 * works out when the cipher gets a key, as the tokens run. */
static size_t overhead(const struct kith_noise_handshake *hs, int *keyed_at_end)
{
    const uint8_t *t = hs->tokens[hs->next_message];
    int keyed = hs->ss.cs.has_key;
    size_t n = 0;

    for (; t < hs->tokens[hs->next_message] + KITH_NOISE_MAX_TOKENS && *t != T_END; t++) {
        if (*t == T_E) {
            n += DHLEN;
            keyed |= hs->psk_mode;
        } else if (*t == T_S) {
            n += DHLEN + (keyed ? TAGLEN : 0);
        } else {
            keyed = 1;
        }
    }
    *keyed_at_end = keyed;
    return n + (keyed ? TAGLEN : 0);
}

/* The DH tokens and psk: the same on both sides. Returns 0, -KITH_EDECRYPT
 * for an all-zero shared secret (a low-order peer key), -KITH_EINVAL if a
 * key is missing (an inconsistent pattern). */
static int mix_token(struct kith_noise_handshake *hs, uint8_t tok)
{
    const uint8_t *mine, *theirs;
    int have;
    uint8_t dh[DHLEN];
    int rc = 0;

    switch (tok) {
    case T_EE:
        mine = hs->e, theirs = hs->re, have = hs->has_e && hs->has_re;
        break;
    case T_ES:
        if (hs->initiator)
            mine = hs->e, theirs = hs->rs, have = hs->has_e && hs->has_rs;
        else
            mine = hs->s, theirs = hs->re, have = hs->has_s && hs->has_re;
        break;
    case T_SE:
        if (hs->initiator)
            mine = hs->s, theirs = hs->re, have = hs->has_s && hs->has_re;
        else
            mine = hs->e, theirs = hs->rs, have = hs->has_e && hs->has_rs;
        break;
    case T_SS:
        mine = hs->s, theirs = hs->rs, have = hs->has_s && hs->has_rs;
        break;
    case T_PSK:
        if (hs->next_psk >= hs->n_psks)
            return -KITH_EINVAL;
        mix_key_and_hash(&hs->ss, hs->psks[hs->next_psk++], KITH_NOISE_PSKLEN);
        return 0;
    default:
        return -KITH_EINVAL;
    }
    if (!have)
        return -KITH_EINVAL;
    if (crypto_scalarmult(dh, mine, theirs) != 0)
        rc = -KITH_EDECRYPT;
    else
        mix_key(&hs->ss, dh, DHLEN);
    sodium_memzero(dh, sizeof(dh));
    return rc;
}

static int fail(struct kith_noise_handshake *hs, int rc)
{
    hs->phase = KITH_NOISE_FAILED;
    return rc;
}

int kith_noise_handshake_write(struct kith_noise_handshake *hs, const uint8_t *payload,
                               size_t payload_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    const uint8_t *t;
    size_t off = 0, n, need;
    int keyed, rc;

    if (kith_noise_handshake_action(hs) != KITH_NOISE_WRITE || (payload == NULL && payload_len))
        return -KITH_EINVAL;
    if (payload_len > KITH_NOISE_MSG_MAX)
        return -KITH_ETOOBIG;
    need = overhead(hs, &keyed) + payload_len;
    if (need > KITH_NOISE_MSG_MAX)
        return -KITH_ETOOBIG;
    if (need > out_cap)
        return -KITH_EBUFSIZE;

    for (t = hs->tokens[hs->next_message]; *t != T_END; t++) {
        if (*t == T_E) {
            memcpy(out + off, hs->e_pub, DHLEN);
            mix_hash(&hs->ss, hs->e_pub, DHLEN);
            if (hs->psk_mode)
                mix_key(&hs->ss, hs->e_pub, DHLEN);
            off += DHLEN;
        } else if (*t == T_S) {
            rc = encrypt_and_hash(&hs->ss, hs->s_pub, DHLEN, out + off, out_cap - off, &n);
            if (rc != 0)
                return fail(hs, rc);
            off += n;
        } else if ((rc = mix_token(hs, *t)) != 0) {
            return fail(hs, rc);
        }
    }
    rc = encrypt_and_hash(&hs->ss, payload, payload_len, out + off, out_cap - off, &n);
    if (rc != 0)
        return fail(hs, rc);
    *out_len = off + n;
    hs->next_message++;
    return 0;
}

int kith_noise_handshake_read(struct kith_noise_handshake *hs, const uint8_t *msg, size_t msg_len,
                              uint8_t *payload, size_t payload_cap, size_t *payload_len)
{
    const uint8_t *t;
    size_t off = 0, n, min;
    int keyed, rc;

    if (kith_noise_handshake_action(hs) != KITH_NOISE_READ || msg == NULL)
        return -KITH_EINVAL;
    if (msg_len > KITH_NOISE_MSG_MAX)
        return -KITH_ETOOBIG;
    min = overhead(hs, &keyed);
    if (msg_len < min)
        return -KITH_ETRUNCATED;
    if (msg_len - min > payload_cap)
        return -KITH_EBUFSIZE;

    for (t = hs->tokens[hs->next_message]; *t != T_END; t++) {
        if (*t == T_E) {
            memcpy(hs->re, msg + off, DHLEN);
            hs->has_re = 1;
            mix_hash(&hs->ss, hs->re, DHLEN);
            if (hs->psk_mode)
                mix_key(&hs->ss, hs->re, DHLEN);
            off += DHLEN;
        } else if (*t == T_S) {
            size_t len = DHLEN + (hs->ss.cs.has_key ? TAGLEN : 0);

            rc = decrypt_and_hash(&hs->ss, msg + off, len, hs->rs, DHLEN, &n);
            if (rc != 0)
                return fail(hs, rc);
            hs->has_rs = 1;
            off += len;
        } else if ((rc = mix_token(hs, *t)) != 0) {
            return fail(hs, rc);
        }
    }
    rc = decrypt_and_hash(&hs->ss, msg + off, msg_len - off, payload, payload_cap, payload_len);
    if (rc != 0)
        return fail(hs, rc);
    hs->next_message++;
    return 0;
}

int kith_noise_handshake_split(struct kith_noise_handshake *hs, struct kith_noise_cipher *send,
                               struct kith_noise_cipher *recv)
{
    uint8_t k1[HASHLEN], k2[HASHLEN];

    if (kith_noise_handshake_action(hs) != KITH_NOISE_SPLIT)
        return -KITH_EINVAL;
    kith_noise_hkdf(hs->ss.ck, NULL, 0, k1, k2, NULL);
    if (send != NULL)
        kith_noise_cipher_init(send, hs->initiator ? k1 : k2);
    if (recv != NULL)
        kith_noise_cipher_init(recv, hs->initiator ? k2 : k1);
    sodium_memzero(k1, sizeof(k1));
    sodium_memzero(k2, sizeof(k2));
    sodium_memzero(hs->ss.ck, sizeof(hs->ss.ck));
    kith_noise_cipher_wipe(&hs->ss.cs);
    sodium_memzero(hs->s, sizeof(hs->s));
    sodium_memzero(hs->e, sizeof(hs->e));
    sodium_memzero(hs->psks, sizeof(hs->psks));
    hs->has_s = hs->has_e = 0;
    hs->phase = KITH_NOISE_DONE;
    return 0;
}

int kith_noise_handshake_hash(const struct kith_noise_handshake *hs,
                              uint8_t out[KITH_NOISE_HASHLEN])
{
    int a = kith_noise_handshake_action(hs);

    if (a != KITH_NOISE_SPLIT && a != KITH_NOISE_DONE)
        return -KITH_EINVAL;
    memcpy(out, hs->ss.h, HASHLEN);
    return 0;
}

int kith_noise_handshake_remote_static(const struct kith_noise_handshake *hs,
                                       uint8_t out[KITH_NOISE_DHLEN])
{
    if (!hs->has_rs || hs->phase == KITH_NOISE_FAILED)
        return -KITH_EINVAL;
    memcpy(out, hs->rs, DHLEN);
    return 0;
}

void kith_noise_handshake_wipe(struct kith_noise_handshake *hs)
{
    sodium_memzero(hs, sizeof(*hs));
    hs->phase = KITH_NOISE_FAILED;
}
