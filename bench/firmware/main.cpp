// Benchmark firmware: each model of bench_models.h runs once as a warm-up, then once between
// two calls of bench_mark(), whose address the insn_count QEMU plugin watches. The counts are
// printed by QEMU; this program prints which model each pair of marks belongs to, the
// arena sizes, the output (argmax and an FNV-1a hash of the output tensor's bytes) and the
// stack high-water of begin() and both inferences, in the same order.
//
// Stack high-water: before each model, the free RAM between the heap's end and the current
// stack pointer is painted with a pattern; after the inferences, the lowest word no longer
// holding it is the deepest the stack went. The figure is counted from the top of RAM, so it
// includes main's own frame and the startup code's; stack_base is the part that is the harness's
// (the depth at painting, plus the unpainted margin below it): the floor of the figure.
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "bench_models.h"  // written by the benchmark: which models, which resolver
#include "tinyml/model.h"

extern "C" __attribute__((noinline, used)) void bench_mark(void) { __asm__ volatile("" ::: "memory"); }

extern "C" uint32_t __stack_top__;  // linker script: the end of RAM

namespace {

constexpr uint32_t kPaint = 0xC5A5C5A5u;
constexpr uintptr_t kPaintMargin = 64;  // bytes below paint()'s own stack pointer left alone
volatile uint32_t* g_painted = nullptr;
unsigned g_stack_base = 0;

__attribute__((noinline)) void paint_stack() {
  uintptr_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  uintptr_t low = (reinterpret_cast<uintptr_t>(sbrk(0)) + 3u) & ~uintptr_t{3u};
  volatile uint32_t* p = reinterpret_cast<volatile uint32_t*>(low);
  volatile uint32_t* stop = reinterpret_cast<volatile uint32_t*>(sp - kPaintMargin);
  g_painted = p;
  g_stack_base = static_cast<unsigned>(reinterpret_cast<uintptr_t>(&__stack_top__) - sp +
                                       kPaintMargin);
  while (p < stop) *p++ = kPaint;
}

__attribute__((noinline)) unsigned stack_high_water() {
  volatile uint32_t* p = g_painted;
  while (*p == kPaint) ++p;
  return static_cast<unsigned>(reinterpret_cast<uintptr_t>(&__stack_top__) -
                               reinterpret_cast<uintptr_t>(p));
}

uint32_t fnv1a(const uint8_t* bytes, size_t count) {
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < count; ++i) hash = (hash ^ bytes[i]) * 16777619u;
  return hash;
}

template <class M>
int run_model(const char* name) {
  static tinyml::Model<BENCH_RESOLVER<M>> model;
  paint_stack();
  if (!model.begin()) {
    tinyml::log_line("bench: %s begin failed: %s", name, model.error());
    return 1;
  }
  // The input before each inference: as with TFLM's interpreter, an inference may reuse the
  // input's bytes once no node reads them.
  auto set_input = [&model]() {
    int8_t* in = model.template input<int8_t>();
    if (in != nullptr && M::kInputType == kTfLiteInt8) {
      memset(in, static_cast<int8_t>(M::kInputZeroPoint), M::kInputElements);
    }
  };
  set_input();
  if (!model.invoke()) {  // warm-up
    tinyml::log_line("bench: %s invoke failed: %s", name, model.error());
    return 1;
  }
  set_input();
  bench_mark();
  model.invoke();
  bench_mark();
  const unsigned stack = stack_high_water();
  const size_t out_bytes = M::kOutputElements * (M::kOutputType == kTfLiteInt8 ? 1u : 4u);
  const uint32_t hash = fnv1a(model.template output<uint8_t>(), out_bytes);
  tinyml::log_line(
      "bench: model %s arena_size %u arena_used %u argmax %d stack %u stack_base %u "
      "output_fnv %08lx",
      name, static_cast<unsigned>(M::kArenaSize), static_cast<unsigned>(model.arena_used_bytes()),
      model.argmax(), stack, g_stack_base, static_cast<unsigned long>(hash));
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
