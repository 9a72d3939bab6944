import CMalloc

/// How the C heap treats large allocations, for a process whose memory must stay bounded.
public enum HeapPolicy {
    /// Above this size an allocation is mapped on its own: glibc's default, which it raises on
    /// its own to the size of any mapped block that is freed.
    public static let largeAllocation: Int32 = 128 << 10

    /// Keeps every allocation of `largeAllocation` or more in a mapping of its own, returned to
    /// the system when freed. Without it, once an install's planning lets its megabytes of
    /// index go, glibc raises its threshold to their size, and the pipeline's buffers that
    /// follow grow the heap instead: the freed pages and the new ones add up (measured: 0.6 MiB
    /// of peak RSS on the `make bench` delta). Process-wide and idempotent.
    public static func mapLargeAllocationsApart() {
        _ = mallopt(M_MMAP_THRESHOLD, largeAllocation)
    }
}
