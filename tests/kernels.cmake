# Kernel tests: the CPU reference always; the CUDA kernels against it when CUDA is built (the GPU
# test skips with a message on a machine without a device).
mhc_add_test(test_kernels_ref SOURCES test_kernels_ref.cpp LIBS mhc_kernels_ref)
if(MHC_HAVE_CUDA)
  mhc_add_test(test_kernels_gpu SOURCES test_kernels_gpu.cpp LIBS mhc_kernels mhc_kernels_ref)
endif()
