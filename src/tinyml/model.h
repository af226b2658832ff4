// pio-tinyml runtime: one statically sized TFLite Micro interpreter per generated model.
//
//   #include <tinyml/edge_model.h>          // generated: data, shapes, scales, resolver
//   tinyml::Model<tinyml::edge_model> model; // arena sized by the build, no heap
//   if (!model.begin()) print(model.error());
//   model.set_input(values); model.invoke(); model.argmax();
//   model.reset();                           // between inputs of a stateful model
//
// The contract of the generated struct M (see README): kName, kArenaSize, kModelSize,
// kModelData[], kInput{Rank,Dims,Elements,Type,Scale,ZeroPoint,Layout}, the same kOutput*,
// kLabelCount, kLabels(), kOpCount, OpResolver, RegisterOps(OpResolver&).
//
// Started or not is a state of its own, apart from error() (why the last call that answers
// true/false failed, "" when it succeeded):
// - begin() succeeded: ready() is true for good. A failed set_input*() or invoke() leaves its
//   reason in error() and changes nothing else; the next call that succeeds clears it. A later
//   begin() returns true and does nothing.
// - begin() failed: it stays failed, no retry. Everything it depends on (the model bytes,
//   kArenaSize, the ops the build registers) is fixed when the firmware is built, so a retry
//   could only fail the same way: every later begin() returns false at once, with the same
//   error(). Fix the cause (e.g. custom_tinyml_arena_size) and rebuild.
// - not started (before begin() or after it failed), nothing touches the interpreter:
//   set_input*(), invoke() and reset() return false with error() saying why begin() failed
//   ("begin() was not called" before it); input<T>(), output<T>(), input_tensor(),
//   output_tensor() and interpreter() return nullptr, output_float() NAN, argmax() -1 and
//   arena_used_bytes() 0.
#pragma once

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <new>
#include <type_traits>

#include "tensorflow/lite/micro/arena_allocator/single_arena_buffer_allocator.h"
#include "tensorflow/lite/micro/memory_planner/greedy_memory_planner.h"
#include "tensorflow/lite/micro/micro_allocator.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tinyml/aot_model.h"
#include "tinyml/model_base.h"

namespace tinyml {

// Log one formatted line through TFLM's DebugLog (Serial on Arduino, printf elsewhere).
void log_line(const char* format, ...);

namespace detail {

inline size_t element_count(const TfLiteTensor* t) {
  size_t n = 1;
  for (int i = 0; i < t->dims->size; ++i) n *= static_cast<size_t>(t->dims->data[i]);
  return n;
}

template <class T>
constexpr size_t padded_size() {
  return sizeof(T) + alignof(T) - 1;
}

// What MicroInterpreter's constructor takes from the arena, unchecked: after aligning the
// arena's start to 16 bytes, its allocator, the memory planner and the MicroAllocator. TFLM
// uses those allocations without a null check, so with a smaller arena the constructor would
// write through a null pointer; begin() refuses such an arena first.
constexpr size_t kInterpreterArenaMinimum =
    15 + padded_size<tflite::SingleArenaBufferAllocator>() +
    padded_size<tflite::GreedyMemoryPlanner>() + padded_size<tflite::MicroAllocator>();

// The generated struct says kAheadOfTime = true when the build generated the model's code
// (custom_tinyml_runtime = aot): tinyml::Model<M> is then AotModel<M> (aot_model.h).
template <class M, class = void>
struct is_ahead_of_time : std::false_type {};
template <class M>
struct is_ahead_of_time<M, std::void_t<decltype(M::kAheadOfTime)>>
    : std::integral_constant<bool, M::kAheadOfTime> {};

}  // namespace detail

template <class M>
class InterpreterModel : public detail::ModelBase<InterpreterModel<M>, M> {
  using Base = detail::ModelBase<InterpreterModel<M>, M>;
  using Base::fail;
  using Base::fail_begin;
  using Base::fail_not_started;
  using Base::succeed;

 public:
  using Base::ready;

  InterpreterModel() = default;
  ~InterpreterModel() {
    if (interpreter_ != nullptr) interpreter_->~MicroInterpreter();
  }

