// Benchmark firmware: each model of bench_models.h runs once as a warm-up, then once between
// two calls of bench_mark(), whose address the insn_count QEMU plugin watches. The counts are
// printed by QEMU; this program prints which model each pair of marks belongs to, the
// arena sizes and the output, in the same order.
#include <stdint.h>
#include <string.h>

#include "bench_models.h"  // written by the benchmark: which models, which resolver
#include "tinyml/model.h"

extern "C" __attribute__((noinline, used)) void bench_mark(void) { __asm__ volatile("" ::: "memory"); }

namespace {

template <class M>
int run_model(const char* name) {
  static tinyml::Model<BENCH_RESOLVER<M>> model;
  if (!model.begin()) {
    tinyml::log_line("bench: %s begin failed: %s", name, model.error());
    return 1;
  }
  int8_t* in = model.template input<int8_t>();
  if (in != nullptr && M::kInputType == kTfLiteInt8) {
    memset(in, static_cast<int8_t>(M::kInputZeroPoint), M::kInputElements);
  }
  if (!model.invoke()) {  // warm-up
    tinyml::log_line("bench: %s invoke failed: %s", name, model.error());
    return 1;
  }
  bench_mark();
  model.invoke();
  bench_mark();
  tinyml::log_line("bench: model %s arena_size %u arena_used %u argmax %d", name,
                   static_cast<unsigned>(M::kArenaSize),
                   static_cast<unsigned>(model.arena_used_bytes()), model.argmax());
  return 0;
}

}  // namespace

#define BENCH_RUN(name)                                   \
  if (run_model<tinyml::name>(#name) != 0) return 1;

int main() {
  BENCH_MODELS(BENCH_RUN)
  tinyml::log_line("bench: done");
  return 0;
}
