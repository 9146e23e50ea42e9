#include "scenario_checks.h"

namespace mhc {

void check_scenario_schedule(const Scenario& s) {
  (void)s;  // the schedule stage is merged separately; see the schedule generator's checks
}

}  // namespace mhc
