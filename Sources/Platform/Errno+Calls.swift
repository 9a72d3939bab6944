#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

extension Errno {
    /// Runs a call that returns -1 and sets `errno` on failure, retrying on `EINTR`.
    @discardableResult
    public static func retryingOnInterrupt(_ call: () -> CInt) throws(Errno) -> CInt {
        while true {
            let result = call()
            if result != -1 { return result }
            let error = Errno(rawValue: errno)
            if error != .interrupted { throw error }
        }
    }

    /// Runs swift-system calls, which are declared `throws` although they throw only `Errno`,
    /// and restores the type, so that callers can keep their errors typed. Anything else (there
    /// is nothing else today) becomes `ioError` rather than a trap.
    public static func typed<T>(_ body: () throws -> T) throws(Errno) -> T {
        do {
            return try body()
        } catch let error as Errno {
            throw error
        } catch {
            throw .ioError
        }
    }
}
