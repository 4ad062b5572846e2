include(CheckCXXCompilerFlag)
add_library(symp_warnings INTERFACE)
target_compile_options(symp_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter)
# GCC 13's -Wdangling-reference flags every `const Json& x = require_field(obj, "key", ...)` (a reference into
# `obj` returned by a function that also took a temporary string): a known false positive.
check_cxx_compiler_flag(-Wdangling-reference SYMP_HAS_DANGLING_REFERENCE)
if(SYMP_HAS_DANGLING_REFERENCE)
  target_compile_options(symp_warnings INTERFACE -Wno-dangling-reference)
endif()
if(SYMP_WERROR)
  target_compile_options(symp_warnings INTERFACE -Werror)
  # GCC 13 at -O2 reports -Warray-bounds inside libstdc++'s std::vector<bool>::reserve when it inlines torch
  # 2.x's autograd::Function::apply (lib/nn/glm.cpp's custom functions; stopped the CUDA build on
  # 2026-12-04): a known false positive in headers that are not ours. It stays a warning there.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 13)
    target_compile_options(symp_warnings INTERFACE -Wno-error=array-bounds)
  endif()
endif()
if(SYMP_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
