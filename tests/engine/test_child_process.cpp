// Worker processes: a worker that dies is reported with its signal, and a worker never outlives the
// process waiting for it (a killed sweep leaves no simulation running).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
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

TEST(ChildProcess, AWorkerDiesWithItsParent) {
  // This process adopts orphans (as init would), so it can see how the worker ends.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {  // the sweep: waits for a worker that would run for a minute
    ::close(fds[0]);
    try {
      run_in_child(
          [&] {
            const pid_t self = ::getpid();
            (void)!::write(fds[1], &self, sizeof self);
            ::sleep(60);
            return std::string("finished");
          },
          "the worker");
    } catch (...) {
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  pid_t worker = 0;
  ASSERT_EQ(::read(fds[0], &worker, sizeof worker), static_cast<ssize_t>(sizeof worker));
  ::close(fds[0]);
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
