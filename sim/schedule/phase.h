// The phases a pipeline schedule is made of; the task graph carries them on every scheduled task.
#pragma once

namespace mhc {

// What a task is in schedule terms (F forward, B input-gradient backward, W weight-gradient,
// BW full backward, FB DualPipe's overlapped forward+backward pair); "none" for non-schedule tasks.
enum class Phase { none, F, B, W, BW, FB };

inline const char* to_string(Phase p) {
  switch (p) {
    case Phase::F: return "F";
    case Phase::B: return "B";
    case Phase::W: return "W";
    case Phase::BW: return "BW";
    case Phase::FB: return "FB";
    default: return "-";
  }
}

}  // namespace mhc
