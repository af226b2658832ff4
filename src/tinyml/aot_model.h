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

#include <stddef.h>
#include <stdint.h>

#include "tinyml/model_base.h"

namespace tinyml {

template <class M>
class AotModel : public detail::ModelBase<AotModel<M>, M> {
  using Base = detail::ModelBase<AotModel<M>, M>;
  using Base::fail;
  using Base::fail_begin;
  using Base::fail_not_started;
  using Base::succeed;

 public:
  using Base::ready;

  AotModel() = default;

  // Checks the arena and the scratch buffers against the build's plan.
  bool begin() {
    if (this->begun()) return this->repeat_begin();
    if (M::kArenaSize < M::kAotArenaSize) {
      return fail_begin("the arena (kArenaSize) is smaller than the build's arena plan");
    }
    if (!M::AotCheck()) {
      return fail_begin("CMSIS-NN asks for a larger scratch buffer than the build planned");
    }
    return this->started();
  }

  template <class T>
  T* input() {
    return ready() ? reinterpret_cast<T*>(arena_ + M::kAotInputOffset) : nullptr;
  }
  template <class T>
  T* output() {
    return ready() ? reinterpret_cast<T*>(arena_ + M::kAotOutputOffset) : nullptr;
  }

  bool invoke() {
    if (!ready()) return fail_not_started();
    if (!M::AotInvoke(arena_)) return fail("a CMSIS-NN function returned an error");
    return succeed();
  }

  // The generated models hold no state between invocations: nothing to reset.
  bool reset() { return ready() ? succeed() : fail_not_started(); }

  // The plan's peak: every byte of it is used by some node; 0 when not started.
  size_t arena_used_bytes() const { return ready() ? M::kAotArenaSize : 0; }

 private:
  alignas(16) uint8_t arena_[M::kArenaSize];
};

}  // namespace tinyml
