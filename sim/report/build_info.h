// What built this mhcsim: its version (CMake's project version) and the git commit of the sources,
// taken when the program is built (sim/report/build_info.cmake runs on every build, so the commit is
// never stale). Pages and reports print them so a result can be traced to the code that made it.
#pragma once

namespace mhc {

const char* mhcsim_version();
// "9b0cb92..." (40 hex digits), with "-dirty" when tracked files had uncommitted changes, or
// "unknown (not a git checkout)" when the sources were built outside git.
const char* mhcsim_commit();

}  // namespace mhc
