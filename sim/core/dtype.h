// Number formats of tensors and GEMMs, and their storage size: shared by the scenario (what the run
// uses), the model (what each op reads and writes) and the profile (what was measured).
#pragma once

namespace mhc {

enum class DType { bf16, fp8, fp32, tf32 };
inline double dtype_bytes(DType t) {
  switch (t) {
    case DType::fp8: return 1.0;
    case DType::bf16: return 2.0;
    default: return 4.0;
  }
}
inline const char* to_string(DType t) {
  switch (t) {
    case DType::fp8: return "fp8";
    case DType::bf16: return "bf16";
    case DType::tf32: return "tf32";
    default: return "fp32";
  }
}

}  // namespace mhc
