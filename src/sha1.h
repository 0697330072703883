/* SHA-1 (FIPS 180-4), used to identify the canonical C-MAPSS files by git blob hash. */
#ifndef MTL_SHA1_H
#define MTL_SHA1_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[5];
    uint64_t len;
    unsigned char buf[64];
    size_t nbuf;
} sha1_ctx;

void sha1_init(sha1_ctx *c);
void sha1_update(sha1_ctx *c, const void *data, size_t n);
void sha1_final(sha1_ctx *c, unsigned char out[20]);
/* 40 lowercase hex digits + NUL. */
void sha1_hex(const unsigned char d[20], char out[41]);
/* git's blob id: SHA-1 of "blob <n>\0" followed by the bytes. */
void git_blob_sha1(const void *data, size_t n, char out[41]);

#endif
