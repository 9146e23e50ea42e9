// The binary form of an EngineResult, for the pipe from the simulation's child process.
#pragma once

#include <string>

#include "engine/engine_result.h"

namespace mhc {

std::string serialize_result(const EngineResult& r);
EngineResult deserialize_result(const std::string& bytes);

}  // namespace mhc
