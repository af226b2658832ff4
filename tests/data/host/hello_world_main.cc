// Host check of the pio-tinyml runtime over TFLM with TFLM's hello_world int8 model (sin x).
#include <math.h>
#include <stdio.h>

#include "tinyml/golden.h"
#include "tinyml/hello_world.h"

namespace {
tinyml::Model<tinyml::hello_world> model;
int failures = 0;

void check(bool ok, const char* name, const char* reason) {
  if (ok) {
    printf("PASS %s\n", name);
  } else {
    printf("FAIL %s: %s\n", name, reason);
    ++failures;
  }
}
}  // namespace

int main() {
  const bool begun = model.begin();
  check(begun, "begin", model.error());
  if (failures) return failures;
  const float xs[] = {0.0f, 0.77f, 1.57f, 2.3f, 3.14f, 5.0f};
  float worst = 0.0f;
  bool quantized_ok = true;
  for (float x : xs) {
    model.set_input(&x);
    const int8_t q = model.input<int8_t>()[0];
    const long want = lroundf(x / tinyml::hello_world::kInputScale) + tinyml::hello_world::kInputZeroPoint;
    quantized_ok = quantized_ok && q == (want < -128 ? -128 : want > 127 ? 127 : want);
    model.invoke();
    const float y = model.output_float(0);
    printf("x=%.2f q=%d y=%.4f out=%d\n", x, q, y, model.output<int8_t>()[0]);
    if (fabsf(y - sinf(x)) > worst) worst = fabsf(y - sinf(x));
  }
  check(quantized_ok, "set_input_quantizes", "input bytes differ from round(x/scale)+zp");
  check(worst <= 0.05f, "sin_within_0.05", "|output - sin(x)| > 0.05");
  check(model.argmax() == 0, "argmax", "single output must be index 0");
  check(model.arena_used_bytes() > 0 &&
            model.arena_used_bytes() <= tinyml::hello_world::kArenaSize,
        "arena_used_bytes", "outside (0, kArenaSize]");
  printf("arena_used_bytes=%u\n", static_cast<unsigned>(model.arena_used_bytes()));
  failures += tinyml::run_golden<tinyml::hello_world, tinyml::hello_world_golden>(model) ? 1 : 0;
  return failures;
}
