// sin(x) from an int8 MLP that started as an .onnx file: the plugin converted it at
// build time, sized the arena and generated the op resolver (tinyml/sine.h).
#include <math.h>
#include <stdio.h>

#include "tinyml/model.h"
#include "tinyml/sine.h"

#ifdef ARDUINO
#include <Arduino.h>
#define PRINT(...) Serial.printf(__VA_ARGS__)
#else
#define PRINT(...) printf(__VA_ARGS__)
#endif

static tinyml::Model<tinyml::sine> model;

static int run() {
  if (!model.begin()) {
    PRINT("begin failed: %s\n", model.error());
    return 1;
  }
  float worst = 0.0f;
  const int steps = 12;
  for (int i = 0; i <= steps; ++i) {
    const float x = 6.2831853f * i / steps;
    model.set_input(&x);  // quantized with the model's input scale and zero point
    if (!model.invoke()) {
      PRINT("invoke failed\n");
      return 2;
    }
    const float y = model.output_float(0);
    const float err = fabsf(y - sinf(x));
    if (err > worst) worst = err;
    PRINT("sin(%.3f) ~ %+.3f (exact %+.3f)\n", (double)x, (double)y, (double)sinf(x));
  }
  PRINT("max |error| %.3f, arena used %u of %u bytes\n", (double)worst,
        (unsigned)model.arena_used_bytes(), (unsigned)tinyml::sine::kArenaSize);
  return worst < 0.15f ? 0 : 3;
}

#ifdef ARDUINO
void setup() {
  Serial.begin(115200);
  run();
}
void loop() {}
#else
int main() { return run(); }
#endif
