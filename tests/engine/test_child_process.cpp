// Worker processes: a worker that dies is reported with its signal, and a worker never outlives the
// process waiting for it (a killed sweep leaves no simulation running).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "engine/child_process.h"

using namespace mhc;

TEST(ChildProcess, AWorkerKilledBySignalIsReportedWithIt) {
  try {
    run_in_child([]() -> std::string { ::raise(SIGKILL); return "unreachable"; }, "the worker");
    ADD_FAILURE() << "a killed worker returned";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("the worker: the worker process died (killed by signal 9)"), std::string::npos)
        << e.what();
  }
}

// A sweep forks workers from several threads at once, so a worker can be born holding a sibling's
// answer pipe; if it kept that write end, the sibling's reader would wait for this worker to end too.
TEST(ChildProcess, AWorkerHoldsNoDescriptorOfItsParentButStdio) {
  int sibling[2];
  ASSERT_EQ(::pipe(sibling), 0);
  const std::string seen = run_in_child(
      [&] {
        std::string s;
        for (int fd : {0, 1, 2, sibling[0], sibling[1]}) s += ::fcntl(fd, F_GETFD) == -1 ? 'c' : 'o';
        return s;
      },
      "the worker");
  ::close(sibling[0]);
  ::close(sibling[1]);
  EXPECT_EQ(seen, "ooocc") << "stdin, stdout, stderr open; a sibling's pipe ends closed";
}

TEST(ChildProcess, AWorkerDiesWithItsParent) {
  // This process adopts orphans (as init would), so it can see how the worker ends.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  // The worker names itself in a file: it holds no descriptor of its parent's (test above).
  const std::string pid_file = testing::TempDir() + "/child_process_worker.pid";
  std::remove(pid_file.c_str());
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {  // the sweep: waits for a worker that would run for a minute
    try {
      run_in_child(
          [&] {
            std::ofstream(pid_file + ".part") << ::getpid();
            std::rename((pid_file + ".part").c_str(), pid_file.c_str());
            ::sleep(60);
            return std::string("finished");
          },
          "the worker");
    } catch (...) {
    }
    ::_exit(0);
  }
  pid_t worker = 0;
  for (int i = 0; i < 200 && worker == 0; ++i) {
    std::ifstream in(pid_file);
    if (!(in >> worker)) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_NE(worker, 0) << "the worker never started";
  std::remove(pid_file.c_str());
  ::kill(parent, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(parent, &status, 0), parent);
  // The orphaned worker is now this process's child: it must end within seconds, killed.
  pid_t ended = 0;
  for (int i = 0; i < 100 && ended == 0; ++i) {
    ended = ::waitpid(worker, &status, WNOHANG);
    if (ended == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (ended == 0) {
    ::kill(worker, SIGKILL);
    ::waitpid(worker, &status, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  ASSERT_EQ(ended, worker) << "the worker outlived its parent by 5 s";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}
