// TFLite Micro's int8 reference kernels of LOGISTIC, TANH, QUANTIZE (int8 -> int8) and
// DEQUANTIZE on all 256 int8 inputs, built for the host from the pinned trees: the oracle of
// the ahead-of-time generator's lookup tables (tests/unit/test_aot_elementwise.py). Each
// stdin line "OP scale zero_point output_scale output_zero_point" (scales as C hex floats)
// prints the 256 outputs in input order (DEQUANTIZE: the float32 bit patterns). The Prepare
// lines are logistic_common.cc's and tanh.cc's (int8), quantize_common.cc's and
// dequantize_common.cc's.
#include <cmath>
#include <cstdio>
#include <cstring>
#include "tensorflow/lite/kernels/internal/quantization_util.h"
#include "tensorflow/lite/kernels/internal/reference/dequantize.h"
#include "tensorflow/lite/kernels/internal/reference/integer_ops/logistic.h"
#include "tensorflow/lite/kernels/internal/reference/integer_ops/tanh.h"
#include "tensorflow/lite/kernels/internal/reference/requantize.h"
#include "tensorflow/lite/kernels/internal/reference/quantize.h"
using namespace tflite;
int main() {
  char op[16];
  float scale, out_scale; int zp, out_zp;
  int8_t in[256], out[256]; float fin[256]; float fout[256];
  for (int i = 0; i < 256; ++i) in[i] = static_cast<int8_t>(i - 128);
  while (scanf("%15s %a %d %a %d", op, &scale, &zp, &out_scale, &out_zp) == 5) {
    if (!strcmp(op, "LOGISTIC") || !strcmp(op, "TANH")) {
      const double real = static_cast<double>(scale) * static_cast<double>(1 << 27);
      int left_shift;
      const double q = std::frexp(real, &left_shift);
      const int32_t multiplier = static_cast<int32_t>(TfLiteRound(q * (1ll << 31)));
      const int32_t radius = CalculateInputRadius(4, left_shift, 31);
      if (op[0] == 'L') {
        reference_integer_ops::Logistic(zp, radius, multiplier, left_shift, 256, in, out);
      } else {
        const int32_t dims[1] = {256}; RuntimeShape shape(1, dims);
        reference_integer_ops::Tanh(zp, radius, multiplier, left_shift, shape, in, shape, out);
      }
      for (int i = 0; i < 256; ++i) printf("%d ", out[i]);
    } else if (!strcmp(op, "QUANTIZE")) {
      int32_t multiplier; int shift;
      QuantizeMultiplier(static_cast<double>(scale) / static_cast<double>(out_scale), &multiplier, &shift);
      reference_ops::Requantize(in, 256, multiplier, shift, zp, out_zp, out);
      for (int i = 0; i < 256; ++i) printf("%d ", out[i]);
    } else if (!strcmp(op, "DEQUANTIZE")) {
      DequantizationParams p; p.scale = static_cast<double>(scale); p.zero_point = zp;
      const int32_t dims[1] = {256}; RuntimeShape shape(1, dims);
      reference_ops::Dequantize(p, shape, in, shape, fout);
      for (int i = 0; i < 256; ++i) { uint32_t b; memcpy(&b, &fout[i], 4); printf("%u ", b); }
    }
    printf("\n");
  }
}
