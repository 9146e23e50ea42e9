#include "cli/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/cli_args.h"
#include "core/json_input.h"

namespace mhc {

namespace {
std::string reason() { return std::strerror(errno); }
}  // namespace

OutputFile::OutputFile(std::string command, std::string flag, std::string path)
    : command_(std::move(command)), flag_(std::move(flag)), path_(std::move(path)) {
  if (path_.empty()) throw InputError(command_, flag_, "expects a file name, got an empty one");
  // Create it if absent (and remember so), else open the existing file without truncating it yet.
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd_ >= 0) {
    created_ = true;
  } else if (errno == EEXIST) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  }
  if (fd_ < 0) throw InputError(command_, flag_, "cannot write '" + bounded(path_, 240) + "': " + reason());
}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : command_(std::move(other.command_)),
      flag_(std::move(other.flag_)),
      path_(std::move(other.path_)),
      fd_(other.fd_),
      created_(other.created_) {
  other.fd_ = -1;
  other.created_ = false;
}

OutputFile::~OutputFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  if (created_) ::unlink(path_.c_str());  // opened but never written: the command failed
}

std::optional<OutputFile> OutputFile::open_if_given(const CliArgs& args, const std::string& command,
                                                    const std::string& flag) {
  auto path = args.get(flag);
  if (!path) return std::nullopt;
  return OutputFile(command, flag, *path);
}

void OutputFile::write(const std::string& text) {
  if (fd_ < 0) throw InputError(command_, flag_, "'" + bounded(path_, 240) + "' was already written");
  const int fd = fd_;
  fd_ = -1;
  created_ = false;  // from here on the file is the command's output, complete or with an error said
  auto failed = [&](const std::string& why) {
    ::close(fd);
    throw InputError(command_, flag_, "writing '" + bounded(path_, 240) + "' failed: " + why);
  };
  struct stat st{};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::ftruncate(fd, 0) != 0) failed(reason());
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) failed(n < 0 ? reason() : "nothing written");
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) throw InputError(command_, flag_, "writing '" + bounded(path_, 240) + "' failed: " + reason());
}

}  // namespace mhc
