#include "core/command_stamp.h"

#include <ctime>

namespace mhc {

std::string shell_command_line(const std::vector<std::string>& words) {
  static const char* kPlain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=,:+";
  std::string out;
  for (const std::string& w : words) {
    std::string quoted = w;
    if (w.empty() || w.find_first_not_of(kPlain) != std::string::npos) {
      quoted = "'";
      for (char c : w) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
      quoted += "'";
    }
    out += (out.empty() ? "" : " ") + quoted;
  }
  return out;
}

std::string utc_now_iso8601() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace mhc
