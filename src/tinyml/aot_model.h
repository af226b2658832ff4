// pio-tinyml ahead-of-time runtime (custom_tinyml_runtime = aot): the same API as the
// interpreter's tinyml::Model (see model.h), over the generated tinyml/<model>_aot.cc, which
// calls CMSIS-NN node by node with parameters computed at build time. No flatbuffer is read,
// no op is registered, nothing is allocated: the arena below holds every tensor at the
// offset the build planned, kArenaSize is the plan's peak.
//
// tinyml::Model<M> is this class when the generated struct M says kAheadOfTime. Besides the
// interpreter's contract, M has kAotArenaSize, kAotInputOffset, kAotOutputOffset,
// AotCheck() (the scratch buffers fit what this build's CMSIS-NN asks for) and
// AotInvoke(uint8_t* arena). The states are the interpreter's: begin() once, a failed begin()
// stays failed.
#pragma once

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "tensorflow/lite/core/c/c_api_types.h"

namespace tinyml {

namespace detail {

inline int8_t quantize_int8(float value, float scale, int32_t zero_point) {
  const float scaled = value / scale;
  long q = lroundf(scaled) + zero_point;
  if (q < -128) q = -128;
  if (q > 127) q = 127;
  return static_cast<int8_t>(q);
}

}  // namespace detail

template <class M>
class AotModel {
 public:
  static constexpr size_t kArenaSize = M::kArenaSize;

  AotModel() = default;
  AotModel(const AotModel&) = delete;
  AotModel& operator=(const AotModel&) = delete;

  // Checks the arena and the scratch buffers against the build's plan.
  bool begin() {
    if (state_ == State::kStarted) return succeed();
    if (state_ == State::kFailed) return fail(begin_error_);
    if (M::kArenaSize < M::kAotArenaSize) {
      return fail_begin("the arena (kArenaSize) is smaller than the build's arena plan");
    }
    if (!M::AotCheck()) {
      return fail_begin("CMSIS-NN asks for a larger scratch buffer than the build planned");
    }
    state_ = State::kStarted;
    return succeed();
  }

  bool ready() const { return state_ == State::kStarted; }
  const char* error() const { return error_ != nullptr ? error_ : ""; }

  template <class T>
  T* input() {
    return ready() ? reinterpret_cast<T*>(arena_ + M::kAotInputOffset) : nullptr;
  }
  template <class T>
  T* output() {
    return ready() ? reinterpret_cast<T*>(arena_ + M::kAotOutputOffset) : nullptr;
  }

  bool set_input(const float* values) {
    if (!ready()) return fail_not_started();
    if constexpr (M::kInputType == kTfLiteInt8) {
      int8_t* dst = input<int8_t>();
      for (size_t i = 0; i < M::kInputElements; ++i) {
        dst[i] = detail::quantize_int8(values[i], M::kInputScale, M::kInputZeroPoint);
      }
      return succeed();
    } else if constexpr (M::kInputType == kTfLiteFloat32) {
      float* dst = input<float>();
      for (size_t i = 0; i < M::kInputElements; ++i) dst[i] = values[i];
      return succeed();
    } else {
      return fail("set_input(float*) supports int8 and float32 inputs only");
    }
  }

  bool set_input_int8(const int8_t* values) {
    if (!ready()) return fail_not_started();
    if (M::kInputType != kTfLiteInt8) return fail("set_input_int8 needs an int8 input tensor");
    int8_t* dst = input<int8_t>();
    for (size_t i = 0; i < M::kInputElements; ++i) dst[i] = values[i];
    return succeed();
  }

  bool invoke() {
    if (!ready()) return fail_not_started();
    if (!M::AotInvoke(arena_)) return fail("a CMSIS-NN function returned an error");
    return succeed();
  }

  // The generated models hold no state between invocations: nothing to reset.
  bool reset() { return ready() ? succeed() : fail_not_started(); }

  float output_float(size_t i) {
    if (!ready() || i >= M::kOutputElements) return NAN;
    if constexpr (M::kOutputType == kTfLiteInt8) {
      return (static_cast<int32_t>(output<int8_t>()[i]) - M::kOutputZeroPoint) * M::kOutputScale;
    } else if constexpr (M::kOutputType == kTfLiteFloat32) {
      return output<float>()[i];
    } else {
      return NAN;
    }
  }

  int argmax() {
    if (!ready()) return -1;
    int best = 0;
    float best_value = output_float(0);
    for (size_t i = 1; i < M::kOutputElements; ++i) {
      const float v = output_float(i);
      if (v > best_value) {
        best_value = v;
        best = static_cast<int>(i);
      }
    }
    return best;
  }

  const char* label(int i) const {
    if (M::kLabelCount == 0 || i < 0 || i >= M::kLabelCount) return nullptr;
    const char* const* labels = M::kLabels();
    return labels != nullptr ? labels[i] : nullptr;
  }

  // The plan's peak: every byte of it is used by some node; 0 when not started.
  size_t arena_used_bytes() const { return ready() ? M::kAotArenaSize : 0; }

 private:
  enum class State : uint8_t { kNotBegun, kStarted, kFailed };

  bool succeed() {
    error_ = nullptr;
    return true;
  }
  bool fail(const char* reason) {
    error_ = reason;
    return false;
  }
  bool fail_begin(const char* reason) {
    state_ = State::kFailed;
    begin_error_ = reason;
    return fail(reason);
  }
  bool fail_not_started() {
    return fail(state_ == State::kFailed ? begin_error_ : "begin() was not called");
  }

  alignas(16) uint8_t arena_[M::kArenaSize];
  State state_ = State::kNotBegun;
  const char* begin_error_ = nullptr;
  const char* error_ = "begin() was not called";
};

}  // namespace tinyml
