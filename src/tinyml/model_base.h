// pio-tinyml runtime: what the interpreter's model (model.h) and the ahead-of-time model
// (aot_model.h) share: the started/failed states and error(), the inputs and outputs as the
// generated struct M describes them, argmax() and label(). Derived is the runtime's class: it
// gives input<T>() and output<T>() (nullptr when not started).
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

template <class Derived, class M>
class ModelBase {
 public:
  static constexpr size_t kArenaSize = M::kArenaSize;

  // True once begin() has succeeded.
  bool ready() const { return state_ == State::kStarted; }

  // Why the last call that answers true/false failed; "" when it succeeded.
  const char* error() const { return error_ != nullptr ? error_ : ""; }

  // Copies M::kInputElements floats in, quantized with the model's scale and zero point.
  bool set_input(const float* values) {
    if (!ready()) return fail_not_started();
    if constexpr (M::kInputType == kTfLiteInt8) {
      int8_t* dst = self().template input<int8_t>();
      for (size_t i = 0; i < M::kInputElements; ++i) {
        dst[i] = quantize_int8(values[i], M::kInputScale, M::kInputZeroPoint);
      }
    } else if constexpr (M::kInputType == kTfLiteFloat32) {
      float* dst = self().template input<float>();
      for (size_t i = 0; i < M::kInputElements; ++i) dst[i] = values[i];
    } else {
      return fail("set_input(float*) supports int8 and float32 inputs only");
    }
    return succeed();
  }

  // Copies M::kInputElements already-quantized int8 values in.
  bool set_input_int8(const int8_t* values) {
    if (!ready()) return fail_not_started();
    if (M::kInputType != kTfLiteInt8) return fail("set_input_int8 needs an int8 input tensor");
    int8_t* dst = self().template input<int8_t>();
    for (size_t i = 0; i < M::kInputElements; ++i) dst[i] = values[i];
    return succeed();
  }

  // Output element i as a real number (dequantized for int8 outputs); NAN when not started.
  float output_float(size_t i) {
    if (!ready() || i >= M::kOutputElements) return NAN;
    if constexpr (M::kOutputType == kTfLiteInt8) {
      const int8_t q = self().template output<int8_t>()[i];
      return (static_cast<int32_t>(q) - M::kOutputZeroPoint) * M::kOutputScale;
    } else if constexpr (M::kOutputType == kTfLiteFloat32) {
      return self().template output<float>()[i];
    } else {
      return NAN;
    }
  }

  // Index of the largest output element, -1 when not started.
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

  // Label of output index i, nullptr when the model has no labels.
  const char* label(int i) const {
    if (M::kLabelCount == 0 || i < 0 || i >= M::kLabelCount) return nullptr;
    const char* const* labels = M::kLabels();
    return labels != nullptr ? labels[i] : nullptr;
  }

 protected:
  ModelBase() = default;
  ModelBase(const ModelBase&) = delete;
  ModelBase& operator=(const ModelBase&) = delete;

  // begin() runs once: a later call answers as the first did (begin() is not retried).
  bool begun() const { return state_ != State::kNotBegun; }
  bool repeat_begin() { return ready() ? succeed() : fail(begin_error_); }
  bool started() {
    state_ = State::kStarted;
    return succeed();
  }
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

 private:
  enum class State : uint8_t { kNotBegun, kStarted, kFailed };

  Derived& self() { return static_cast<Derived&>(*this); }

  State state_ = State::kNotBegun;
  const char* begin_error_ = nullptr;
  const char* error_ = "begin() was not called";
};

}  // namespace detail

}  // namespace tinyml
