// libFuzzer's driver, linked in by swiftc -sanitize=fuzzer (compiler-rt declares it in
// FuzzerInterface.h, which no Debian package installs). Nothing links it otherwise.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
