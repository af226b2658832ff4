// A tiny test on the line protocol of platforms/testing/line_protocol_runner.py.
#include <cstdio>
#include <cstring>

namespace {

int failures = 0;

void check(bool ok, const char *name, const char *reason) {
  if (ok) {
    std::printf("PASS %s\n", name);
  } else {
    std::printf("FAIL %s: %s\n", name, reason);
    ++failures;
  }
}

}  // namespace

int main() {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%d-%s", 42, "tinyml");
  check(std::strcmp(buffer, "42-tinyml") == 0, "snprintf", "formatted text differs");
  volatile float x = 1.25f;
  check(x * 4.0f == 5.0f, "float_arithmetic", "1.25 * 4 != 5");
  return failures;
}
