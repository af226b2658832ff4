// Lets an STM32F4 Arduino firmware run in QEMU's netduinoplus2 (STM32F405) for the
// real-platform tier: QEMU emulates no RCC (the clock setup would wait forever) and its USART
// raises no transmit interrupt (the Arduino Serial would block), so the clock setup is skipped
// and TFLM's log hook writes USART2 by polling. Formatting stays tinyml's (DebugVsnprintf).
#if defined(STM32F4xx)
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "stm32f4xx.h"
#include "tensorflow/lite/micro/debug_log.h"

extern "C" void SystemClock_Config(void) {}

extern "C" void DebugLog(const char* format, va_list args) {
  char buffer[256];
  DebugVsnprintf(buffer, sizeof(buffer), format, args);
  for (const char* c = buffer; *c != '\0'; ++c) {
    while ((USART2->SR & USART_SR_TXE) == 0) {
    }
    USART2->DR = static_cast<uint8_t>(*c);
  }
}
#endif
