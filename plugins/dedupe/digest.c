/*
 * digest.c - SHA-256 of a whole buffer: the key of every record is the
 * SHA-256 of ~11 KB of normalised text.  The rounds (SHA extensions when
 * the CPU has them, C otherwise) are fetch's sha256.h, so a key is the
 * same digest fetch would compute and keys already stored in state
 * databases stay valid.  Contract in dedupe.h.
 */
#include "dedupe.h"
#include "sha256.h"

void dedupe_sha256_hex(const void *data, size_t n, char hex[65])
{
    sha256_hex_of(data, n, hex);
}

const char *dedupe_sha256_impl(int i)
{
    if (i < 0) {
        sha256_blocks_fn *f = sha256_blocks();
        for (i = 0; sha256_impls[i].blocks != f; i++)
            ;
    }
    return i < SHA256_NIMPL ? sha256_impls[i].name : NULL;
}

int dedupe_sha256_hex_using(int i, const void *data, size_t n, char hex[65])
{
    if (i < 0 || i >= SHA256_NIMPL || !sha256_runs_here(i))
        return -1;
    sha256_ctx c;
    sha256_init_with(&c, sha256_impls[i].blocks);
    sha256_update(&c, data, n);
    sha256_hex(&c, hex);
    return 0;
}
