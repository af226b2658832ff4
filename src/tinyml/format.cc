// vsnprintf with floating-point conversions done here: newlib-nano (Arduino STM32, most Arm
// GCC builds) links a printf without %f unless `-u _printf_float` adds ~10 KB of flash, and
// then prints nothing for "%.3f". Integers, strings and pointers go to the C library's
// vsnprintf one conversion at a time; %f %e %g (and their capitals) are formatted below.
#include "tinyml/format.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

namespace tinyml {
namespace {

struct Out {
  char* buffer;
  size_t size;
  size_t length;  // what the whole text needs, as vsnprintf returns

  void put(char c) {
    if (length + 1 < size) buffer[length] = c;
    ++length;
  }
  void put(const char* text, size_t n) {
    for (size_t i = 0; i < n; ++i) put(text[i]);
  }
};

struct Spec {
  bool left = false, plus = false, space = false, alt = false, zero = false;
  int width = 0;
  int precision = -1;
};

int atoi_exponent(const char* text) {
  int sign = *text == '-' ? -1 : 1;
  if (*text == '-' || *text == '+') ++text;
  int value = 0;
  while (*text >= '0' && *text <= '9') value = value * 10 + (*text++ - '0');
  return sign * value;
}

// The C library's conversion spec for one argument, with any * resolved.
void rebuild_spec(char* out, size_t size, const Spec& spec, const char* length, char conversion) {
  snprintf(out, size, "%%%s%s%s%s%s", spec.left ? "-" : "", spec.plus ? "+" : "",
           spec.space ? " " : "", spec.alt ? "#" : "", spec.zero ? "0" : "");
  size_t n = strlen(out);
  if (spec.width > 0) n += static_cast<size_t>(snprintf(out + n, size - n, "%d", spec.width));
  if (spec.precision >= 0)
    n += static_cast<size_t>(snprintf(out + n, size - n, ".%d", spec.precision));
  snprintf(out + n, size - n, "%s%c", length, conversion);
}

// 10^n for n >= 0 by squaring (exact up to 10^22).
double pow10i(int n) {
  double result = 1.0, base = 10.0;
  for (; n > 0; n >>= 1, base *= base)
    if (n & 1) result *= base;
  return result;
}

// value * 10^n, in two steps where 10^|n| alone would overflow.
double scale10(double value, int n) {
  if (n > 300) return scale10(value * 1e300, n - 300);
  if (n < -300) return scale10(value / 1e300, n + 300);
  return n >= 0 ? value * pow10i(n) : value / pow10i(-n);
}

// The decimal exponent of a positive finite value: 10^e <= value < 10^(e+1).
int decimal_exponent(double value) {
  int binary = 0;
  frexp(value, &binary);
  int e = static_cast<int>((binary - 1) * 0.30102999566398);
  if (binary - 1 < 0 && (binary - 1) * 0.30102999566398 != e) --e;  // floor, not truncation
  const double m = scale10(value, -e);
  if (m >= 10.0) ++e;
  if (m < 1.0) --e;
  return e;
}

// a * b exactly as high + low (Dekker's product: no fma, no libm; needs rounding to nearest
// and no contraction of the products into fused multiply-adds).
#if defined(__clang__)
#define TINYML_NO_CONTRACT
#elif defined(__GNUC__)
#define TINYML_NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define TINYML_NO_CONTRACT
#endif
TINYML_NO_CONTRACT void exact_product(double a, double b, double& high, double& low) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  const double split = 134217729.0;  // 2^27 + 1
  high = a * b;
  const double ca = split * a, cb = split * b;
  const double ah = ca - (ca - a), al = a - ah;
  const double bh = cb - (cb - b), bl = b - bh;
  low = ((ah * bh - high) + ah * bl + al * bh) + al * bl;
}

// Digits of a non-negative finite value in fixed notation with `precision` decimals, rounded
// as the C library does (to nearest, ties to even on the exact binary value). Keeps 17
// significant digits at most; further ones are zeros.
size_t fixed_digits(double value, int precision, char* out, size_t capacity) {
  const int kept = precision > 17 ? 17 : precision;
  const double scale = pow10i(kept);
  int dropped = 0;  // whole digits beyond 17 significant ones, printed as zeros
  for (double scaled = value * scale; scaled >= 1e17; scaled /= 10.0) ++dropped;
  uint64_t r = 0;
  if (dropped == 0) {
    double high = 0.0, low = 0.0;
    exact_product(value, scale, high, low);
    const uint64_t below = static_cast<uint64_t>(high);
    r = below;
    const double past_half = ((high - static_cast<double>(below)) - 0.5) + low;  // exact sign
    if (past_half > 0 || (past_half == 0 && (r & 1) != 0)) ++r;
  } else {
    r = static_cast<uint64_t>(scale10(value, kept - dropped) + 0.5);  // one rounding step
  }
  // r holds the value * 10^(kept - dropped): its digits, most significant first, with at
  // least kept + 1 of them ("0.05" is r = 5 with kept 2: digits "005")
  char digits[24];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + r % 10);
    r /= 10;
  } while (r != 0 && n < sizeof(digits));
  const int least = kept - dropped + 1;
  while (static_cast<int>(n) < least && n < sizeof(digits)) digits[n++] = '0';
  const int whole = static_cast<int>(n) + dropped - kept;  // digits before the point
  size_t len = 0;
  for (int i = 0; i < whole && len < capacity; ++i) out[len++] = n > 0 ? digits[--n] : '0';
  if (precision > 0 && len < capacity) out[len++] = '.';
  for (int i = 0; i < precision && len < capacity; ++i) out[len++] = n > 0 ? digits[--n] : '0';
  return len;
}

