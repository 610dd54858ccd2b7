/*
 * kith-noise-vectors FILE.json: run the Noise test vectors in FILE (the
 * cacophony JSON format, see tests/vectors/README.md) against proto/noise.c.
 * For each vector whose protocol this code supports it plays both sides:
 * every handshake message is written by one side and must equal the
 * vector's ciphertext, then read by the other and must give the payload
 * back; both sides must agree on the handshake hash (and match the vector's,
 * when given); then the transport messages, the same way. A vector marked
 * "fail": true passes only if some step fails.
 *
 * Prints one line per failing vector, a "skipped" line if any protocol is
 * unsupported, and as the last line "N passed, M failed". Exits 0 only if
 * nothing failed and something passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "kith/noise.h"

#define MAX_HEX_FIELD (KITH_NOISE_MSG_MAX + 1)

/* A field decoded from hex. */
struct blob {
    uint8_t *data;
    size_t len;
    int present;
};

struct side {
    struct kith_noise_handshake hs;
    struct kith_noise_cipher send, recv;
    struct blob prologue, s, e, rs;
    uint8_t psks[KITH_NOISE_MAX_PSKS * KITH_NOISE_PSKLEN];
    size_t n_psks;
};

static int hex_field(json_t *obj, const char *key, struct blob *out)
{
    json_t *j = json_object_get(obj, key);
    const char *hex;
    size_t hex_len, bin_len = 0;
    uint8_t *buf;

    memset(out, 0, sizeof(*out));
    if (j == NULL)
        return 0;
    if (!json_is_string(j))
        return -1;
    hex = json_string_value(j);
    hex_len = json_string_length(j);
    if (hex_len % 2 != 0 || hex_len / 2 > MAX_HEX_FIELD)
        return -1;
    buf = malloc(hex_len / 2 + 1);
    if (buf == NULL)
        return -1;
    if (sodium_hex2bin(buf, hex_len / 2 + 1, hex, hex_len, NULL, &bin_len, NULL) != 0 ||
        bin_len != hex_len / 2) {
        free(buf);
        return -1;
    }
    out->data = buf;
    out->len = bin_len;
    out->present = 1;
    return 0;
}

