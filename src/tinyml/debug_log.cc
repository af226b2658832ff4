// TFLite Micro's logging hooks for pio-tinyml: Arduino `Serial` under ARDUINO, stdout
// elsewhere, formatted by tinyml::vformat so that floats print on every C library. Both are
// weak: define DebugLog / DebugVsnprintf in the project to override.
#include <stdarg.h>
#include <stdio.h>

#include "tensorflow/lite/micro/debug_log.h"
#include "tinyml/format.h"

#ifdef ARDUINO
#include <Arduino.h>
#endif

extern "C" __attribute__((weak)) int DebugVsnprintf(char* buffer, size_t buf_size,
                                                    const char* format, va_list vlist) {
  return tinyml::vformat(buffer, buf_size, format, vlist);
}

extern "C" __attribute__((weak)) void DebugLog(const char* format, va_list args) {
  char buffer[256];
  DebugVsnprintf(buffer, sizeof(buffer), format, args);
#ifdef ARDUINO
  Serial.print(buffer);
#else
  fputs(buffer, stdout);
#endif
}

namespace {

void emit(const char* format, ...) {
  va_list args;
  va_start(args, format);
  DebugLog(format, args);
  va_end(args);
}

}  // namespace

namespace tinyml {

void log_line(const char* format, ...) {
  char line[192];
  va_list args;
  va_start(args, format);
  DebugVsnprintf(line, sizeof(line), format, args);
  va_end(args);
  emit("%s\n", line);
#ifndef ARDUINO
  fflush(stdout);
#endif
}

}  // namespace tinyml
