// pio-tinyml probe: the env's own TFLite Micro library, driven by the build in a CPU emulator.
//
// Linked from the same archive (same -mcpu/-mfpu/-mfloat-abi, kernels and optimization) as
// the firmware, with this file, the generated op registrations (ops.cc) and probe.ld. The
// build calls the tinyml_probe_* functions one at a time and hooks the three marker
// functions below: they must stay real, distinct functions (noinline, different bodies).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <new>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace tinyml_probe {
// Generated (ops.cc): the resolver of model `index`, registered once; nullptr on failure.
const tflite::MicroOpResolver* resolver(int index);
}  // namespace tinyml_probe

extern "C" {

// kind 1: an op starts (tag = its name); kind 2: it ends.
__attribute__((noinline, used)) void tinyml_probe_event(uint32_t kind, const char* tag) {
  __asm volatile("nop" : : "r"(kind), "r"(tag) : "memory");
}

// One line TFLM printed (MicroPrintf), `length` bytes at `text`.
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

static char log_buffer[256];

void DebugLog(const char* format, va_list args) {
  const int n = vsnprintf(log_buffer, sizeof(log_buffer), format, args);
  if (n > 0) {
    const uint32_t length = n < static_cast<int>(sizeof(log_buffer)) ? n : sizeof(log_buffer) - 1;
    tinyml_probe_log(log_buffer, length);
  }
}

int DebugVsnprintf(char* buffer, size_t buf_size, const char* format, va_list vlist) {
  return vsnprintf(buffer, buf_size, format, vlist);
}

}  // extern "C"

namespace {

class Profiler : public tflite::MicroProfilerInterface {
 public:
  uint32_t BeginEvent(const char* tag) override {
    tinyml_probe_event(1, tag);
    return 0;
  }
  void EndEvent(uint32_t) override { tinyml_probe_event(2, nullptr); }
};

Profiler profiler;
alignas(tflite::MicroInterpreter) uint8_t storage[sizeof(tflite::MicroInterpreter)];
tflite::MicroInterpreter* interpreter = nullptr;

TfLiteTensor* tensor(int32_t output, int32_t index) {
  if (interpreter == nullptr) return nullptr;
  return output != 0 ? interpreter->output(index) : interpreter->input(index);
}

}  // namespace

extern "C" {

__attribute__((used)) void tinyml_probe_init(void) { __libc_init_array(); }

// A fresh interpreter over `arena` as the firmware makes it (Model<M>::begin): 0 when
// AllocateTensors succeeded. `flags` bit 16: with the profiler; low bits: the model index.
__attribute__((used)) int32_t tinyml_probe_begin(uint32_t flags, const uint8_t* model_data,
                                                 uint8_t* arena, uint32_t arena_size) {
  if (interpreter != nullptr) {
    interpreter->~MicroInterpreter();
    interpreter = nullptr;
  }
  const tflite::MicroOpResolver* resolver = tinyml_probe::resolver(flags & 0xffff);
  if (resolver == nullptr) return 1;
  const tflite::Model* model = tflite::GetModel(model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) return 3;
  interpreter = new (storage) tflite::MicroInterpreter(
      model, *resolver, arena, arena_size, nullptr, (flags & 0x10000u) != 0 ? &profiler : nullptr);
  return interpreter->AllocateTensors() == kTfLiteOk ? 0 : 2;
}

__attribute__((used)) uint32_t tinyml_probe_arena_used(void) {
  return interpreter != nullptr ? interpreter->arena_used_bytes() : 0;
}

__attribute__((used)) int32_t tinyml_probe_invoke(void) {
  return interpreter != nullptr && interpreter->Invoke() == kTfLiteOk ? 0 : 1;
}

__attribute__((used)) int32_t tinyml_probe_reset(void) {
  return interpreter != nullptr && interpreter->Reset() == kTfLiteOk ? 0 : 1;
}

__attribute__((used)) void* tinyml_probe_tensor_data(int32_t output, int32_t index) {
  TfLiteTensor* t = tensor(output, index);
  return t != nullptr ? t->data.raw : nullptr;
}

__attribute__((used)) uint32_t tinyml_probe_tensor_bytes(int32_t output, int32_t index) {
  TfLiteTensor* t = tensor(output, index);
  return t != nullptr ? static_cast<uint32_t>(t->bytes) : 0;
}

}  // extern "C"
