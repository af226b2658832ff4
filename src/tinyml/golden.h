// pio-tinyml golden vectors: the device's int8 outputs must equal, byte for byte, what
// TFLM's reference interpreter computed on the host.
//
// Generated header tinyml/<model>_golden.h (contract):
//   namespace tinyml {
//   struct edge_model_golden {
//     using Model = edge_model;
//     static constexpr int kCount = 4;
//     static constexpr int8_t kInputs[kCount][edge_model::kInputElements] = {...};
//     static constexpr int8_t kExpected[kCount][edge_model::kOutputElements] = {...};
//   };
//   }
// (static const arrays defined in a .cc work the same.)
//
// Each vector starts from the interpreter's state right after begin(): the model is reset
// before every vector, as on the host, where each expected output comes from a freshly
// allocated (or reset) interpreter. A stateful model (variable tensors, e.g. an LSTM's state)
// would otherwise carry one vector's state into the next.
//
// Prints one line in the line protocol of the project's test runner:
//   PASS <name>
//   FAIL <name>: vector k byte j expected x got y
// and returns the number of failing vectors (0 = pass).
#pragma once

#include "tinyml/model.h"

namespace tinyml {

template <class M, class G>
int run_golden(Model<M>& model, const char* name = M::kName) {
  static_assert(M::kInputType == kTfLiteInt8 && M::kOutputType == kTfLiteInt8,
                "golden vectors are int8 in and int8 out");
  if (!model.begin()) {
    log_line("FAIL %s: begin: %s", name, model.error());
    return G::kCount > 0 ? G::kCount : 1;
  }
  int failed = 0;
  int first_k = -1, first_j = -1, first_x = 0, first_y = 0, first_count = 0;
  for (int k = 0; k < G::kCount; ++k) {
    if (!model.reset() || !model.set_input_int8(G::kInputs[k]) || !model.invoke()) {
      log_line("FAIL %s: vector %d: %s", name, k, model.error());
      return G::kCount;
    }
    const int8_t* out = model.template output<int8_t>();
    int mismatches = 0;
    for (size_t j = 0; j < M::kOutputElements; ++j) {
      if (out[j] != G::kExpected[k][j]) {
        if (mismatches == 0 && first_k < 0) {
          first_k = k;
          first_j = static_cast<int>(j);
          first_x = G::kExpected[k][j];
          first_y = out[j];
        }
        ++mismatches;
      }
    }
    if (mismatches != 0) {
      ++failed;
      if (first_k == k) first_count = mismatches;
    }
  }
  if (failed == 0) {
    log_line("PASS %s", name);
  } else {
    log_line("FAIL %s: vector %d byte %d expected %d got %d (%d of %d vectors differ, %d bytes "
             "in vector %d)",
             name, first_k, first_j, first_x, first_y, failed, G::kCount, first_count, first_k);
  }
  return failed;
}

}  // namespace tinyml
