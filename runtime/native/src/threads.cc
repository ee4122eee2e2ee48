// The native backend's thread pool: the one source of parallelism in the addon. OpenBLAS runs with one
// thread (see kernels.cc, init), and the kernels split their work over this pool instead: a matrix
// product into row (or column) blocks, attention into (batch, head) pairs, element-wise loops into
// ranges. Splitting at that level costs one hand-off per kernel where OpenBLAS's own threading pays per
// product (and not at all below its size threshold, which every attention product is under), and it lets
// the element-wise kernels, which OpenBLAS never sees, use every core too.
//
// parallel_for(n, parts, fn, ctx) cuts [0, n) into `parts` fixed ranges (part i is [n*i/parts,
// n*(i+1)/parts)), which the calling thread and the workers claim one at a time until none are left. The
// ranges do not depend on which thread runs them, so a kernel that keeps one partial result per part and
// combines them in order gives the same bits on every run.
//
// Workers spin for a short while after each region (kernels come in quick succession during a training
// step, and a sleeping thread takes tens of microseconds to wake), then sleep on a condition variable.
// A region started from inside another (a kernel calling a kernel) or while another thread of the
// process holds the pool runs serially on the caller.
//
// Compiled for the baseline instruction set, like addon.cc: nothing here needs AVX.
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "kernels.h"

namespace bk {
namespace {

constexpr int kMaxThreads = 64;
// How long an idle worker spins before it sleeps.
constexpr int64_t kSpinNs = 200 * 1000;

struct Region {
  RangeFn fn;
  void* ctx;
  int64_t n;
  int64_t parts;
};

struct Pool {
  pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;  // held by the thread running a region
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;    // guards sleeping and starting workers
  pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
  int wanted = 1;   // threads per region, the caller included
  int started = 0;  // workers running
  Region region{};
  // High 32 bits: the region's number; low 32: how many parts are left to hand out (see run_parts).
  uint64_t ticket = 0;
  int64_t done = 0;      // parts finished in the current region
  int sleepers = 0;      // workers waiting on cv
};

Pool pool;
thread_local bool inside = false;

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

int64_t now_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// Claims and runs parts of the region numbered `gen` until none are left or the region is over. A claim
// is a compare-and-swap on the ticket, which holds the region's number and how many parts are still to
// hand out: a worker that woke late, for a region already finished, can never take a part of the next.
// The region's description is read only after a successful claim, while the region is certainly still
// open (the part just claimed is not done).
void run_parts(uint64_t gen) {
  uint64_t t = __atomic_load_n(&pool.ticket, __ATOMIC_ACQUIRE);
  for (;;) {
    if ((t >> 32) != gen) return;
    const uint64_t left = t & 0xffffffffu;
    if (left == 0) return;
    if (!__atomic_compare_exchange_n(&pool.ticket, &t, t - 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) continue;
    const Region r = pool.region;
    const int64_t i = static_cast<int64_t>(left) - 1;  // parts go out last first
    const int64_t begin = r.n * i / r.parts, end = r.n * (i + 1) / r.parts;
    if (begin < end) r.fn(r.ctx, begin, end, i);
    __atomic_add_fetch(&pool.done, 1, __ATOMIC_ACQ_REL);
    t = __atomic_load_n(&pool.ticket, __ATOMIC_ACQUIRE);
  }
}

void* worker(void*) {
  inside = true;  // kernels a part calls run serially
  uint64_t seen = __atomic_load_n(&pool.ticket, __ATOMIC_ACQUIRE) >> 32;
  for (;;) {
    uint64_t gen = __atomic_load_n(&pool.ticket, __ATOMIC_ACQUIRE) >> 32;
    if (gen == seen) {
      const int64_t until = now_ns() + kSpinNs;
      for (int k = 0; gen == seen; ++k) {
        relax();
        gen = __atomic_load_n(&pool.ticket, __ATOMIC_ACQUIRE) >> 32;
        if ((k & 63) == 63 && now_ns() > until) break;
      }
    }
    if (gen == seen) {
      pthread_mutex_lock(&pool.mu);
      __atomic_add_fetch(&pool.sleepers, 1, __ATOMIC_SEQ_CST);
      while ((gen = __atomic_load_n(&pool.ticket, __ATOMIC_SEQ_CST) >> 32) == seen) pthread_cond_wait(&pool.cv, &pool.mu);
      __atomic_sub_fetch(&pool.sleepers, 1, __ATOMIC_SEQ_CST);
      pthread_mutex_unlock(&pool.mu);
    }
    seen = gen;
    run_parts(gen);
  }
  return nullptr;
}

// Starts workers up to wanted - 1 (never stops any: a smaller `wanted` only hands them less work).
void start_workers() {
  pthread_mutex_lock(&pool.mu);
  while (pool.started < pool.wanted - 1) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const bool ok = pthread_create(&t, &attr, worker, nullptr) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) {
      pool.wanted = pool.started + 1;  // run with what could be started
      break;
    }
    ++pool.started;
  }
  pthread_mutex_unlock(&pool.mu);
}

// Allocations left before the injected failure (fail_allocation_after); 0: none armed.
int64_t allocations_until_failure = 0;
bool out_of_memory = false;

int env_threads(const char* name) {
  const char* v = getenv(name);
  if (v == nullptr) return 0;
  char* end = nullptr;
  const long n = strtol(v, &end, 10);
  return end != v && n > 0 && n <= kMaxThreads ? static_cast<int>(n) : 0;
}

}  // namespace

