// tinyml::format against the host C library's snprintf: every line the two disagree on is
// printed as MISMATCH; the exit code is the number of mismatches.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tinyml/format.h"

static int mismatches = 0;
static int checks = 0;

#define CHECK(LABEL, ...)                                                              \
  do {                                                                                 \
    char ours[256], libc[256];                                                         \
    int n_ours = tinyml::format(ours, sizeof ours, __VA_ARGS__);                       \
    int n_libc = snprintf(libc, sizeof libc, __VA_ARGS__);                             \
    ++checks;                                                                          \
    if (strcmp(ours, libc) != 0 || n_ours != n_libc) {                                 \
      ++mismatches;                                                                    \
      printf("MISMATCH %s: [%s] (%d) vs libc [%s] (%d)\n", LABEL, ours, n_ours, libc, \
             n_libc);                                                                  \
    }                                                                                  \
  } while (0)

int main() {
  const double values[] = {0.0,    -0.0,      1.5,     -1.5,    2.5,      0.125,  3.14159265,
                           0.001234, 123456.789, 1e-7, 9.9996, 0.5,      2.0 / 3, 1e10,
                           42.0,   0.049999,  99.95001, -273.15, 6.02e23, 1e-300, 65504.0,
                           123456789012345.0, 0.05, 1e16, 4.5e17};
  const char* formats[] = {"%f",   "%.3f",  "%.0f", "%8.2f", "%-8.2f|", "%+.1f", "%08.3f",
                           "% f",  "%e",    "%.2e", "%E",    "%+.0e",   "%g",    "%.3g",
                           "%G",   "%#g",   "%10.4g|", "%.1g", "%-12.5e|"};
  for (double v : values) {
    for (const char* f : formats) {
      // fixed notation keeps 17 significant digits: 6.02e23 with %f ends in zeros, not in
      // the binary value's exact decimal digits
      if (fabs(v) >= 1e17 && strchr(f, 'f') != nullptr) continue;  // (checked below)
      CHECK(f, f, v);
    }
    if (fabs(v) < 1000) CHECK("%.12f", "%.12f", v);  // 17 significant digits at most
  }
  {  // beyond 17 significant digits: the leading ones, then zeros
    char big[64];
    tinyml::format(big, sizeof big, "%.1f", 6.02e23);
    ++checks;
    if (strcmp(big, "602000000000000000000000.0") != 0) {
      ++mismatches;
      printf("MISMATCH big: [%s]\n", big);
    }
  }
  CHECK("mixed", "[%.3f] [%d]", 1.5, 42);
  CHECK("ints", "%s=%5d %-4s| %x %lu %lld %zu %c %%", "a", 12, "b", 255u, 7ul, -9ll, (size_t)3,
        'z');
  CHECK("star", "%*d|%-*d|%.*f", 5, 1, 4, 2, 2, 1.0 / 3);
  CHECK("special", "%f %f %F %e", INFINITY, -INFINITY, NAN, -INFINITY);
  CHECK("strings", "%.2s|%5s|%-5s|", "abcdef", "ab", "cd");
  char small[5];
  int needed = tinyml::format(small, sizeof small, "%.3f", 12.5);
  ++checks;
  if (needed != 6 || strcmp(small, "12.5") != 0) {
    ++mismatches;
    printf("MISMATCH truncation: %d [%s]\n", needed, small);
  }
  printf("%d checks, %d mismatches\n", checks, mismatches);
  return mismatches;
}
