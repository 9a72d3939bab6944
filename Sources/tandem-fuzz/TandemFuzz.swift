#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
#if TANDEM_LIBFUZZER
import CLibFuzzer
#endif
import FuzzTargets
import Platform
import SystemPackage

/// Built by `make fuzz` (with -sanitize=fuzzer and -DTANDEM_LIBFUZZER), the libFuzzer driver
/// for the target named by TANDEM_FUZZ_TARGET: one binary serves every target. Built plainly,
/// it replays files through a target and prints each outcome, to look at a crash or a
/// regression input in a debugger: `tandem-fuzz gpt Fuzz/Pending/gpt/*`.
@main
struct TandemFuzz {
    static func main() {
        #if TANDEM_LIBFUZZER
        fuzz()
        #else
        replay()
        #endif
    }

    #if TANDEM_LIBFUZZER
    /// Read once by the callback, which cannot capture anything.
    nonisolated(unsafe) fileprivate static var target = FuzzTarget.gpt

    private static func fuzz() -> Never {
        let name = getenv("TANDEM_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let chosen = FuzzTarget(rawValue: name) else {
            exit(complaining: "set TANDEM_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        target = chosen
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        Glibc.exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
    }
    #else
    private static func replay() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            exit(complaining: "usage: tandem-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE...")
        }
        for path in arguments.dropFirst() {
            do {
                print("\(path): \(target.run(try FileDescriptor.contents(of: FilePath(path), limit: 64 << 20)))")
            } catch {
                exit(complaining: "cannot read \(path): \(error)")
            }
        }
    }
    #endif

    private static func exit(complaining message: String) -> Never {
        _ = try? FileDescriptor.standardError.writeAll(Array("tandem-fuzz: \(message)\n".utf8))
        Glibc.exit(2)
    }
}

#if TANDEM_LIBFUZZER
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = TandemFuzz.target.run(Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)))
    return 0
}
#endif
