import SystemPackage

extension FileDescriptor.OpenOptions {
    /// `O_DIRECT`: transfers bypass the page cache. Glibc only defines the macro under
    /// _GNU_SOURCE, which Swift's import does not set, so the value is spelled out per
    /// architecture, as in the kernel's uapi headers.
    public static var direct: FileDescriptor.OpenOptions {
        #if arch(x86_64) || arch(i386)
        FileDescriptor.OpenOptions(rawValue: 0o40000)
        #elseif arch(arm64) || arch(arm)
        FileDescriptor.OpenOptions(rawValue: 0o200000)
        #else
        #error("O_DIRECT value unknown for this architecture")
        #endif
    }
}
