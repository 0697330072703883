/* Counter-based random numbers: every draw is a pure function of
 * (seed, purpose, a, b, c), so a value never depends on thread, rank or call order. */
#ifndef MTL_RNG_H
#define MTL_RNG_H

#include <stdint.h>

enum { RNG_INIT = 1, RNG_SPLIT = 2, RNG_SHUFFLE = 3, RNG_DROPOUT = 4, RNG_WEIGHTS = 5 };

static inline uint64_t rng_mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rng_u64(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = rng_mix(seed ^ 0x6a09e667f3bcc908ULL);
    h = rng_mix(h ^ purpose);
    h = rng_mix(h ^ a);
    h = rng_mix(h ^ b);
    return rng_mix(h ^ c);
}

/* Uniform in [0, 1) with 24 random bits (exact in float). */
static inline float rng_uniform(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b, uint64_t c)
{
    return (float)(rng_u64(seed, purpose, a, b, c) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform integer in [0, n) without modulo bias worth speaking of (n < 2^32). */
static inline uint32_t rng_below(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b, uint64_t c, uint32_t n)
{
    return (uint32_t)(((rng_u64(seed, purpose, a, b, c) >> 32) * (uint64_t)n) >> 32);
}

#endif
