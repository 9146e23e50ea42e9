// One number formatted printf-style, for the text reports.
#pragma once

#include <cstdio>
#include <string>

namespace mhc {

inline std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

}  // namespace mhc
