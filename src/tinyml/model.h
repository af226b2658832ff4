// pio-tinyml runtime: one statically sized TFLite Micro interpreter per generated model.
//
//   #include <tinyml/edge_model.h>          // generated: data, shapes, scales, resolver
//   tinyml::Model<tinyml::edge_model> model; // arena sized by the build, no heap
//   if (!model.begin()) print(model.error());
//   model.set_input(values); model.invoke(); model.argmax();
//
// The contract of the generated struct M (see README): kName, kArenaSize, kModelSize,
// kModelData[], kInput{Rank,Dims,Elements,Type,Scale,ZeroPoint,Layout}, the same kOutput*,
// kLabelCount, kLabels(), kOpCount, OpResolver, RegisterOps(OpResolver&).
#pragma once

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <new>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace tinyml {

// Log one formatted line through TFLM's DebugLog (Serial on Arduino, printf elsewhere).
void log_line(const char* format, ...);

namespace detail {

inline int8_t quantize_int8(float value, float scale, int32_t zero_point) {
  const float scaled = value / scale;
  long q = lroundf(scaled) + zero_point;
  if (q < -128) q = -128;
  if (q > 127) q = 127;
  return static_cast<int8_t>(q);
}

inline size_t element_count(const TfLiteTensor* t) {
  size_t n = 1;
  for (int i = 0; i < t->dims->size; ++i) n *= static_cast<size_t>(t->dims->data[i]);
  return n;
}

}  // namespace detail

template <class M>
class Model {
 public:
  static constexpr size_t kArenaSize = M::kArenaSize;

  Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model() {
    if (interpreter_ != nullptr) interpreter_->~MicroInterpreter();
  }

  // Parses the model, registers its ops, plans the arena. False with error() on failure.
  bool begin() {
    if (interpreter_ != nullptr) return true;
    model_ = tflite::GetModel(M::kModelData);
    if (model_->version() != TFLITE_SCHEMA_VERSION) {
      return fail("model schema version differs from TFLite Micro's (regenerate the model)");
    }
    if (M::RegisterOps(resolver_) != kTfLiteOk) {
      return fail("registering the model's ops failed (resolver size or duplicate op)");
    }
    interpreter_ = new (interpreter_storage_)
        tflite::MicroInterpreter(model_, resolver_, arena_, M::kArenaSize);
    if (interpreter_->AllocateTensors() != kTfLiteOk) {
      return fail("AllocateTensors failed: the arena (kArenaSize) is too small or an op "
                  "rejected its tensors");
    }
    const TfLiteTensor* in = interpreter_->input(0);
    const TfLiteTensor* out = interpreter_->output(0);
    if (in == nullptr || out == nullptr || in->type != M::kInputType ||
        out->type != M::kOutputType ||
        detail::element_count(in) != M::kInputElements ||
        detail::element_count(out) != M::kOutputElements) {
      return fail("the model's input/output tensors differ from the generated header");
    }
    error_ = nullptr;
    return true;
  }

  bool ready() const { return interpreter_ != nullptr && error_ == nullptr; }

  // Why the last call failed; "" when nothing failed.
  const char* error() const { return error_ != nullptr ? error_ : ""; }

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

  // Copies M::kInputElements floats in, quantized with the model's scale and zero point.
  bool set_input(const float* values) {
    if (!ready()) return fail_if_not_begun();
    if constexpr (M::kInputType == kTfLiteInt8) {
      int8_t* dst = input<int8_t>();
      for (size_t i = 0; i < M::kInputElements; ++i) {
        dst[i] = detail::quantize_int8(values[i], M::kInputScale, M::kInputZeroPoint);
      }
    } else if constexpr (M::kInputType == kTfLiteFloat32) {
      float* dst = input<float>();
      for (size_t i = 0; i < M::kInputElements; ++i) dst[i] = values[i];
    } else {
      return fail("set_input(float*) supports int8 and float32 inputs only");
    }
    return true;
  }

  // Copies M::kInputElements already-quantized int8 values in.
  bool set_input_int8(const int8_t* values) {
    if (!ready()) return fail_if_not_begun();
    if (M::kInputType != kTfLiteInt8) return fail("set_input_int8 needs an int8 input tensor");
    int8_t* dst = input<int8_t>();
    for (size_t i = 0; i < M::kInputElements; ++i) dst[i] = values[i];
    return true;
  }

  bool invoke() {
    if (!ready()) return fail_if_not_begun();
    if (interpreter_->Invoke() != kTfLiteOk) return fail("Invoke failed (see the log above)");
    return true;
  }

  // Output element i as a real number (dequantized for int8 outputs).
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

  // Index of the largest output element, -1 before a successful begin().
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

  size_t arena_used_bytes() const {
    return interpreter_ != nullptr ? interpreter_->arena_used_bytes() : 0;
  }
  tflite::MicroInterpreter* interpreter() { return interpreter_; }
  const tflite::Model* model() const { return model_; }

 private:
  bool fail(const char* reason) {
    error_ = reason;
    return false;
  }
  bool fail_if_not_begun() {
    if (error_ == nullptr) error_ = "begin() failed";
    return false;
  }

  alignas(16) uint8_t arena_[M::kArenaSize];
  typename M::OpResolver resolver_;
  alignas(tflite::MicroInterpreter) uint8_t interpreter_storage_[sizeof(tflite::MicroInterpreter)];
  tflite::MicroInterpreter* interpreter_ = nullptr;
  const tflite::Model* model_ = nullptr;
  const char* error_ = "begin() was not called";
};

}  // namespace tinyml
