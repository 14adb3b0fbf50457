// FUZZ_CHECK: an invariant of a fuzz target (e.g. "encode(decode(x)) decodes to the same
// value"). A broken one aborts, which both libFuzzer and the corpus replay report as a crash,
// with the failed condition and its place on stderr.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
