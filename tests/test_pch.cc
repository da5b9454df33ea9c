// Builds the tests' precompiled header (tests/CMakeLists.txt): CMake compiles a target's header only when one of
// its sources uses it, and test_main.cc cannot (it compiles Catch2's runner). This file defines nothing.
