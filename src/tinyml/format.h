// printf-style formatting whose %f %e %g work on every C library (see format.cc).
#pragma once

#include <stdarg.h>
#include <stddef.h>

namespace tinyml {

// vsnprintf's contract: writes at most size-1 characters and a terminating NUL, returns the
// length the whole text needs.
int vformat(char* buffer, size_t size, const char* format, va_list args);
int format(char* buffer, size_t size, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace tinyml