// Exponent notation: d.ddde+XX.
size_t exponent_digits(double value, int precision, bool upper, char* out, size_t capacity) {
  int exponent = value == 0.0 ? 0 : decimal_exponent(value);
  // rounding may carry into a new leading digit (9.9996 -> 10.000)
  char body[40];
  size_t len = fixed_digits(scale10(value, -exponent), precision, body, sizeof(body));
  if (body[0] == '1' && body[1] == '0') {
    ++exponent;
    len = fixed_digits(scale10(value, -exponent), precision, body, sizeof(body));
  }
  size_t n = 0;
  for (size_t i = 0; i < len && n < capacity; ++i) out[n++] = body[i];
  char tail[8];
  int e = exponent < 0 ? -exponent : exponent;
  int t = snprintf(tail, sizeof(tail), "%c%c%02d", upper ? 'E' : 'e', exponent < 0 ? '-' : '+', e);
  for (int i = 0; i < t && n < capacity; ++i) out[n++] = tail[i];
  return n;
}

size_t strip_zeros(char* text, size_t len) {
  const char* dot = static_cast<const char*>(memchr(text, '.', len));
  if (dot == nullptr) return len;
  size_t end = len;
  while (end > 0 && text[end - 1] == '0') --end;
  if (end > 0 && text[end - 1] == '.') --end;
  return end;
}

void put_float(Out& out, const Spec& spec, char conversion, double value) {
  const bool upper = conversion >= 'A' && conversion <= 'Z';
  const char c = static_cast<char>(upper ? conversion - 'A' + 'a' : conversion);
  const bool negative = signbit(value);
  double magnitude = negative ? -value : value;
  char body[64];
  size_t len = 0;
  bool finite = true;
  if (isnan(value) || isinf(value)) {
    finite = false;
    const char* word = isnan(value) ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
    len = strlen(word);
    memcpy(body, word, len);
  } else {
    int precision = spec.precision < 0 ? 6 : spec.precision;
    if (c == 'f') {
      len = fixed_digits(magnitude, precision, body, sizeof(body));
    } else if (c == 'e') {
      len = exponent_digits(magnitude, precision, upper, body, sizeof(body));
    } else {  // 'g': the C standard's choice between the two, trailing zeros removed
      if (precision == 0) precision = 1;
      int exponent = 0;
      char probe[64];
      size_t n = exponent_digits(magnitude, precision - 1, upper, probe, sizeof(probe) - 1);
      probe[n] = '\0';
      const char* mark = static_cast<const char*>(memchr(probe, upper ? 'E' : 'e', n));
      if (mark != nullptr) exponent = atoi_exponent(mark + 1);
      if (exponent < -4 || exponent >= precision) {
        size_t mantissa_len = static_cast<size_t>(mark - probe);
        size_t kept = spec.alt ? mantissa_len : strip_zeros(probe, mantissa_len);
        memcpy(body, probe, kept);
        memcpy(body + kept, mark, n - mantissa_len);
        len = kept + (n - mantissa_len);
      } else {
        len = fixed_digits(magnitude, precision - 1 - exponent, body, sizeof(body));
        if (!spec.alt) len = strip_zeros(body, len);
        else if (precision - 1 - exponent == 0 && len < sizeof(body)) body[len++] = '.';
      }
    }
  }
  char sign = negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '\0';
  size_t total = len + (sign ? 1 : 0);
  size_t pad = spec.width > 0 && static_cast<size_t>(spec.width) > total
                   ? static_cast<size_t>(spec.width) - total
                   : 0;
  if (!spec.left && !(spec.zero && finite))
    for (size_t i = 0; i < pad; ++i) out.put(' ');
  if (sign) out.put(sign);
  if (!spec.left && spec.zero && finite)
    for (size_t i = 0; i < pad; ++i) out.put('0');
  out.put(body, len);
  if (spec.left)
    for (size_t i = 0; i < pad; ++i) out.put(' ');
}

}  // namespace

