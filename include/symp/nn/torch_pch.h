#pragma once
// Precompiled header of symp_torch and the torch tests: torch's headers cost ~20 s per translation unit.
#include <torch/torch.h>
