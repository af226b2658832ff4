// pio-tinyml probe of the ahead-of-time code (custom_tinyml_runtime = aot), driven by the build
// in a CPU emulator: the env's generated tinyml/<model>_aot.cc and its CMSIS-NN archive, with
// the same calls as probe.cc (the interpreter's probe), so the build runs both alike.
//
// Linked with the generated table of the env's models (aot_models.cc) and probe.ld. The build
// hooks the three marker functions below: they must stay real, distinct functions (noinline,
// different bodies). The arena is the build's: an arena smaller than a model's plan is refused
// as the interpreter refuses one too small for AllocateTensors, so the build's smallest-arena
// search lands on the plan, and the code runs in an arena that ends where the emulator's
// mapping ends (a write past the plan faults).
#include <stddef.h>
#include <stdint.h>

#include "aot_probe.h"

extern "C" {

// kind 1: an op starts (tag = its name); kind 2: it ends. (Unused here: the generated code
// has no profiler hooks; kept for the build, which hooks it by name.)
__attribute__((noinline, used)) void tinyml_probe_event(uint32_t kind, const char* tag) {
  __asm volatile("nop" : : "r"(kind), "r"(tag) : "memory");
}

// One line printed, `length` bytes at `text`.
__attribute__((noinline, used)) void tinyml_probe_log(const char* text, uint32_t length) {
  __asm volatile("nop\n nop" : : "r"(text), "r"(length) : "memory");
}

// abort(), exit() or a failed assertion: the build stops the emulator here.
__attribute__((noinline, noreturn, used)) void tinyml_probe_trap(uint32_t code) {
  for (;;) __asm volatile("bkpt #0x55" : : "r"(code) : "memory");
}

void _exit(int status) { tinyml_probe_trap(0x100u | (static_cast<uint32_t>(status) & 0xffu)); }
void _init(void) {}
void* __dso_handle = nullptr;  // crtbegin.o's, which -nostartfiles leaves out
void _fini(void) {}
void __libc_init_array(void);

}  // extern "C"

namespace {

const tinyml_probe::AotEntry* current = nullptr;
uint8_t* current_arena = nullptr;

}  // namespace

extern "C" {

__attribute__((used)) void tinyml_probe_init(void) { __libc_init_array(); }

// Model `flags & 0xffff` over `arena` as the firmware starts it (AotModel<M>::begin): 0 when
// it starts; 2 when the arena is smaller than the plan; 4 when AotCheck fails; 1 when there is
// no such model. `model_data` and the profiler bit (16) are not used.
__attribute__((used)) int32_t tinyml_probe_begin(uint32_t flags, const uint8_t* model_data,
                                                 uint8_t* arena, uint32_t arena_size) {
  (void)model_data;
  current = nullptr;
  current_arena = nullptr;
  const tinyml_probe::AotEntry* entry = tinyml_probe::aot_model(flags & 0xffff);
  if (entry == nullptr) return 1;
  if (arena_size < entry->arena_size) return 2;
  if (!entry->check()) return 4;
  current = entry;
  current_arena = arena;
  return 0;
}

__attribute__((used)) uint32_t tinyml_probe_arena_used(void) {
  return current != nullptr ? current->arena_size : 0;
}

__attribute__((used)) int32_t tinyml_probe_invoke(void) {
  return current != nullptr && current->invoke(current_arena) ? 0 : 1;
}

// The generated models hold no state between invocations.
__attribute__((used)) int32_t tinyml_probe_reset(void) { return current != nullptr ? 0 : 1; }

__attribute__((used)) void* tinyml_probe_tensor_data(int32_t output, int32_t index) {
  if (current == nullptr || index != 0) return nullptr;
  return current_arena + (output != 0 ? current->output_offset : current->input_offset);
}

__attribute__((used)) uint32_t tinyml_probe_tensor_bytes(int32_t output, int32_t index) {
  if (current == nullptr || index != 0) return 0;
  return output != 0 ? current->output_bytes : current->input_bytes;
}

}  // extern "C"
