// Shared helpers of the libFuzzer targets (tests/fuzz/).
#pragma once

#include <cstdio>
#include <cstdlib>

// An invariant of the core; a violation aborts so libFuzzer records the input.
#define SD_CHECK(cond)                                                                              \
    do {                                                                                            \
        if (!(cond)) {                                                                              \
            std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond);    \
            std::abort();                                                                           \
        }                                                                                           \
    } while (0)
