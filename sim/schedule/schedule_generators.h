// Per-kind generators behind generate_schedule(); each assumes a validated request and fills
// Schedule::per_rank (the caller sets sizes and stage_of_chunk first).
#pragma once

#include "schedule/schedule.h"

namespace mhc::detail {

void generate_gpipe(Schedule& s);
void generate_one_f_one_b(Schedule& s);
void generate_interleaved(Schedule& s);
void generate_zb_h1(Schedule& s);
void generate_zb_h2(Schedule& s);
void generate_dualpipe(Schedule& s);
void generate_dualpipe_v(Schedule& s);

}  // namespace mhc::detail
