// Helpers over the thread pool (threads.cc) that every kernel file uses: run a lambda over a range in
// parts, and decide how many parts a piece of work deserves.
#pragma once

#include <cstdint>

#include "kernels.h"

namespace bk {

// Runs f(begin, end, part) over [0, n) in `parts` parts on the thread pool (see parallel_for).
template <typename F>
void par(int64_t n, int64_t parts, const F& f) {
  struct Call {
    static void run(void* c, int64_t b, int64_t e, int64_t p) { (*static_cast<const F*>(c))(b, e, p); }
  };
  parallel_for(n, parts, &Call::run, const_cast<F*>(&f));
}

// How many parts to cut `work` units into so that each has at least `minPerPart`: 1 up to the pool size.
inline int64_t parts_for(int64_t work, int64_t minPerPart) {
  const int64_t t = pool_threads();
  if (t <= 1 || work < 2 * minPerPart) return 1;
  const int64_t p = work / minPerPart;
  return p < t ? p : t;
}

// Element-wise loops below this many elements run on one thread.
inline constexpr int64_t kElementsPerPart = 32 * 1024;

}  // namespace bk
