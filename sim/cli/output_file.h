// A file a command writes (--trace, --out, --html), opened before any work starts, so a path that
// cannot be written fails at once with exit code 2 naming the flag and the path, not after a long
// simulation. The file's old content stays until write() replaces it; a file the command created and
// never wrote is removed again, so a failed run leaves nothing behind.
#pragma once

#include <optional>
#include <string>

namespace mhc {

class CliArgs;

class OutputFile {
 public:
  // Opens `path` for writing (creating it if needed). Throws InputError("<command>", flag, ...) if it
  // cannot be opened. `command` names the sub-command in messages ("mhcsim run").
  OutputFile(std::string command, std::string flag, std::string path);
  ~OutputFile();
  OutputFile(OutputFile&& other) noexcept;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  OutputFile& operator=(OutputFile&&) = delete;

  // The file named by `flag` when the command line gives it, opened now; nullopt without the flag.
  static std::optional<OutputFile> open_if_given(const CliArgs& args, const std::string& command,
                                                 const std::string& flag);

  const std::string& path() const { return path_; }
  // Replaces the file's content with `text` and closes it; throws InputError naming the flag and
  // path when a write fails (a full disk, a quota). Call once.
  void write(const std::string& text);

 private:
  std::string command_, flag_, path_;
  int fd_ = -1;
  bool created_ = false;  // the file did not exist before: removed again if never written
};

}  // namespace mhc