int vformat(char* buffer, size_t size, const char* format, va_list args) {
  Out out{buffer, size, 0};
  va_list ap;
  va_copy(ap, args);
  const char* p = format;
  while (*p != '\0') {
    if (*p != '%') {
      out.put(*p++);
      continue;
    }
    const char* start = p++;
    if (*p == '%') {
      out.put('%');
      ++p;
      continue;
    }
    Spec spec;
    for (;; ++p) {
      if (*p == '-') spec.left = true;
      else if (*p == '+') spec.plus = true;
      else if (*p == ' ') spec.space = true;
      else if (*p == '#') spec.alt = true;
      else if (*p == '0') spec.zero = true;
      else break;
    }
    char spec_text[32];
    if (*p == '*') {
      spec.width = va_arg(ap, int);
      if (spec.width < 0) {
        spec.left = true;
        spec.width = -spec.width;
      }
      ++p;
    } else {
      while (*p >= '0' && *p <= '9') spec.width = spec.width * 10 + (*p++ - '0');
    }
    if (*p == '.') {
      ++p;
      spec.precision = 0;
      if (*p == '*') {
        spec.precision = va_arg(ap, int);
        ++p;
      } else {
        while (*p >= '0' && *p <= '9') spec.precision = spec.precision * 10 + (*p++ - '0');
      }
    }
    char length[3] = {0, 0, 0};
    if (*p == 'h' || *p == 'l') {
      length[0] = *p++;
      if (*p == length[0]) length[1] = *p++;
    } else if (*p == 'z' || *p == 'j' || *p == 't' || *p == 'L') {
      length[0] = *p++;
    }
    const char conversion = *p;
    if (conversion == '\0') break;
    ++p;
    if (strchr("fFeEgGaA", conversion) != nullptr) {
      double value = length[0] == 'L' ? static_cast<double>(va_arg(ap, long double))
                                      : va_arg(ap, double);
      put_float(out, spec, conversion == 'a' ? 'e' : conversion == 'A' ? 'E' : conversion,
                value);
      continue;
    }
    rebuild_spec(spec_text, sizeof(spec_text), spec, length, conversion);
    char piece[96];
    int written = 0;
    const bool wide = length[0] == 'l' && length[1] == 'l';
    switch (conversion) {
      case 'd': case 'i': case 'u': case 'o': case 'x': case 'X': case 'c':
        if (wide) written = snprintf(piece, sizeof(piece), spec_text, va_arg(ap, long long));
        else if (length[0] == 'l') written = snprintf(piece, sizeof(piece), spec_text, va_arg(ap, long));
        else if (length[0] == 'z') written = snprintf(piece, sizeof(piece), spec_text, va_arg(ap, size_t));
        else if (length[0] == 'j') written = snprintf(piece, sizeof(piece), spec_text, va_arg(ap, intmax_t));
        else if (length[0] == 't') written = snprintf(piece, sizeof(piece), spec_text, va_arg(ap, ptrdiff_t));
        else written = snprintf(piece, sizeof(piece), spec_text, va_arg(ap, int));
        break;
      case 's': {
        const char* text = va_arg(ap, const char*);
        if (spec.width == 0 && spec.precision < 0) {  // any length, no copy limit
          if (text == nullptr) text = "(null)";
          out.put(text, strlen(text));
          continue;
        }
        written = snprintf(piece, sizeof(piece), spec_text, text);
        break;
      }
      case 'p':
        written = snprintf(piece, sizeof(piece), spec_text, va_arg(ap, void*));
        break;
      case 'n':
        (void)va_arg(ap, int*);  // never written: a log line has no use for it
        continue;
      default:  // unknown conversion: shown as written
        out.put(start, static_cast<size_t>(p - start));
        continue;
    }
    if (written > 0)
      out.put(piece, static_cast<size_t>(written) < sizeof(piece) ? static_cast<size_t>(written)
                                                                   : sizeof(piece) - 1);
  }
  va_end(ap);
  if (size > 0) buffer[out.length < size ? out.length : size - 1] = '\0';
  return static_cast<int>(out.length);
}

int format(char* buffer, size_t size, const char* format_text, ...) {
  va_list args;
  va_start(args, format_text);
  int n = vformat(buffer, size, format_text, args);
  va_end(args);
  return n;
}

}  // namespace tinyml