static void blob_free(struct blob *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

static int load_side(json_t *v, const char *prefix, struct side *sd)
{
    char key[64];
    json_t *psks;

    memset(sd, 0, sizeof(*sd));
    snprintf(key, sizeof(key), "%s_prologue", prefix);
    if (hex_field(v, key, &sd->prologue) != 0)
        return -1;
    snprintf(key, sizeof(key), "%s_static", prefix);
    if (hex_field(v, key, &sd->s) != 0 || (sd->s.present && sd->s.len != KITH_NOISE_DHLEN))
        return -1;
    snprintf(key, sizeof(key), "%s_ephemeral", prefix);
    if (hex_field(v, key, &sd->e) != 0 || (sd->e.present && sd->e.len != KITH_NOISE_DHLEN))
        return -1;
    snprintf(key, sizeof(key), "%s_remote_static", prefix);
    if (hex_field(v, key, &sd->rs) != 0 || (sd->rs.present && sd->rs.len != KITH_NOISE_DHLEN))
        return -1;
    snprintf(key, sizeof(key), "%s_psks", prefix);
    psks = json_object_get(v, key);
    if (psks != NULL) {
        size_t i;
        json_t *p;

        if (!json_is_array(psks) || json_array_size(psks) > KITH_NOISE_MAX_PSKS)
            return -1;
        json_array_foreach(psks, i, p)
        {
            const char *hex = json_string_value(p);
            size_t len;

            if (hex == NULL ||
                sodium_hex2bin(sd->psks + i * KITH_NOISE_PSKLEN, KITH_NOISE_PSKLEN, hex,
                               strlen(hex), NULL, &len, NULL) != 0 ||
                len != KITH_NOISE_PSKLEN)
                return -1;
        }
        sd->n_psks = json_array_size(psks);
    }
    return 0;
}

static void free_side(struct side *sd)
{
    blob_free(&sd->prologue);
    blob_free(&sd->s);
    blob_free(&sd->e);
    blob_free(&sd->rs);
    kith_noise_handshake_wipe(&sd->hs);
    kith_noise_cipher_wipe(&sd->send);
    kith_noise_cipher_wipe(&sd->recv);
    sodium_memzero(sd->psks, sizeof(sd->psks));
}

static int init_side(struct side *sd, const char *name, int initiator)
{
    const struct kith_noise_config cfg = {
        .protocol_name = name,
        .initiator = initiator,
        .prologue = sd->prologue.data,
        .prologue_len = sd->prologue.len,
        .s = sd->s.data,
        .e = sd->e.data,
        .rs = sd->rs.data,
        .psks = sd->psks,
        .n_psks = sd->n_psks,
    };

    return kith_noise_handshake_init(&sd->hs, &cfg);
}

/* One message from `from` to `to`: check the ciphertext and the payload. */
static int one_message(struct side *from, struct side *to, int handshake, const struct blob *pt,
                       const struct blob *ct, char *why, size_t why_cap, size_t index)
{
    static uint8_t out[KITH_NOISE_MSG_MAX], back[KITH_NOISE_MSG_MAX];
    size_t out_len = 0, back_len = 0;
    int rc;

    if (handshake)
        rc = kith_noise_handshake_write(&from->hs, pt->data, pt->len, out, sizeof(out), &out_len);
    else
        rc = kith_noise_cipher_encrypt(&from->send, NULL, 0, pt->data, pt->len, out, sizeof(out),
                                       &out_len);
    if (rc != 0) {
        snprintf(why, why_cap, "message %zu: write: %s", index, kith_errname(rc));
        return -1;
    }
    if (out_len != ct->len || memcmp(out, ct->data, ct->len) != 0) {
        snprintf(why, why_cap, "message %zu: ciphertext differs", index);
        return -1;
    }
    if (handshake)
        rc = kith_noise_handshake_read(&to->hs, ct->data, ct->len, back, sizeof(back), &back_len);
    else
        rc = kith_noise_cipher_decrypt(&to->recv, NULL, 0, ct->data, ct->len, back, sizeof(back),
                                       &back_len);
    if (rc != 0) {
        snprintf(why, why_cap, "message %zu: read: %s", index, kith_errname(rc));
        return -1;
    }
    if (back_len != pt->len || (pt->len > 0 && memcmp(back, pt->data, pt->len) != 0)) {
        snprintf(why, why_cap, "message %zu: payload differs", index);
        return -1;
    }
    return 0;
}

static int finish_handshake(struct side *ini, struct side *res, const struct blob *want, char *why,
                            size_t why_cap)
{
    uint8_t h1[KITH_NOISE_HASHLEN], h2[KITH_NOISE_HASHLEN];

    if (kith_noise_handshake_hash(&ini->hs, h1) != 0 || kith_noise_handshake_hash(&res->hs, h2) ||
        kith_noise_handshake_split(&ini->hs, &ini->send, &ini->recv) != 0 ||
        kith_noise_handshake_split(&res->hs, &res->send, &res->recv) != 0) {
        snprintf(why, why_cap, "split failed");
        return -1;
    }
    if (memcmp(h1, h2, sizeof(h1)) != 0) {
        snprintf(why, why_cap, "the two sides' handshake hashes differ");
        return -1;
    }
    if (want->present && (want->len != sizeof(h1) || memcmp(h1, want->data, sizeof(h1)) != 0)) {
        snprintf(why, why_cap, "handshake hash differs from the vector's");
        return -1;
    }
    return 0;
}

/* Returns 0 if every step worked, -1 (with why) if one did not. */
static int play(json_t *v, const char *name, struct side *ini, struct side *res, char *why,
                size_t why_cap)
{
    json_t *msgs = json_object_get(v, "messages"), *m;
    struct blob hash, pt = {0}, ct = {0};
    size_t i;
    int rc = -1;

    if (hex_field(v, "handshake_hash", &hash) != 0 || !json_is_array(msgs)) {
        snprintf(why, why_cap, "malformed vector");
        goto fail;
    }
    if (init_side(ini, name, 1) != 0 || init_side(res, name, 0) != 0) {
        snprintf(why, why_cap, "init failed");
        goto fail;
    }
    json_array_foreach(msgs, i, m)
    {
        int in_handshake = kith_noise_handshake_action(&ini->hs) != KITH_NOISE_DONE;
        int from_initiator;

        blob_free(&pt);
        blob_free(&ct);
        if (hex_field(m, "payload", &pt) != 0 || hex_field(m, "ciphertext", &ct) != 0 ||
            !ct.present) {
            snprintf(why, why_cap, "message %zu: malformed", i);
            goto fail;
        }
        if (in_handshake)
            from_initiator = kith_noise_handshake_action(&ini->hs) == KITH_NOISE_WRITE;
        else
            from_initiator = kith_noise_handshake_one_way(&ini->hs) || i % 2 == 0;
        if (from_initiator ? one_message(ini, res, in_handshake, &pt, &ct, why, why_cap, i)
                           : one_message(res, ini, in_handshake, &pt, &ct, why, why_cap, i))
            goto fail;
        if (in_handshake && kith_noise_handshake_action(&ini->hs) == KITH_NOISE_SPLIT &&
            finish_handshake(ini, res, &hash, why, why_cap) != 0)
            goto fail;
    }
    if (kith_noise_handshake_action(&ini->hs) != KITH_NOISE_DONE) {
        snprintf(why, why_cap, "the vector ends before the handshake does");
        goto fail;
    }
    rc = 0;
fail:
    blob_free(&pt);
    blob_free(&ct);
    blob_free(&hash);
    return rc;
}

int main(int argc, char **argv)
{
    json_error_t jerr;
    json_t *root, *vectors, *v;
    size_t i, passed = 0, failed = 0, skipped = 0;
    char skipped_names[512] = "";

    if (argc != 2) {
        fprintf(stderr, "usage: kith-noise-vectors FILE.json\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 2;
    root = json_load_file(argv[1], 0, &jerr);
    if (root == NULL) {
        fprintf(stderr, "kith-noise-vectors: %s:%d: %s\n", argv[1], jerr.line, jerr.text);
        return 2;
    }
    vectors = json_object_get(root, "vectors");
    if (!json_is_array(vectors)) {
        fprintf(stderr, "kith-noise-vectors: %s: no \"vectors\" array\n", argv[1]);
        json_decref(root);
        return 2;
    }
    json_array_foreach(vectors, i, v)
    {
        static struct side ini, res;
        const char *name = json_string_value(json_object_get(v, "protocol_name"));
        int want_fail = json_is_true(json_object_get(v, "fail"));
        char why[160] = "";
        int ok;

        if (name == NULL || kith_noise_protocol_supported(name) != 0) {
            skipped++;
            if (strlen(skipped_names) + (name ? strlen(name) : 6) + 3 < sizeof(skipped_names))
                snprintf(skipped_names + strlen(skipped_names),
                         sizeof(skipped_names) - strlen(skipped_names), "%s%s",
                         skipped > 1 ? ", " : "", name ? name : "(none)");
            continue;
        }
        if (load_side(v, "init", &ini) != 0 || load_side(v, "resp", &res) != 0) {
            snprintf(why, sizeof(why), "malformed vector");
            ok = 0;
        } else {
            int rc = play(v, name, &ini, &res, why, sizeof(why));

            ok = want_fail ? rc != 0 : rc == 0;
            if (want_fail && rc == 0)
                snprintf(why, sizeof(why), "expected a failure, got none");
        }
        free_side(&ini);
        free_side(&res);
        if (ok) {
            passed++;
        } else {
            failed++;
            printf("FAIL vector %zu %s: %s\n", i, name, why);
        }
    }
    json_decref(root);
    if (skipped > 0)
        printf("skipped %zu (unsupported: %s)\n", skipped, skipped_names);
    printf("%zu passed, %zu failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
