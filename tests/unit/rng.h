/* The unit tests' seeded pseudo-random numbers (xorshift32): the random
 * access loops replay the same sequence on every run. */
#ifndef HOSTEL_TEST_RNG_H
#define HOSTEL_TEST_RNG_H

#include <stdint.h>

static inline uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

#endif
