// Prints a greeting and what it was compiled for; on Cortex-M also the core it runs on.
#include <cstdint>
#include <cstdio>

namespace {

void print_cpu() {
#if defined(__arm__)
  const uint32_t cpuid = *reinterpret_cast<volatile uint32_t *>(0xE000ED00u);
  std::printf("CPUID: 0x%08lx (part 0x%03lx)\n", static_cast<unsigned long>(cpuid),
              static_cast<unsigned long>((cpuid >> 4) & 0xFFFu));
#ifdef __ARM_FEATURE_DSP
  const int dsp = 1;
#else
  const int dsp = 0;
#endif
#ifdef __ARM_FP
  const int fp = __ARM_FP;
#else
  const int fp = 0;
#endif
  std::printf("compiled for: ARMv%d%s, DSP %d, FP 0x%x\n", __ARM_ARCH,
              __ARM_ARCH_PROFILE == 'M' ? "-M" : "", dsp, fp);
#else
  std::printf("compiled for: host\n");
#endif
}

}  // namespace

int main() {
  std::printf("Hello from pio-tinyml!\n");
  print_cpu();
  return 0;
}
