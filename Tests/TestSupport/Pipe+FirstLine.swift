import Foundation

extension Pipe {
    /// The first line a child process prints (a port, a bus address), read byte by byte so
    /// that nothing after it is consumed; without the newline.
    public func readFirstLine() throws -> String {
        var line = Data()
        while let byte = try fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }
}
