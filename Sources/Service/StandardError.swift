#if canImport(Glibc)
import Glibc
#endif

/// Unbuffered writes to file descriptor 2. Each line goes out in one write(2) call, so lines
/// from different threads do not interleave (up to PIPE_BUF bytes on a pipe).
enum StandardError {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(STDERR_FILENO, base + offset, bytes.count - offset)
                if written < 0 {
                    // With stderr gone there is nowhere left to report the failure.
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
