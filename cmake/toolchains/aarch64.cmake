# Cross-compiling edgerig-agent for arm64 (aarch64) Debian 12 on an x86-64 Debian 12 machine:
# Debian's g++-aarch64-linux-gnu, against a sysroot of Debian's arm64 packages unpacked with
# dpkg-deb -x (scripts/cross-agent.sh makes it and passes EDGERIG_SYSROOT).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(NOT EDGERIG_SYSROOT AND DEFINED ENV{EDGERIG_SYSROOT})
  set(EDGERIG_SYSROOT $ENV{EDGERIG_SYSROOT})
endif()
if(NOT EDGERIG_SYSROOT OR NOT EXISTS ${EDGERIG_SYSROOT}/usr/lib/aarch64-linux-gnu)
  message(FATAL_ERROR "aarch64.cmake: EDGERIG_SYSROOT ('${EDGERIG_SYSROOT}') is not an arm64 "
                      "sysroot; make one with scripts/cross-agent.sh arm64")
endif()
# try_compile projects see the toolchain file again: hand them the sysroot too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EDGERIG_SYSROOT)

set(CMAKE_SYSROOT ${EDGERIG_SYSROOT})
set(CMAKE_FIND_ROOT_PATH ${EDGERIG_SYSROOT})
# Programs (protoc) from this machine; headers, libraries and CMake packages from the sysroot.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# libtorch's own dependencies (BLAS, gloo, ...) are found through the sysroot when linking.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-Wl,-rpath-link,${EDGERIG_SYSROOT}/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,${EDGERIG_SYSROOT}/lib/aarch64-linux-gnu")