int default_thread_count() {
  static const char* const names[] = {"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"};
  for (const char* name : names) {
    const int n = env_threads(name);
    if (n > 0) return n;
  }
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n < kMaxThreads ? n : kMaxThreads;
  }
#endif
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (n < kMaxThreads ? static_cast<int>(n) : kMaxThreads);
}

void* checked_malloc(size_t bytes) {
  if (__atomic_load_n(&allocations_until_failure, __ATOMIC_RELAXED) > 0 &&
      __atomic_sub_fetch(&allocations_until_failure, 1, __ATOMIC_ACQ_REL) == 0) {
    __atomic_store_n(&out_of_memory, true, __ATOMIC_RELEASE);
    return nullptr;
  }
  void* p = malloc(bytes > 0 ? bytes : 1);
  if (p == nullptr) __atomic_store_n(&out_of_memory, true, __ATOMIC_RELEASE);
  return p;
}

bool take_out_of_memory() { return __atomic_exchange_n(&out_of_memory, false, __ATOMIC_ACQ_REL); }

void fail_allocation_after(int64_t n) { __atomic_store_n(&allocations_until_failure, n > 0 ? n : 0, __ATOMIC_RELEASE); }

int pool_threads() { return pool.wanted; }

// Every build's BLAS runs single-threaded under the pool, so the kernels' thread count is the pool's.
void set_blas_threads(int n) {
  if (n > 0) set_pool_threads(n);
}

int get_blas_threads() { return pool_threads(); }

void set_pool_threads(int n) {
  if (n < 1) n = 1;
  if (n > kMaxThreads) n = kMaxThreads;
  pthread_mutex_lock(&pool.busy);
  pool.wanted = n;
  pthread_mutex_unlock(&pool.busy);
}

void parallel_for(int64_t n, int64_t parts, RangeFn fn, void* ctx) {
  if (n <= 0) return;
  if (parts > n) parts = n;
  if (parts < 1) parts = 1;
  if (parts > 0x7fffffffLL) parts = 0x7fffffffLL;
  if (parts == 1 || pool.wanted <= 1 || inside || pthread_mutex_trylock(&pool.busy) != 0) {
    // The same parts, one after the other: the same results as in parallel.
    for (int64_t i = 0; i < parts; ++i) {
      const int64_t begin = n * i / parts, end = n * (i + 1) / parts;
      if (begin < end) fn(ctx, begin, end, i);
    }
    return;
  }
  if (pool.started < pool.wanted - 1) start_workers();
  inside = true;
  pool.region = Region{fn, ctx, n, parts};
  pool.done = 0;
  const uint64_t gen = ((__atomic_load_n(&pool.ticket, __ATOMIC_RELAXED) >> 32) + 1) & 0xffffffffu;
  __atomic_store_n(&pool.ticket, (gen << 32) | static_cast<uint64_t>(parts), __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&pool.sleepers, __ATOMIC_SEQ_CST) > 0) {
    pthread_mutex_lock(&pool.mu);
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
  }
  run_parts(gen);
  while (__atomic_load_n(&pool.done, __ATOMIC_ACQUIRE) < parts) relax();
  inside = false;
  pthread_mutex_unlock(&pool.busy);
}

}  // namespace bk
