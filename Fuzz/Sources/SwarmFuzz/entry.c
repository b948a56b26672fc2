// The fuzzer executable. It has no code of its own: main comes from libFuzzer (linked by
// -sanitize=fuzzer) and LLVMFuzzerTestOneInput from the Swift target SwarmFuzzTargets.
//
// It is a C target on purpose. SwiftPM (tools version >= 5.5) compiles a Swift executable
// target with its entry point renamed to <Module>_main and links it with
// `--defsym main=<Module>_main`; under -parse-as-library that symbol does not exist and the
// link fails. A C executable target gets no such renaming, so libFuzzer's main is used.
