#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Coordination
import SystemPackage

/// coordinator.conf as another coordinator (locksmithd) left it: first held, when tandemd
/// must fail and name the holder from the file, then released, when tandemd takes it over.
enum CoordinatorConfTarget {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome {
            let path = try ScratchDirectory.write(input, to: "coordinator.conf")
            let rival = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
            try rival.closeAfter { () throws -> Void in
                guard flock(rival.rawValue, LOCK_EX | LOCK_NB) == 0 else { throw Errno(rawValue: errno) }
                do {
                    _ = try CoordinatorConf(path: path, strategy: .reboot)
                } catch CoordinatorConfError.heldByAnother {
                    return
                }
                throw CoordinatorConfTargetError.rivalIgnored
            }
            let conf = try CoordinatorConf(path: path, strategy: .reboot)
            try conf.update(.running)
            conf.close()
        }
    }
}

enum CoordinatorConfTargetError: Error, CustomStringConvertible {
    case rivalIgnored

    var description: String { "coordinator.conf was taken although another process held it" }
}
