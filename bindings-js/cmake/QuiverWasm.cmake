# Emscripten settings, kept here in bindings-js as the house style asks. Included by the top-level CMakeLists.txt
# when the toolchain is Emscripten.

# simd128 everywhere: the engine's kernels, and xsimd, need it.
add_compile_options(-msimd128)

# A WASM executable that runs under Node with direct access to the host's files (tests, benchmarks).
# It links the engine's speed objects ahead of the engine's library (engine/CMakeLists.txt says why).
function(quiver_wasm_node_executable target)
  target_sources(${target} PRIVATE $<TARGET_OBJECTS:quiver_engine_speed>)
  target_link_options(${target} PRIVATE
    -sENVIRONMENT=node -sWASM_ASYNC_COMPILATION=0 -sNODERAWFS=1 -sEXIT_RUNTIME=1
    -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sTOTAL_STACK=4MB)
endfunction()

# C++ exceptions are off in the engine; test frameworks that throw turn them on for their own targets.
function(quiver_wasm_enable_exceptions target)
  target_compile_options(${target} PRIVATE -fexceptions)
  target_link_options(${target} PRIVATE -fexceptions)
endfunction()
