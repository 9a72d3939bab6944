#if canImport(Glibc)
import Glibc
#endif

/// Whether a descriptor is the stream systemd connected to the journal. systemd sets
/// `JOURNAL_STREAM=<device>:<inode>` for a service whose stdout or stderr goes to journald;
/// sd_journal_stream_fd(3) recommends comparing that with fstat(2) of the descriptor rather
/// than trusting the variable alone, because children inherit it even when their stderr
/// was redirected elsewhere.
enum JournalStream {
    static func connects(descriptor: CInt, variable: String?) -> Bool {
        guard let variable else { return false }
        let parts = variable.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }
}
