// Headless Chromium for the HTML page tests: --dump-dom (the DOM after the page's script ran) and
// --screenshot, each in a fresh empty profile with the flags that keep it off the network (on a
// machine without one it otherwise waits on connections). Tests skip when no chromium is installed
// (.ci/setup installs the Debian package `chromium`).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#ifdef MHC_HAVE_PNG
#include <png.h>
#endif

namespace mhc::test {

inline std::optional<std::string> chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (access(p, X_OK) == 0) return std::string(p);
  return std::nullopt;
}

struct BrowserRun {
  int exit_code = -1;
  std::string out, err;
};

// chromium --headless ... `args` file://`page`, at most `timeout_s` seconds.
inline BrowserRun run_chromium(const std::string& page, const std::string& args, int timeout_s = 120) {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "mhcsim-chromium-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  const std::string profile = mkdtemp(buf.data()) ? std::string(buf.data()) : std::string();
  BrowserRun r;
  if (profile.empty()) return r;
  const std::string out = profile + ".out", err = profile + ".err";
  const std::string cmd = "timeout " + std::to_string(timeout_s) + " " + *chromium_path() +
                          " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                          " --disable-background-networking --disable-component-update --disable-sync"
                          " --user-data-dir=" + profile + " " + args + " 'file://" + fs::absolute(page).string() +
                          "' > " + out + " 2> " + err;
  const int status = std::system(cmd.c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const std::string& f) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  r.out = slurp(out);
  r.err = slurp(err);
  std::error_code ec;
  fs::remove_all(profile, ec);
  fs::remove(out, ec);
  fs::remove(err, ec);
  return r;
}

// What a screenshot holds: its size and how many pixels have each colour (0xRRGGBB).
struct ScreenshotStats {
  bool read = false;
  int width = 0, height = 0;
  std::map<uint32_t, size_t> pixels_of;
  double share(uint32_t rgb) const {
    auto it = pixels_of.find(rgb);
    return it == pixels_of.end() || width * height == 0 ? 0.0 : double(it->second) / (double(width) * height);
  }
  // The share of pixels outside the `k` most common colours (the page's backgrounds).
  double beyond_top(size_t k) const {
    std::vector<size_t> counts;
    for (const auto& [c, n] : pixels_of) counts.push_back(n);
    std::sort(counts.rbegin(), counts.rend());
    size_t rest = 0;
    for (size_t i = k; i < counts.size(); ++i) rest += counts[i];
    return width * height == 0 ? 0.0 : double(rest) / (double(width) * height);
  }
};

inline ScreenshotStats screenshot_stats(const std::string& png_file) {
  ScreenshotStats s;
#ifdef MHC_HAVE_PNG
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, png_file.c_str())) return s;
  image.format = PNG_FORMAT_RGB;
  std::vector<unsigned char> px(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, px.data(), 0, nullptr)) return s;
  s.read = true;
  s.width = int(image.width);
  s.height = int(image.height);
  for (size_t i = 0; i + 2 < px.size(); i += 3) s.pixels_of[(uint32_t(px[i]) << 16) | (uint32_t(px[i + 1]) << 8) | px[i + 2]]++;
#else
  (void)png_file;
#endif
  return s;
}

}  // namespace mhc::test
