// Reading and writing the `corun` section of a profile (ProfileCorun in profile.h).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profile/profile.h"

namespace mhc {

class JsonValue;

// `sm_count`: the profile's SMs (the curve must end there); `part_count`: parts of a merged profile.
ProfileCorun parse_corun(const JsonValue& v, int sm_count, size_t part_count);
nlohmann::json corun_to_json(const ProfileCorun& c);

}  // namespace mhc