  // Parses the model, registers its ops, plans the arena. False with error() on failure;
  // once it failed, every later call fails the same way (see the top of this file).
  bool begin() {
    if (this->begun()) return this->repeat_begin();
    model_ = tflite::GetModel(M::kModelData);
    if (model_->version() != TFLITE_SCHEMA_VERSION) {
      return fail_begin("model schema version differs from TFLite Micro's (regenerate the model)");
    }
    if (M::RegisterOps(resolver_) != kTfLiteOk) {
      return fail_begin("registering the model's ops failed (resolver size or duplicate op)");
    }
    if (M::kArenaSize < detail::kInterpreterArenaMinimum) {
      return fail_begin("the arena (kArenaSize) is too small to hold even TFLite Micro's "
                        "allocator");
    }
    // Kept only once it has started. A failed one is left in its storage, not destroyed: after
    // a partial AllocateTensors its node table may be only partly written (its destructor
    // would call kernels' free hooks on it), and it owns nothing outside this object.
    tflite::MicroInterpreter* interpreter = new (interpreter_storage_)
        tflite::MicroInterpreter(model_, resolver_, arena_, M::kArenaSize);
    if (interpreter->AllocateTensors() != kTfLiteOk) {
      return fail_begin("AllocateTensors failed: the arena (kArenaSize) is too small or an op "
                        "rejected its tensors");
    }
    const TfLiteTensor* in = interpreter->input(0);
    const TfLiteTensor* out = interpreter->output(0);
    if (in == nullptr || out == nullptr || in->type != M::kInputType ||
        out->type != M::kOutputType ||
        detail::element_count(in) != M::kInputElements ||
        detail::element_count(out) != M::kOutputElements) {
      return fail_begin("the model's input/output tensors differ from the generated header");
    }
    interpreter_ = interpreter;
    return this->started();
  }

  template <class T>
  T* input() {
    return ready() ? tflite::GetTensorData<T>(interpreter_->input(0)) : nullptr;
  }
  template <class T>
  T* output() {
    return ready() ? tflite::GetTensorData<T>(interpreter_->output(0)) : nullptr;
  }
  TfLiteTensor* input_tensor() { return ready() ? interpreter_->input(0) : nullptr; }
  TfLiteTensor* output_tensor() { return ready() ? interpreter_->output(0) : nullptr; }

  bool invoke() {
    if (!ready()) return fail_not_started();
    if (interpreter_->Invoke() != kTfLiteOk) return fail("Invoke failed (see the log above)");
    return succeed();
  }

  // Back to the state right after begin(), keeping the arena plan (nothing is allocated
  // again): every kernel's reset hook runs and variable tensors (the state of a stateful op
  // such as UNIDIRECTIONAL_SEQUENCE_LSTM) are set to their zero point. Call it between inputs
  // that must not see each other. False when not started.
  bool reset() {
    if (!ready()) return fail_not_started();
    if (interpreter_->Reset() != kTfLiteOk) return fail("Reset failed (see the log above)");
    return succeed();
  }

  // Bytes of the arena the interpreter uses (TFLM's count); 0 when not started.
  size_t arena_used_bytes() const { return ready() ? interpreter_->arena_used_bytes() : 0; }
  // The started interpreter; nullptr when not started.
  tflite::MicroInterpreter* interpreter() { return ready() ? interpreter_ : nullptr; }
  const tflite::Model* model() const { return model_; }

 private:
  alignas(16) uint8_t arena_[M::kArenaSize];
  typename M::OpResolver resolver_;
  alignas(tflite::MicroInterpreter) uint8_t interpreter_storage_[sizeof(tflite::MicroInterpreter)];
  tflite::MicroInterpreter* interpreter_ = nullptr;  // set once begin() has succeeded
  const tflite::Model* model_ = nullptr;
};

// One name for both runtimes: switching is the one option line in platformio.ini.
template <class M, bool = detail::is_ahead_of_time<M>::value>
class Model : public InterpreterModel<M> {};
template <class M>
class Model<M, true> : public AotModel<M> {};

}  // namespace tinyml
