// pio-tinyml probe of the ahead-of-time code: what the generated table (aot_models.cc, in the
// build's tinyml-probe folder) tells the harness about each model of the env.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace tinyml_probe {

struct AotEntry {
  uint32_t arena_size;  // kAotArenaSize: the build's arena plan
  uint32_t input_offset;
  uint32_t input_bytes;
  uint32_t output_offset;
  uint32_t output_bytes;
  bool (*check)();  // AotCheck: the planned scratch buffers fit this build's CMSIS-NN
  bool (*invoke)(uint8_t* arena);  // AotInvoke
};

// Generated (aot_models.cc): model `index` of the env; nullptr when there is none.
const AotEntry* aot_model(int index);

}  // namespace tinyml_probe
